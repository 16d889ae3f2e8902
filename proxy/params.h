/*
 * params.h
 *	  Strict parsing of query and path parameters, and binding a route's
 *	  SQL arguments to the values of one request.
 *
 * The proxy checks only syntax (is it a number, an id, a UUID); ranges and
 * every other rule belong to the extension, where backend apps calling SQL
 * get the same checks.  Pure functions: tests/proxy/test_params.c.
 */
#ifndef PROXY_PARAMS_H
#define PROXY_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "errors.h"
#include "router.h"
#include "routes.h"

#define QUERY_MAX_PARAMS 32
#define PARAM_MAX_BYTES	 4096

typedef struct QueryParam
{
	char  *key;		  /* owned */
	char  *value;	  /* owned; "" for a key without '=' */
	size_t value_len; /* may exceed strlen(value) if it held a NUL */
} QueryParam;

typedef struct QueryParams
{
	int		   n;
	bool	   too_many;
	QueryParam items[QUERY_MAX_PARAMS];
} QueryParams;

/* Adds one decoded key/value; keeps the first QUERY_MAX_PARAMS */
extern void QueryAdd(QueryParams *q, const char *key, const char *value, size_t value_len);
extern void QueryFree(QueryParams *q);

/* NULL when value is well formed for type, else what is wrong with it */
extern const char *ParamCheck(ArgType type, const char *value, size_t len);

/* Is text valid UTF-8 (no overlong forms, no surrogates, no NUL)? */
extern bool Utf8IsValid(const char *text, size_t len);

/*
 * ParamsBind fills values[i] for each SQL parameter of the route, in the
 * order RoutesCompile numbered them: pointers into match, query, body and
 * session, or NULL for an absent optional argument; headers[i] is the
 * value of the route's i-th argument when that is a header.  Problems go into err:
 * a bad path parameter is 404 not_found, bad query parameters are one 400
 * validation_failed naming each field.  Returns false when err was set.
 */
extern bool ParamsBind(const Route *route, const RouteMatch *match, const QueryParams *query,
					   const char *body, const char *session, const char *const *headers, const char **values,
					   ApiError *err);

#endif /* PROXY_PARAMS_H */
