/*
 * request.c
 *	  The life of a request: route, check, read the body, call the
 *	  database, answer, log.
 *
 * libmicrohttpd calls RequestAccess first with the headers only, then once
 * per chunk of body, then once more to answer.  Everything that can be
 * refused from the headers (404, 405, 401, 413, 415) is decided in the first
 * call, before any body is read; the router checks in that fixed order.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>

#include <openssl/rand.h>

#include "edge.h"
#include "framing.h"
#include "jwt.h"
#include "signature.h"
#include "log.h"
#include "realtime.h"
#include "request.h"

/* A refused body up to this size is read and dropped so the client sees the answer */
#define DRAIN_LIMIT (8 * 1024 * 1024)

/* How long a request may wait for a free database connection */
#define POOL_WAIT_MS 5000

static const char *const cache_headers[] = {
	[CACHE_NO_STORE] = "private, no-store",
	[CACHE_PUBLIC_SHORT] = "public, max-age=30, stale-while-revalidate=60",
};

/* A client's X-Request-Id is kept only when it is short and plain */
bool
RequestIdIsSane(const char *id)
{
	size_t len = id ? strlen(id) : 0;

	if (len == 0 || len > 64)
		return false;
	for (const char *p = id; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			  strchr("-_.:", *p)))
			return false;
	}
	return true;
}

/*
 * Request ids must be unique, not secret: each thread draws them from its
 * own xorshift128+ generator, seeded once from OpenSSL, which keeps
 * RAND_bytes (and its lock) off the path of every request.
 */
static _Thread_local uint64_t id_state[2];

static uint64_t
NextRandom(void)
{
	uint64_t s1 = id_state[0];
	uint64_t s0 = id_state[1];

	if ((s0 | s1) == 0)
	{
		if (RAND_bytes((unsigned char *) id_state, sizeof(id_state)) != 1 || (id_state[0] | id_state[1]) == 0)
			id_state[0] = (uint64_t) time(NULL) | 1;
		s1 = id_state[0];
		s0 = id_state[1];
	}
	id_state[0] = s0;
	s1 ^= s1 << 23;
	id_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return id_state[1] + s0;
}

/* A random UUID (version 4) as the request id */
void
RequestNewId(char *out, size_t size)
{
	unsigned char b[16];
	uint64_t	  r[2] = {NextRandom(), NextRandom()};

	memcpy(b, r, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
			 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void *
RequestUriLog(void *cls, const char *uri, struct MHD_Connection *connection)
{
	Server	*server = cls;
	Request *req = calloc(1, sizeof(Request));

	req->server = server;
	req->connection = connection;
	req->uri = strdup(uri ? uri : "");
	req->route = -1;
	req->rate_remaining = -1;
	clock_gettime(CLOCK_MONOTONIC, &req->started_at);
	atomic_fetch_add(&server->active_requests, 1);
	return req;
}

void
RequestFail(Request *req, int status, const char *code, const char *message)
{
	ErrorSet(&req->error, status, code, message);
	req->failed = true;
}

/* The IETF RateLimit headers, on answers of rate-limited routes */
static void
AddRateHeaders(Request *req, struct MHD_Response *resp)
{
	char value[96];

	if (req->rate_remaining < 0)
		return;
	snprintf(value, sizeof(value), "%d;w=60", req->rate_limit);
	MHD_add_response_header(resp, "RateLimit-Policy", value);
	snprintf(value, sizeof(value), "limit=%d, remaining=%d, reset=%d", req->rate_limit, req->rate_remaining,
			 req->retry_after);
	MHD_add_response_header(resp, "RateLimit", value);
}

/* What a browser may read of a cross-origin answer, and send in a preflighted request */
#define CORS_EXPOSE	 "X-Request-Id, RateLimit, RateLimit-Policy, Retry-After, ETag, Idempotent-Replayed"
#define CORS_HEADERS "Authorization, Content-Type, Idempotency-Key, X-Request-Id, If-None-Match"

/*
 * The headers of every answer: helmet's defaults where they apply to a
 * JSON API, and CORS for an allowed Origin (a disallowed one gets none).
 */
static void
AddHeaders(Request *req, struct MHD_Response *resp, int status, CachePolicy cache)
{
	const Config *config = &req->server->config;
	const char	 *origin = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Origin");

	if (status != 304 && status != 204)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
								req->content_type ? req->content_type : "application/json");
	MHD_add_response_header(resp, "X-Request-Id", req->request_id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_headers[cache]);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy",
							req->csp ? req->csp : "default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Permitted-Cross-Domain-Policies", "none");
	if (config->hsts)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
	if (req->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	/* the answer depends on these request headers: caches must key on them */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin, Accept-Encoding");
	if (EdgeCorsAllows(config->cors_origins, origin))
	{
		bool any = strcmp(config->cors_origins, "*") == 0;

		/* "*" is for anyone and so never with credentials; an exact origin is echoed */
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", any ? "*" : origin);
		MHD_add_response_header(resp, "Access-Control-Expose-Headers", CORS_EXPOSE);
		if (req->preflight)
		{
			char methods[96];

			snprintf(methods, sizeof(methods), "%s, OPTIONS", req->match.allow);
			MHD_add_response_header(resp, "Access-Control-Allow-Methods", methods);
			MHD_add_response_header(resp, "Access-Control-Allow-Headers", CORS_HEADERS);
			MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
		}
	}
}

/* Queues resp with status and the common headers, and lets go of it */
static enum MHD_Result
Queue(Request *req, int status, struct MHD_Response *resp, CachePolicy cache)
{
	enum MHD_Result ret;

	AddHeaders(req, resp, status, cache);
	req->status = status;
	ret = MHD_queue_response(req->connection, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
RequestQueue(Request *req, int status, struct MHD_Response *resp)
{
	return Queue(req, status, resp, CACHE_NO_STORE);
}

/*
 * NewResponse makes the response for a body: gzip when the client takes it
 * and the body is big enough to gain; on a public read, a strong ETag, and
 * 304 with no body when If-None-Match already names it (*status changes).
 */
static struct MHD_Response *
NewResponse(Request *req, int *status, const char *body, size_t len, CachePolicy cache)
{
	struct MHD_Connection *c = req->connection;
	struct MHD_Response	  *resp;
	char				  *zipped = NULL;
	size_t				   zipped_len = 0;
	bool				   gzip = len >= EDGE_GZIP_MIN_BYTES &&
				EdgeAcceptsGzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding")) &&
				EdgeGzip(body, len, &zipped, &zipped_len);
	char etag[EDGE_ETAG_SIZE] = "";

	if (cache == CACHE_PUBLIC_SHORT && *status == 200)
	{
		const char *none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");

		EdgeEtag(body, len, gzip, etag);
		if (none_match && EdgeNoneMatch(none_match, etag))
		{
			free(zipped);
			*status = 304;
			resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
			return resp;
		}
	}
	if (gzip)
	{
		resp = MHD_create_response_from_buffer_with_free_callback(zipped_len, zipped, free);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	}
	else
		resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	return resp;
}

enum MHD_Result
RespondJson(Request *req, int status, const char *body, size_t len)
{
	CachePolicy			 cache = CACHE_NO_STORE;
	struct MHD_Response *resp;

	if (status < 300 && req->route >= 0)
		cache = req->server->routes[req->route].cache;
	resp = NewResponse(req, &status, body, len, cache);
	AddRateHeaders(req, resp);
	return Queue(req, status, resp, cache);
}

enum MHD_Result
RespondError(Request *req)
{
	char				*body = ErrorBody(&req->error, req->request_id);
	int					 status = req->error.status;
	struct MHD_Response *resp;

	/* out of memory, at worst: still an answer in the error shape */
	if (body == NULL)
		body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"internal error\",\"details\":{}},"
					  "\"requestId\":\"\"}");
	resp = NewResponse(req, &status, body, body ? strlen(body) : 0, CACHE_NO_STORE);
	free(body);
	if (req->error.status == 405 && req->match.allow[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->match.allow);
	if (req->error.retry_after > 0)
	{
		char seconds[16];

		snprintf(seconds, sizeof(seconds), "%d", req->error.retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
	}
	if (req->error.status == 401)
	{
		/* RFC 6750: error="invalid_token" only when a token was the trouble */
		bool bad_token =
			strcmp(req->error.code, "invalid_token") == 0 || strcmp(req->error.code, "token_expired") == 0;

		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
								bad_token ? "Bearer realm=\"multistore\", error=\"invalid_token\""
										  : "Bearer realm=\"multistore\"");
	}
	AddRateHeaders(req, resp);
	return Queue(req, status, resp, CACHE_NO_STORE);
}

/* A CORS preflight: 204 with what the path allows */
static enum MHD_Result
RespondPreflight(Request *req)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	char				 allow[96];

	snprintf(allow, sizeof(allow), "%s, OPTIONS", req->match.allow);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return Queue(req, 204, resp, CACHE_NO_STORE);
}

static enum MHD_Result
CollectQuery(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
			 size_t value_size)
{
	(void) kind;
	(void) key_size;
	QueryAdd((QueryParams *) cls, key, value, value ? value_size : 0);
	return MHD_YES;
}

/* Hands each request header to the framing check */
static enum MHD_Result
CollectFraming(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
			   size_t value_size)
{
	(void) kind;
	FramingAdd((Framing *) cls, key, key_size, value, value ? value_size : 0);
	return MHD_YES;
}

/*
 * CheckFraming refuses, with 400 and a close, a request whose end cannot be
 * told for sure (proxy/framing.c): what follows it on the connection could
 * be read as another request.  Answered at once, before any body is read.
 */
static bool
CheckFraming(Request *req, const char *version)
{
	Framing		framing;
	const char *why;

	FramingInit(&framing);
	MHD_get_connection_values_n(req->connection, MHD_HEADER_KIND, CollectFraming, &framing);
	why = FramingVerdict(&framing, version);
	if (why == NULL)
		return true;
	RequestFail(req, 400, "bad_request", why);
	req->close = true;
	req->answer_now = true;
	return false;
}

/* Is the Content-Type JSON (application/json, optionally ;charset=utf-8)? */
bool
RequestIsJsonContentType(const char *ct)
{
	const char *p;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		return false;
	p = ct + 16;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	p++;
	while (*p == ' ')
		p++;
	return strncasecmp(p, "charset=utf-8", 13) == 0 && p[13 + strspn(p + 13, " ")] == '\0';
}

static bool
RouteTakesBody(const Route *route)
{
	for (const RouteArg *a = route->args; a->source != ARG_NONE; a++)
		if (a->source == ARG_BODY)
			return true;
	return false;
}

/* Does the request announce a body? */
static bool
HasBody(struct MHD_Connection *c, size_t *declared)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	*declared = cl ? (size_t) strtoull(cl, NULL, 10) : 0;
	return (cl && *declared > 0) || te != NULL;
}

/* Seconds on the monotonic clock, for rate limits */
static double
MonotonicSeconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Spends a token of key's bucket in the route's class: 429 when none is left */
static void
TakeToken(Request *req, const Route *route, const char *key)
{
	RateLimiter *limiter = req->server->limiters[route->rate];
	int			 retry_after, remaining;

	if (limiter == NULL || req->failed)
		return;
	if (!RateLimitTake(limiter, key, MonotonicSeconds(), &retry_after, &remaining))
	{
		RequestFail(req, 429, "rate_limited",
					route->rate == RATE_AUTH ? "too many attempts from this address; retry later"
											 : "too many requests; retry later");
		req->error.retry_after = retry_after;
		MetricsRecordRateLimited(req->server->metrics, (int) route->rate);
	}
	/* the headers show the tighter of the client's buckets */
	if (req->rate_remaining < 0 || remaining < req->rate_remaining)
	{
		req->rate_remaining = remaining;
		req->retry_after = retry_after;
		req->rate_limit = limiter->per_minute;
	}
}

/* The client address's bucket of the route's class */
static void
CheckRateLimit(Request *req, const Route *route)
{
	char key[80];

	req->rate_remaining = -1;
	if (route->rate == RATE_NONE)
		return;
	snprintf(key, sizeof(key), "ip:%s", req->remote_addr);
	TakeToken(req, route, key);
}

/* And the caller's own, once the token says who it is: many users share an address */
static void
CheckUserRateLimit(Request *req, const Route *route)
{
	char key[80];

	if (route->rate != RATE_READ && route->rate != RATE_WRITE)
		return;
	snprintf(key, sizeof(key), "user:%s", req->user_id);
	TakeToken(req, route, key);
}

static void CheckStrapiSecret(Request *req);

/*
 * CheckToken verifies "Authorization: Bearer <jwt>" and the role the route
 * needs: 401 unauthorized without a token, invalid_token or token_expired
 * for a bad one, 403 forbidden for the wrong role.  The SQL call checks the
 * session and the role again, from the database.
 */
static void
CheckToken(Request *req, const Route *route)
{
	const char *header =
		MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	JwtClaims		claims;
	const char	   *why = NULL;
	struct timespec now;

	if (header == NULL)
	{
		RequestFail(req, 401, "unauthorized", "this route needs an access token");
		return;
	}
	req->has_token = true;
	if (strncasecmp(header, "Bearer ", 7) != 0)
	{
		RequestFail(req, 401, "invalid_token", "the Authorization header must be \"Bearer <access token>\"");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	switch (JwtVerify(&req->server->jwt, header + 7, (long long) now.tv_sec, &claims, &why))
	{
		case JWT_OK:
			break;
		case JWT_EXPIRED:
			RequestFail(req, 401, "token_expired", "the access token has expired; refresh it");
			return;
		case JWT_INVALID:
			RequestFail(req, 401, "invalid_token", "the access token is not valid");
			if (LogEnabled(LOG_DEBUG))
				LogWrite(LOG_DEBUG, "token refused",
						 json_pack("{s:s,s:s}", "requestId", req->request_id, "reason", why ? why : ""));
			return;
	}
	snprintf(req->session_id, sizeof(req->session_id), "%s", claims.sid);
	snprintf(req->user_id, sizeof(req->user_id), "%s", claims.sub);
	snprintf(req->role, sizeof(req->role), "%s", claims.role);
	if ((route->access == ACCESS_ADMIN && strcmp(claims.role, "admin") != 0) ||
		(route->access == ACCESS_MANAGER && strcmp(claims.role, "admin") != 0 &&
		 strcmp(claims.role, "store_manager") != 0))
		RequestFail(req, 403, "forbidden", "your role may not do this");
}

/*
 * Begin looks at the headers: request id, framing (400), route (404/405),
 * token (401/403), body (413/415).  A refusal is answered at once when
 * there is no body, or after draining a body small enough to read, so the
 * client always sees it; bad framing is answered at once, and closes.
 */
static void
Begin(Request *req, const char *url, const char *method, const char *version)
{
	Server				  *server = req->server;
	struct MHD_Connection *c = req->connection;
	const char			  *client_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const Route					   *route;
	size_t							declared = 0;
	bool							has_body = HasBody(c, &declared);
	const char					   *nul = strcasestr(req->uri, "%00");
	char							peer[64] = "";

	req->began = true;
	snprintf(req->method, sizeof(req->method), "%s", method);
	if (RequestIdIsSane(client_id))
		snprintf(req->request_id, sizeof(req->request_id), "%s", client_id);
	else
		RequestNewId(req->request_id, sizeof(req->request_id));
	if (info && info->client_addr && info->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) info->client_addr)->sin_addr, peer, sizeof(peer));
	else if (info && info->client_addr && info->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) info->client_addr)->sin6_addr, peer,
				  sizeof(peer));
	EdgeClientAddress(peer, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For"),
					  server->config.trusted_proxies, req->remote_addr, sizeof(req->remote_addr));

	req->body_limit = server->config.max_body_bytes;
	if (!CheckFraming(req, version))
		return;

	/* a NUL smuggled into the path as %00 would cut it short: refuse it */
	if (nul != NULL && (size_t) (nul - req->uri) < strcspn(req->uri, "?"))
		RequestFail(req, 404, "not_found", "no such route");
	else
	{
		switch (RouterMatch(server->routes, server->nroutes, method, url, &req->match))
		{
			case MATCH_NO_PATH:
				RequestFail(req, 404, "not_found", "no such route");
				break;
			case MATCH_NO_METHOD:
				/* OPTIONS on a known path is a CORS preflight, answered from the table */
				if (strcmp(method, "OPTIONS") == 0)
					req->preflight = true;
				else
					RequestFail(req, 405, "method_not_allowed", "this route does not take that method");
				break;
			case MATCH_OK:
				req->route = req->match.route;
				break;
		}
	}

	if (!req->failed && !req->preflight)
	{
		route = &server->routes[req->route];
		if (route->body_limit)
			req->body_limit = route->body_limit;
		CheckRateLimit(req, route);
		if (!req->failed && route->access == ACCESS_PAYMENT)
		{
			if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Multistore-Signature") == NULL)
				RequestFail(req, 401, "invalid_signature", "the Multistore-Signature header is missing");
		}
		else if (!req->failed && route->access == ACCESS_STRAPI)
			CheckStrapiSecret(req);
		else if (!req->failed && route->access == ACCESS_REALTIME)
		{
			/* a token when one is sent; else a ticket or nothing (the SQL call decides) */
			if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) != NULL)
				CheckToken(req, route);
		}
		else if (!req->failed && route->access != ACCESS_PUBLIC)
		{
			CheckToken(req, route);
			if (!req->failed)
				CheckUserRateLimit(req, route);
		}
		for (int i = 0; i < ROUTE_MAX_ARGS && route->args[i].source != ARG_NONE; i++)
			if (route->args[i].source == ARG_HEADER)
				req->headers[i] = MHD_lookup_connection_value(c, MHD_HEADER_KIND, route->args[i].name);
		if (!req->failed && declared > req->body_limit)
			RequestFail(req, 413, "payload_too_large", "the request body is too large");
		else if (!req->failed && has_body && RouteTakesBody(route) &&
				 !RequestIsJsonContentType(
					 MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
			RequestFail(req, 415, "unsupported_media_type", "the request body must be application/json");
	}

	if (!req->failed)
		MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, CollectQuery, &req->query);

	/*
	 * A refusal is answered in the last call, after any body of a size worth
	 * reading was dropped, which keeps the connection alive and lets the
	 * client read the answer; only a huge body gets it at once, and a close.
	 */
	req->answer_now = req->failed && has_body && declared > DRAIN_LIMIT;
}

/* Keeps a chunk of body, or drops it once the request is refused */
static bool
TakeBody(Request *req, const char *data, size_t size)
{
	struct timespec now;

	req->body_seen += size;
	/* a slow client dripping a body holds a connection: BODY_TIMEOUT ends that */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - req->started_at.tv_sec > req->server->config.body_timeout)
	{
		LogWrite(LOG_WARN, "request body too slow",
				 json_pack("{s:s,s:s}", "requestId", req->request_id, "remoteAddr", req->remote_addr));
		return false;
	}
	if (req->failed)
		return req->body_seen <= DRAIN_LIMIT;
	if (req->body_seen > req->body_limit)
	{
		RequestFail(req, 413, "payload_too_large", "the request body is too large");
		free(req->body);
		req->body = NULL;
		req->body_len = 0;
		return true;
	}
	if (req->body_len + size + 1 > req->body_cap)
	{
		size_t cap = req->body_cap ? req->body_cap * 2 : 4096;

		while (cap < req->body_len + size + 1)
			cap *= 2;
		req->body = realloc(req->body, cap);
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, size);
	req->body_len += size;
	req->body[req->body_len] = '\0';
	return true;
}

/* Checks that the body is one JSON value with no duplicate keys */
bool
RequestCheckJsonBody(Request *req)
{
	json_error_t error;
	json_t		*doc;

	if (req->body_len == 0)
	{
		RequestFail(req, 400, "invalid_json", "the request body is empty; send a JSON object");
		return false;
	}
	doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &error);
	if (doc == NULL)
	{
		char  msg[256];
		char *near = strstr(error.text, " near '");

		/*
		 * jansson quotes the body near the error, and the quote can stop
		 * inside a character (a bad escape, then half of one): the message
		 * is JSON text, so keep only the reason then.
		 */
		if (near != NULL && !Utf8IsValid(error.text, strlen(error.text)))
			*near = '\0';
		snprintf(msg, sizeof(msg), "the request body is not valid JSON: %s at line %d column %d",
				 Utf8IsValid(error.text, strlen(error.text)) ? error.text : "malformed text", error.line,
				 error.column);
		RequestFail(req, 400, "invalid_json", msg);
		return false;
	}
	json_decref(doc);
	return true;
}

/* Turns a failed database call into the answer */
static void
FailFromResult(Request *req, const DbResult *r)
{
	const char *state = r->result ? PQresultErrorField(r->result, PG_DIAG_SQLSTATE) : NULL;

	if (state)
		snprintf(req->sqlstate, sizeof(req->sqlstate), "%s", state);
	/* refusals of the rules (M4xxx) are answers, not database errors */
	if (state == NULL || state[0] != 'M')
		MetricsRecordDbError(req->server->metrics, state);
	ErrorFromDatabase(
		&req->error, state, r->result ? PQresultErrorField(r->result, PG_DIAG_MESSAGE_PRIMARY) : NULL,
		r->result ? PQresultErrorField(r->result, PG_DIAG_MESSAGE_DETAIL) : NULL, req->has_token);
	req->failed = true;
	if (req->error.status >= 500)
	{
		const char *msg = r->result ? PQresultErrorField(r->result, PG_DIAG_MESSAGE_PRIMARY) : NULL;

		/* what went wrong goes to the log, never to the client */
		LogWrite(LOG_ERROR, "database call failed",
				 json_pack("{s:s,s:s?,s:s?}", "requestId", req->request_id, "sqlstate", state, "error", msg));
	}
}

/* How often the replica's lag is measured, and how long a read waits for a replica connection */
#define REPLICA_CHECK_MS 1000
#define REPLICA_WAIT_MS	 200

/*
 * ReplicaMayServe says whether the replica may answer now: reachable and
 * at most REPLICA_MAX_LAG behind.  The lag is measured at most once a
 * second, by whichever request finds the measure stale (on conn, a replica
 * connection it holds); the others use the last measure.  Counts why not.
 */
static bool
ReplicaMayServe(Server *server, DbConn *conn)
{
	DbPool *replica = server->replica;
	int64_t now = DbNowMs();
	int64_t checked = atomic_load(&replica->lag_checked_ms);
	int64_t lag;

	if (now - checked >= REPLICA_CHECK_MS &&
		atomic_compare_exchange_strong(&replica->lag_checked_ms, &checked, now))
		lag = DbMeasureLag(replica, conn);
	else
		lag = atomic_load(&replica->lag_ms);
	if (lag == DB_LAG_UNKNOWN)
	{
		MetricsRecordReplicaFallback(server->metrics, REPLICA_DOWN);
		return false;
	}
	if (lag > (int64_t) server->config.replica_max_lag * 1000)
	{
		MetricsRecordReplicaFallback(server->metrics, REPLICA_LAG);
		return false;
	}
	return true;
}

/*
 * RunOnReplica answers a read of replica_routes from the replica when it
 * may; false (result cleared) when the read must go to the primary.
 */
static bool
RunOnReplica(Request *req, const char *const *values, DbResult *result)
{
	Server *server = req->server;
	DbConn *conn = DbAcquire(server->replica, REPLICA_WAIT_MS);

	if (conn == NULL)
	{
		MetricsRecordReplicaFallback(server->metrics, REPLICA_BUSY);
		return false;
	}
	if (!ReplicaMayServe(server, conn))
	{
		DbRelease(server->replica, conn);
		return false;
	}
	DbCall(server->replica, conn, req->route, values, result);
	if (result->status == DB_DOWN && !result->reconnected)
		DbCall(server->replica, conn, req->route, values, result);
	DbRelease(server->replica, conn);
	if (result->status == DB_DOWN)
	{
		/* gone since the last measure: the next one is due now */
		atomic_store(&server->replica->lag_ms, DB_LAG_UNKNOWN);
		atomic_store(&server->replica->lag_checked_ms, 0);
		MetricsRecordReplicaFallback(server->metrics, REPLICA_DOWN);
		DbResultClear(result);
		return false;
	}
	if (result->status == DB_ERROR && result->result)
	{
		const char *state = PQresultErrorField(result->result, PG_DIAG_SQLSTATE);

		/* cancelled by replay (40001), or a standby refusing a write (25006): the primary answers */
		if (state && (strcmp(state, "40001") == 0 || strcmp(state, "25006") == 0))
		{
			MetricsRecordReplicaFallback(server->metrics, REPLICA_CONFLICT);
			DbResultClear(result);
			return false;
		}
	}
	MetricsRecordReplicaRead(server->metrics);
	return true;
}

void
RequestRunSql(Request *req, const char *const *values, DbResult *result)
{
	Server *server = req->server;
	DbConn *conn;

	if (server->replica && server->compiled[req->route].replica && RunOnReplica(req, values, result))
		return;
	conn = DbAcquire(server->pool, POOL_WAIT_MS);
	if (conn == NULL)
	{
		memset(result, 0, sizeof(*result));
		result->status = DB_BUSY;
		return;
	}
	DbCall(server->pool, conn, req->route, values, result);
	/* a stale pooled connection (the database restarted) gets one fresh try for reads */
	if (result->status == DB_DOWN && !result->reconnected &&
		strcmp(server->routes[req->route].method, "GET") == 0)
		DbCall(server->pool, conn, req->route, values, result);
	DbRelease(server->pool, conn);
}

enum MHD_Result
RespondDbFailure(Request *req, const DbResult *result)
{
	switch (result->status)
	{
		case DB_BUSY:
			RequestFail(req, 503, "unavailable", "the service is busy; retry shortly");
			req->error.retry_after = 1;
			break;
		case DB_DOWN:
			MetricsRecordDbError(req->server->metrics, NULL);
			RequestFail(req, 503, "unavailable", "the database is unreachable; retry shortly");
			req->error.retry_after = 1;
			break;
		default:
			FailFromResult(req, result);
			break;
	}
	return RespondError(req);
}

/*
 * RespondDecided answers for a function that decides its own status, a row
 * (status, body, replayed): an idempotent replay gets Idempotent-Replayed,
 * and an error body gets this request's id.
 */
static enum MHD_Result
RespondDecided(Request *req, PGresult *res)
{
	int					 status = atoi(PQgetvalue(res, 0, 0));
	const char			*body = PQgetvalue(res, 0, 1);
	bool				 replayed = PQgetvalue(res, 0, 2)[0] == 't';
	char				*text = NULL;
	struct MHD_Response *resp;

	if (status < 200 || status > 599)
	{
		RequestFail(req, 500, "internal", "internal error");
		return RespondError(req);
	}
	if (status >= 400)
	{
		json_t *doc = json_loads(body, 0, NULL);
		json_t *error = json_object_get(doc, "error");

		json_object_set_new(doc, "requestId", json_string(req->request_id));
		text = json_dumps(doc, JSON_COMPACT);
		if (json_is_object(error))
			snprintf(req->error.code, sizeof(req->error.code), "%s",
					 json_string_value(json_object_get(error, "code"))
						 ? json_string_value(json_object_get(error, "code"))
						 : "");
		json_decref(doc);
	}
	resp = NewResponse(req, &status, text ? text : body, strlen(text ? text : body), CACHE_NO_STORE);
	free(text);
	if (replayed)
		MHD_add_response_header(resp, "Idempotent-Replayed", "true");
	return Queue(req, status, resp, CACHE_NO_STORE);
}

/*
 * CheckStrapiSecret: Strapi signs nothing, it sends the header configured in
 * its admin, Authorization: Bearer STRAPI_WEBHOOK_SECRET.  Checked before
 * the body is read; 401 unauthorized when missing or wrong, 503 when no
 * secret is set.
 */
static void
CheckStrapiSecret(Request *req)
{
	const char *secret = req->server->config.strapi_webhook_secret;

	if (secret == NULL)
	{
		RequestFail(req, 503, "unavailable",
					"the Strapi webhooks are not configured (STRAPI_WEBHOOK_SECRET)");
		return;
	}
	switch (BearerSecretVerify(
		MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), secret))
	{
		case BEARER_OK:
			return;
		case BEARER_MISSING:
			RequestFail(req, 401, "unauthorized",
						"the Authorization header is missing: set it in Strapi's webhook to Bearer <secret>");
			return;
		case BEARER_MALFORMED:
			RequestFail(req, 401, "unauthorized", "the Authorization header must be Bearer <secret>");
			return;
		case BEARER_MISMATCH:
			RequestFail(req, 401, "unauthorized", "the webhook secret does not match");
			return;
	}
}

/*
 * CheckPaymentSignature verifies Multistore-Signature over the raw body
 * with PAYMENT_WEBHOOK_SECRET: 401 invalid_signature when it is missing,
 * malformed, stale (over 5 minutes) or wrong; 503 when no secret is set.
 */
static bool
CheckPaymentSignature(Request *req)
{
	const char *secret = req->server->config.payment_webhook_secret;
	const char *header =
		MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Multistore-Signature");
	struct timespec now;

	if (secret == NULL)
	{
		RequestFail(req, 503, "unavailable",
					"the payment webhook is not configured (PAYMENT_WEBHOOK_SECRET)");
		return false;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	switch (
		SignatureVerify(header, secret, req->body ? req->body : "", req->body_len, (long long) now.tv_sec))
	{
		case SIGNATURE_OK:
			return true;
		case SIGNATURE_STALE:
			RequestFail(req, 401, "invalid_signature",
						"the signature's timestamp is outside the 5-minute window");
			return false;
		case SIGNATURE_MALFORMED:
			RequestFail(req, 401, "invalid_signature",
						"Multistore-Signature must be t=<unix seconds>,v1=<hex HMAC-SHA256>");
			return false;
		case SIGNATURE_MISMATCH:
			RequestFail(req, 401, "invalid_signature", "the signature does not match the body");
			return false;
	}
	return false;
}

/* Binds the arguments, then runs the route's handler or SQL call and answers */
static enum MHD_Result
Dispatch(Request *req)
{
	Server		   *server = req->server;
	const Route	   *route = &server->routes[req->route];
	const char	   *values[ROUTE_MAX_ARGS];
	DbResult		result;
	enum MHD_Result ret;

	/* a signed route authenticates its caller before anything reads the body */
	if (route->access == ACCESS_PAYMENT && !CheckPaymentSignature(req))
		return RespondError(req);
	if (RouteTakesBody(route) && !RequestCheckJsonBody(req))
		return RespondError(req);
	if (!ParamsBind(route, &req->match, &req->query, req->body, req->session_id[0] ? req->session_id : NULL,
					req->headers, values, &req->error))
	{
		req->failed = true;
		return RespondError(req);
	}
	if (route->handler)
		return (enum MHD_Result) route->handler(req, values);

	RequestRunSql(req, values, &result);
	if (result.status != DB_OK)
		ret = RespondDbFailure(req, &result);
	else if (PQnfields(result.result) == 3)
		ret = RespondDecided(req, result.result);
	else if (route->status == 204)
		ret = RespondJson(req, 204, "", 0);
	else
		ret = RespondJson(req, route->status, PQgetvalue(result.result, 0, 0),
						  (size_t) PQgetlength(result.result, 0, 0));
	DbResultClear(&result);
	return ret;
}

enum MHD_Result
RequestAccess(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
			  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	Request *req = *con_cls;

	(void) cls;
	(void) connection;
	if (req == NULL)
		return MHD_NO;

	if (!req->began)
	{
		Begin(req, url, method, version);
		if (req->answer_now)
			return RespondError(req);
		return MHD_YES;
	}

	if (*upload_data_size > 0)
	{
		bool keep_going = TakeBody(req, upload_data, *upload_data_size);

		*upload_data_size = 0;
		return keep_going ? MHD_YES : MHD_NO;
	}

	if (req->failed)
		return RespondError(req);
	if (req->preflight)
		return RespondPreflight(req);
	return Dispatch(req);
}

void
RequestCompleted(void *cls, struct MHD_Connection *connection, void **con_cls,
				 enum MHD_RequestTerminationCode toe)
{
	Server		   *server = cls;
	Request		   *req = *con_cls;
	struct timespec now;
	double			ms;
	char			path[512];

	(void) connection;
	if (req == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double) (now.tv_sec - req->started_at.tv_sec) * 1000.0 +
		 (double) (now.tv_nsec - req->started_at.tv_nsec) / 1e6;
	if (req->began && req->status > 0)
		MetricsRecordRequest(server->metrics, req->route, req->method, req->status, ms / 1000.0);

	if (req->began && LogEnabled(LOG_INFO))
	{
		/* the path without the query, which may carry tickets */
		snprintf(path, sizeof(path), "%.*s", (int) strcspn(req->uri, "?"), req->uri);
		LogWrite(LOG_INFO, "request",
				 json_pack("{s:s,s:s,s:s,s:s?,s:i,s:f,s:s,s:s?,s:s?,s:b}", "requestId", req->request_id,
						   "method", req->method, "path",
						   Utf8IsValid(path, strlen(path)) ? path : "(invalid utf-8)", "route",
						   req->route >= 0 ? server->routes[req->route].pattern : NULL, "status", req->status,
						   "durationMs", ms, "remoteAddr", req->remote_addr, "userId",
						   req->user_id[0] ? req->user_id : NULL, "sqlstate",
						   req->sqlstate[0] ? req->sqlstate : NULL, "completed",
						   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK));
	}

	RealtimeClientFree(req->rt_client);
	ErrorClear(&req->error);
	QueryFree(&req->query);
	free(req->body);
	free(req->uri);
	free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&server->active_requests, 1);
}
