/*
 * realtime.h
 *	  Live events: one listener on the database, fanned out to WebSocket
 *	  (GET /ws) and Server-Sent Events (GET /api/events) clients.
 *
 * One thread owns everything that moves: a dedicated libpq connection
 * that LISTENs on multistore_events, every upgraded WebSocket (non-blocking,
 * framed by wslay), the SSE clients' buffers, the timers (pings, idle peers,
 * heartbeats, the listener's reconnects), all in one epoll set.  HTTP
 * threads only hand clients over (an inbox and an eventfd), and libmicrohttpd
 * reads an SSE client's buffer under that client's lock.
 *
 * Ownership: RealtimeClientNew makes a client for a request; until it is
 * adopted (RealtimeAdoptWebSocket, RealtimeSseResponse) the request owns it
 * and frees it with RealtimeClientFree.  After that the realtime thread does.
 */
#ifndef PROXY_REALTIME_H
#define PROXY_REALTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "realtime_msg.h"

typedef struct RealtimeConfig
{
	const char *database_url;
	int			connect_timeout; /* seconds, for the listener's connection */
	int			ping_interval;	 /* seconds between pings of a WebSocket */
	int			idle_timeout;	 /* seconds without a frame from a peer before it is closed */
	int			sse_heartbeat;	 /* seconds between SSE heartbeat comments */
	int			poll_interval;	 /* milliseconds between reads of the log (stock events are not NOTIFYed) */
	int			max_per_user;	 /* open streams per signed-in user */
	size_t		send_buffer;	 /* bytes queued for one client before it counts as slow */
	size_t		max_message;	 /* bytes of one message from a client */
	const char *cors_origins;	 /* origins whose pages may open a stream (CORS_ORIGINS) */
} RealtimeConfig;

typedef struct RealtimeStats
{
	unsigned ws_clients;
	unsigned sse_clients;
	uint64_t events_received;  /* read from the database */
	uint64_t events_delivered; /* messages sent to clients */
	uint64_t slow_dropped;	   /* clients closed for not reading */
	uint64_t reconnects;	   /* of the listener */
	bool	 listener_up;
} RealtimeStats;

typedef struct Realtime Realtime;
typedef struct RtClient RtClient;

/* Starts the realtime thread; the listener connects in the background */
extern Realtime *RealtimeStart(const RealtimeConfig *config);

/*
 * RealtimeStop closes every WebSocket with 1001 (waiting up to a second for
 * the peers' replies), ends every SSE stream, and stops the thread.  Call
 * before MHD_stop_daemon, which must not find upgraded sockets open.
 */
extern void RealtimeStop(Realtime *rt);
extern void RealtimeDestroy(Realtime *rt);

extern void RealtimeGetStats(Realtime *rt, RealtimeStats *out);

/*
 * RealtimeClientNew makes a client for who, watching stores, resuming after
 * since when has_since.  NULL when who already has max_per_user streams.
 */
extern RtClient *RealtimeClientNew(Realtime *rt, const RtIdentity *who, const RtStores *stores,
								   bool has_since, int64_t since, bool sse);
extern void		 RealtimeClientFree(RtClient *c);

/* Until adoption, *slot (a request's) points at the client; adoption clears it */
extern void RealtimeClientOwnedBy(RtClient *c, RtClient **slot);

/* The libmicrohttpd upgrade handler: cls is the RtClient, which the realtime thread adopts */
extern void RealtimeUpgraded(void *cls, struct MHD_Connection *connection, void *req_cls,
							 const char *extra_in, size_t extra_in_size, MHD_socket sock,
							 struct MHD_UpgradeResponseHandle *urh);

/*
 * RealtimeSseResponse makes the text/event-stream response that streams
 * the client's events; the client is adopted (even when NULL is returned).
 */
extern struct MHD_Response *RealtimeSseResponse(RtClient *c, struct MHD_Connection *connection);

#endif /* PROXY_REALTIME_H */
