/*
 * routes.h
 *	  The shape of the route table: how a REST route becomes a SQL call.
 *
 * Each route names the SQL function it calls and where each of the
 * function's named arguments comes from (a path segment, a query parameter,
 * the JSON body, a header, the caller's session).  At start-up RoutesCompile
 * turns each route into one parameterised statement, e.g.
 *	  SELECT * FROM multistore.store_get(store_id => $1)
 * A function returns the response body (json), or a row (status, body,
 * replayed) when it decides the status itself (idempotent replays).
 * SQL text only ever comes from this table, never from a request.
 */
#ifndef PROXY_ROUTES_H
#define PROXY_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX_ARGS	   8
#define ROUTE_MAX_SEGMENTS 8

typedef enum Access
{
	ACCESS_PUBLIC,	/* anyone */
	ACCESS_USER,	/* any valid access token */
	ACCESS_ADMIN,	/* token with role admin (the SQL call checks again) */
	ACCESS_MANAGER, /* token with role store_manager or admin */
	ACCESS_PAYMENT, /* no token: a Multistore-Signature over the body */
	ACCESS_STRAPI,	/* no token: Authorization: Bearer STRAPI_WEBHOOK_SECRET */
	ACCESS_REALTIME /* a token when there is one; else the SQL call decides (a ticket, or stores to watch) */
} Access;

typedef enum ArgSource
{
	ARG_NONE = 0, /* end of the list */
	ARG_PATH,	  /* a {param} of the pattern */
	ARG_QUERY,	  /* a query-string parameter */
	ARG_BODY,	  /* the whole JSON body */
	ARG_SESSION,  /* the caller's session id (token "sid") */
	ARG_HEADER	  /* a request header, e.g. Idempotency-Key */
} ArgSource;

typedef enum ArgType
{
	TYPE_TEXT, /* any text up to 1024 bytes */
	TYPE_ID,   /* store/product id: [A-Za-z0-9_.:-]{1,64} */
	TYPE_UUID,
	TYPE_NUMBER, /* decimal number */
	TYPE_INTEGER,
	TYPE_LIST, /* comma-separated, passed as text[] */
	TYPE_JSON
} ArgType;

typedef struct RouteArg
{
	ArgSource	source;
	const char *name;	  /* path param or query param as the client writes it */
	const char *sql_name; /* the SQL function's argument */
	ArgType		type;
	bool		required;
} RouteArg;

typedef enum CachePolicy
{
	CACHE_NO_STORE,	   /* private, no-store: user data and writes */
	CACHE_PUBLIC_SHORT /* public read: max-age=30, stale-while-revalidate=60 */
} CachePolicy;

typedef enum RateClass
{
	RATE_NONE, /* exempt: health, metrics, signed webhooks */
	RATE_AUTH, /* login and register: RATE_LIMIT_AUTH_PER_MINUTE per client IP */
	RATE_READ, /* reads: RATE_LIMIT_READ_PER_MINUTE per client IP and per user */
	RATE_WRITE /* writes: RATE_LIMIT_WRITE_PER_MINUTE per client IP and per user */
} RateClass;

struct Request;

/*
 * A handler answers the request itself, given the SQL parameters bound
 * from the request; returns an enum MHD_Result.
 */
typedef int (*RouteHandler)(struct Request *req, const char *const *values);

typedef struct Route
{
	const char	*method;
	const char	*pattern;  /* "/api/stores/{storeId}" */
	const char	*function; /* SQL function, or NULL when handler serves it */
	Access		 access;
	int			 status; /* status of a successful answer */
	CachePolicy	 cache;
	RateClass	 rate;
	size_t		 body_limit; /* 0: MAX_BODY_BYTES */
	RouteHandler handler;	 /* the proxy's own routes (/health) */
	RouteArg	 args[ROUTE_MAX_ARGS];
} Route;

/* The table itself, in routes.c */
extern const Route	routes[];
extern const size_t route_count;

/*
 * What start-up derives from the table: the statement text of each route.
 * Runtime data stays out of the const table.
 */
typedef struct CompiledRoute
{
	char *sql; /* "SELECT f(a => $1, ...)"; NULL for handlers */
	int	  nparams;
	char  statement[16]; /* prepared statement name */
	bool  replica;		 /* may be answered by the hot standby (replica_routes) */
} CompiledRoute;

/*
 * RoutesCompile checks the table (bad pattern, duplicate method and pattern,
 * an argument without a source) and builds the statements.  On a problem it
 * returns NULL and writes one line into err.
 */
extern CompiledRoute *RoutesCompile(const Route *table, size_t n, char *err, size_t errlen);
extern void			  RoutesFree(CompiledRoute *compiled, size_t n);

/*
 * The routes a hot standby may answer when DATABASE_READ_URL is set, as
 * "METHOD /pattern" (in routes.c).  RoutesMarkReplica marks them in
 * compiled; it refuses (false, one line in err) an entry that is not a
 * public GET route of the table with a SQL function.
 */
extern const char *const replica_routes[];
extern const size_t		 replica_route_count;
extern bool RoutesMarkReplica(const Route *table, size_t n, CompiledRoute *compiled, const char *const *list,
							  size_t nlist, char *err, size_t errlen);

#endif /* PROXY_ROUTES_H */
