/*
 * handlers.h
 *	  Routes the proxy answers itself rather than passing a body through.
 */
#ifndef PROXY_HANDLERS_H
#define PROXY_HANDLERS_H

struct Request;

/* GET /health: 200 {status,db,version,extensionVersion}, 503 when the database is down */
extern int HandleHealth(struct Request *req, const char *const *values);

/*
 * register, login, refresh-token: the SQL call opens or rotates a session;
 * this mints the access token for it and answers
 * {user, accessToken, refreshToken, refreshTokenExpiresAt, expiresIn, tokenType}.
 */
extern int HandleSessionTokens(struct Request *req, const char *const *values);

/* GET /metrics: the Prometheus text format; METRICS_ALLOW limits who may read it */
extern int HandleMetrics(struct Request *req, const char *const *values);

/* GET /openapi.json: the document built into the binary (docs.c) */
extern int HandleOpenApi(struct Request *req, const char *const *values);

/* GET /docs and GET /docs/{file}: Swagger UI over that document */
extern int HandleDocsPage(struct Request *req, const char *const *values);
extern int HandleDocsAsset(struct Request *req, const char *const *values);

/* GET /ws and GET /api/events: realtime streams (handlers_realtime.c) */
extern int HandleRealtimeWs(struct Request *req, const char *const *values);
extern int HandleRealtimeEvents(struct Request *req, const char *const *values);

#endif /* PROXY_HANDLERS_H */
