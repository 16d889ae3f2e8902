/*
 * router.h
 *	  Matching a request path and method against the route table.
 *
 * Pure functions, no I/O: tested in tests/proxy/test_router.c.
 */
#ifndef PROXY_ROUTER_H
#define PROXY_ROUTER_H

#include "routes.h"

typedef struct PathParam
{
	const char *name; /* points into the pattern */
	char		value[256];
} PathParam;

typedef struct RouteMatch
{
	int		  route; /* index into the table, -1 when none */
	int		  nparams;
	PathParam params[ROUTE_MAX_SEGMENTS];
	char	  allow[64]; /* methods of the path, when the method did not match */
} RouteMatch;

typedef enum MatchResult
{
	MATCH_OK,
	MATCH_NO_PATH,	/* 404 */
	MATCH_NO_METHOD /* 405, with allow filled in */
} MatchResult;

/*
 * RouterMatch finds the route for method and path.  Literal segments beat
 * {params} ("/api/stores/nearby" over "/api/stores/{storeId}"); an empty
 * segment (double or trailing slash) never matches.
 */
extern MatchResult RouterMatch(const Route *table, size_t n, const char *method, const char *path,
							   RouteMatch *match);

/* The value of a path parameter by name, or NULL */
extern const char *RouterParam(const RouteMatch *match, const char *name);

/* Is pattern well formed: starts with '/', no empty segment, {name} whole segments? */
extern bool RouterPatternIsValid(const char *pattern);

#endif /* PROXY_ROUTER_H */
