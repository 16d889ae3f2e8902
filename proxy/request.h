/*
 * request.h
 *	  One HTTP request from its first byte to its log line, and the
 *	  libmicrohttpd callbacks that drive it.
 *
 * Ownership: the URI-log callback allocates the Request, which libmicrohttpd
 * hands back to every later callback; only RequestCompleted frees it.
 */
#ifndef PROXY_REQUEST_H
#define PROXY_REQUEST_H

#include <stdbool.h>
#include <time.h>

#include <microhttpd.h>

#include "errors.h"
#include "params.h"
#include "router.h"
#include "server.h"

typedef struct Request
{
	Server				  *server;
	struct MHD_Connection *connection;
	char				  *uri; /* raw request target, owned */
	char				   method[16];
	char				   request_id[72];
	char			remote_addr[64]; /* the client: the peer, or X-Forwarded-For from a trusted proxy */
	struct timespec started_at;
	bool			began; /* headers were looked at */
	int				route; /* index in the table, -1 when none */
	RouteMatch		match;
	QueryParams		query;
	const char	   *headers[ROUTE_MAX_ARGS]; /* of ARG_HEADER args, owned by MHD */
	/* body */
	char  *body; /* owned, NUL-terminated */
	size_t body_len;
	size_t body_cap;
	size_t body_limit;
	size_t body_seen; /* bytes received, kept or not */
	/* auth: the verified access token's claims */
	bool		has_token;
	char		session_id[64];
	char		user_id[64];
	char		role[32];
	int			rate_remaining; /* of the route's rate class, -1 when none */
	int			retry_after;
	int			rate_limit;	  /* the budget those figures are of */
	bool		preflight;	  /* a CORS preflight (OPTIONS) of a known path */
	const char *content_type; /* of the answer; NULL for application/json */
	const char *csp;		  /* Content-Security-Policy of the answer; NULL for the API's */
	/* outcome */
	bool	 failed; /* error holds the answer */
	ApiError error;
	bool	 answer_now;  /* answered in the first call: a body too big to drain, or bad framing */
	bool	 close;		  /* answer with Connection: close (framing that cannot be trusted) */
	int		 status;	  /* what was sent, for the log */
	char	 sqlstate[6]; /* of a failed call, for the log */
	/* a realtime stream's client until the realtime thread adopts it; freed here otherwise */
	struct RtClient *rt_client;
} Request;

/* libmicrohttpd callbacks; cls is the Server */
extern void			  *RequestUriLog(void *cls, const char *uri, struct MHD_Connection *connection);
extern enum MHD_Result RequestAccess(void *cls, struct MHD_Connection *connection, const char *url,
									 const char *method, const char *version, const char *upload_data,
									 size_t *upload_data_size, void **con_cls);
extern void			   RequestCompleted(void *cls, struct MHD_Connection *connection, void **con_cls,
										enum MHD_RequestTerminationCode toe);

/* Answers with a JSON body; copies body */
extern enum MHD_Result RespondJson(Request *req, int status, const char *body, size_t len);

/* Answers with req->error as the error body */
extern enum MHD_Result RespondError(Request *req);

/*
 * RequestRunSql runs the route's SQL call with values on a pooled
 * connection: one retry for reads when a pooled connection turns out stale.
 * A route of replica_routes goes to the replica (DATABASE_READ_URL) when it
 * is reachable and at most REPLICA_MAX_LAG behind, else to the primary.
 */
extern void RequestRunSql(Request *req, const char *const *values, DbResult *result);

/* Answers with the error of a failed call (DB_ERROR or DB_DOWN) */
extern enum MHD_Result RespondDbFailure(Request *req, const DbResult *result);

/* Queues a response made by a handler, with the common headers (CACHE_NO_STORE) */
extern enum MHD_Result RequestQueue(Request *req, int status, struct MHD_Response *resp);

/* Sets req->error (and req->failed) */
extern void RequestFail(Request *req, int status, const char *code, const char *message);

/* The request's own parsers (pure; fuzzed by tests/fuzz/fuzz_headers.c and fuzz_json_body.c) */

/* Is a client's X-Request-Id short and plain enough to be kept? */
extern bool RequestIdIsSane(const char *id);

/* Writes a random UUID (version 4), the request id of a request without a sane one */
extern void RequestNewId(char *out, size_t size);

/* Is the Content-Type JSON (application/json, optionally ;charset=utf-8)? */
extern bool RequestIsJsonContentType(const char *ct);

/* Is req->body one JSON value without duplicate keys?  Else 400 invalid_json in req->error */
extern bool RequestCheckJsonBody(Request *req);

#endif /* PROXY_REQUEST_H */
