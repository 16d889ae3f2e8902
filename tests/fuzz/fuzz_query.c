/*
 * fuzz_query.c
 *	  Query strings, split and decoded as libmicrohttpd hands them to
 *	  QueryAdd, then bound by ParamsBind for every route of the table.
 *
 * Input, newline-separated: the query string (as on the wire, after '?'),
 * the value of every {param} of a route's pattern (percent-encoded), the
 * value of every header argument, a flags byte; the rest is the body.
 * For each route, its pattern filled with that value is matched by
 * RouterMatch, and ParamsBind runs with the parsed query, the match, the
 * body, a session and the headers.  What must hold: a success binds every
 * required query argument to a well-formed value of the query, a failure
 * is a 400 or 404 whose error body can be written (RespondError
 * strlen()s it), and nothing leaks.
 */
#include "errors.h"
#include "fuzz.h"
#include "params.h"
#include "router.h"
#include "routes.h"

static const char *const session = "7d0c3b4a-9f6e-4c2b-8a1d-5e3f2a1b0c9d";

/* The route's pattern with every {param} replaced by value */
static char *
FillPattern(const char *pattern, const char *value)
{
	size_t vlen = strlen(value);
	char  *out = malloc(strlen(pattern) * (vlen + 1) + 1);
	char  *o = out;

	for (const char *p = pattern; *p; p++)
	{
		if (*p == '{')
		{
			memcpy(o, value, vlen);
			o += vlen;
			p = strchr(p, '}');
		}
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

static void
BindRoute(const Route *route, const QueryParams *q, const char *value, const char *header, const char *body,
		  unsigned flags)
{
	char	   *path = FillPattern(route->pattern, value);
	RouteMatch	match;
	const char *headers[ROUTE_MAX_ARGS] = {0};
	const char *values[ROUTE_MAX_ARGS];
	ApiError	err;
	bool		bound;
	int			i = 0;

	memset(&err, 0, sizeof(err));
	/* a value with '/' or an empty one names no route: Begin answers 404 before binding */
	if (RouterMatch(route, 1, route->method, path, &match) != MATCH_OK)
	{
		free(path);
		return;
	}
	for (const RouteArg *a = route->args; a->source != ARG_NONE; a++, i++)
		if (a->source == ARG_HEADER && !(flags & 2))
			headers[i] = header;
	bound = ParamsBind(route, &match, q, (flags & 4) ? NULL : body, (flags & 1) ? NULL : session, headers,
					   values, &err);
	if (bound)
	{
		i = 0;
		for (const RouteArg *a = route->args; a->source != ARG_NONE; a++, i++)
		{
			switch (a->source)
			{
				case ARG_QUERY:
					if (a->required)
						FuzzAssert(values[i] != NULL, "%s %s: required ?%s unbound", route->method,
								   route->pattern, a->name);
					if (values[i] != NULL)
						FuzzAssert(ParamCheck(a->type, values[i], strlen(values[i])) == NULL,
								   "%s %s: ?%s=\"%s\" bound though malformed", route->method, route->pattern,
								   a->name, values[i]);
					break;
				case ARG_PATH:
					FuzzAssert(values[i] == RouterParam(&match, a->name) &&
								   ParamCheck(a->type, values[i], strlen(values[i])) == NULL,
							   "%s %s: {%s} bound badly", route->method, route->pattern, a->name);
					break;
				case ARG_HEADER:
					FuzzAssert(values[i] == headers[i], "%s %s: header %s bound badly", route->method,
							   route->pattern, a->name);
					break;
				default:
					break;
			}
		}
		FuzzAssert(!q->too_many, "%s %s: bound with too many parameters", route->method, route->pattern);
	}
	else
	{
		FuzzAssert(err.status == 400 || err.status == 404, "%s %s: status %d", route->method, route->pattern,
				   err.status);
		FuzzAssert(err.message != NULL, "%s %s: no message", route->method, route->pattern);
		FuzzCheckError(&err, route->pattern);
	}
	ErrorClear(&err);
	free(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fields		f;
	QueryParams q;
	char	   *value;

	FieldsSplit(&f, data, size, 5);
	memset(&q, 0, sizeof(q));
	FuzzQueryParse(f.field[0], &q);
	FuzzAssert(q.n <= QUERY_MAX_PARAMS, "%d parameters kept", q.n);
	for (int i = 0; i < q.n; i++)
		FuzzAssert(q.items[i].key != NULL && q.items[i].value != NULL &&
					   q.items[i].value[q.items[i].value_len] == '\0',
				   "parameter %d badly kept", i);

	/* the path value travels percent-encoded too */
	value = f.field[1];
	MHD_http_unescape(value);
	for (size_t r = 0; r < route_count; r++)
		BindRoute(&routes[r], &q, value, f.field[2], f.field[4], FuzzByte(f.field[3], f.len[3], 0));

	QueryFree(&q);
	FuzzAssert(q.n == 0, "QueryFree left %d parameters", q.n);
	FieldsFree(&f);
	return 0;
}
