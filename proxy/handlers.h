/*
 * handlers.h
 *	  Routes the proxy answers itself rather than passing a body through.
 */
#ifndef PROXY_HANDLERS_H
#define PROXY_HANDLERS_H

struct Request;

/* GET /health: 200 {status,db,version,extensionVersion}, 503 when the database is down */
extern int HandleHealth(struct Request *req);

#endif							/* PROXY_HANDLERS_H */
