/*
 * fuzz_params.c
 *	  Path parameters and typed values: ParamCheck for every type against
 *	  an oracle written apart from params.c, and ParamsBind over a fuzzed
 *	  request target matched by RouterMatch.
 *
 * Input, newline-separated: method, request target (path?query, encoded
 * as on the wire); the rest is one value (any bytes, NULs included).
 * The target goes through the real table, as a request would.  The value
 * is checked as every type, then bound as a path segment and as a query
 * parameter of one route per type: it must bind exactly when the oracle
 * says it is well formed (404 for a path, 400 for a query parameter).
 */
#include <errno.h>
#include <math.h>

#include <jansson.h>

#include "errors.h"
#include "fuzz.h"
#include "params.h"
#include "router.h"
#include "routes.h"

static const char *const session = "7d0c3b4a-9f6e-4c2b-8a1d-5e3f2a1b0c9d";

static bool
Digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
Hex(char c)
{
	return Digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, that a float8 holds */
static bool
OracleNumber(const char *s, size_t len)
{
	size_t i = 0, start;
	double d;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && Digit(s[i]))
			i++;
	else
		return false;
	if (i < len && s[i] == '.')
	{
		start = ++i;
		while (i < len && Digit(s[i]))
			i++;
		if (i == start)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		start = i;
		while (i < len && Digit(s[i]))
			i++;
		if (i == start)
			return false;
	}
	if (i != len)
		return false;
	/* as PostgreSQL's float8 input: beyond its range, or so small that it would be 0, is no number */
	errno = 0;
	d = strtod(s, NULL);
	return isfinite(d) && !(errno == ERANGE && d == 0.0);
}

/* -?(0|[1-9][0-9]{0,8}) */
static bool
OracleInteger(const char *s, size_t len)
{
	size_t i = s[0] == '-' ? 1 : 0;
	size_t digits = len - i;

	if (digits < 1 || digits > 9 || (s[i] == '0' && digits > 1))
		return false;
	for (; i < len; i++)
		if (!Digit(s[i]))
			return false;
	return true;
}

static bool
OracleId(const char *s, size_t len)
{
	if (len < 1 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-", s[i]))
			return false;
	return true;
}

static bool
OracleUuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !Hex(s[i]))
			return false;
	return true;
}

static bool
OracleList(const char *s, size_t len)
{
	if (len == 0 || s[0] == ',' || s[len - 1] == ',')
		return false;
	for (size_t i = 1; i < len; i++)
		if (s[i] == ',' && s[i - 1] == ',')
			return false;
	return true;
}

/* Valid UTF-8 by jansson's own check, and no NUL */
static bool
OracleUtf8(const char *s, size_t len)
{
	json_t *j;

	if (memchr(s, '\0', len) != NULL)
		return false;
	j = json_stringn(s, len);
	json_decref(j);
	return j != NULL;
}

static bool
Oracle(ArgType type, const char *s, size_t len)
{
	if (!OracleUtf8(s, len) || len > PARAM_MAX_BYTES)
		return false;
	switch (type)
	{
		case TYPE_NUMBER:
			return OracleNumber(s, len);
		case TYPE_INTEGER:
			return OracleInteger(s, len);
		case TYPE_ID:
			return OracleId(s, len);
		case TYPE_UUID:
			return OracleUuid(s, len);
		case TYPE_LIST:
			return OracleList(s, len);
		case TYPE_TEXT:
			return len <= 1024;
		case TYPE_JSON:
			return true;
	}
	return false;
}

/* Binding of a value as {v} of "/t/{v}" and as ?q= of another route */
static void
BindTyped(ArgType type, const char *value, size_t len, bool well_formed)
{
	Route		by_path, by_query;
	RouteMatch	match;
	QueryParams q;
	const char *values[ROUTE_MAX_ARGS];
	ApiError	err;

	memset(&by_path, 0, sizeof(by_path));
	by_path.method = "GET";
	by_path.pattern = "/t/{v}";
	by_path.args[0] = (RouteArg){ARG_PATH, "v", "v", type, true};
	by_query = by_path;
	by_query.pattern = "/t";
	by_query.args[0] = (RouteArg){ARG_QUERY, "q", "q", type, true};
	memset(&err, 0, sizeof(err));
	memset(&q, 0, sizeof(q));

	/* a path segment: a C string, no '/', at most 2047 bytes of path */
	if (len == strlen(value) && len > 0 && len < 2000 && strchr(value, '/') == NULL)
	{
		char path[2048];

		snprintf(path, sizeof(path), "/t/%s", value);
		if (len >= sizeof(match.params[0].value))
			/* too long for PathParam.value: the router answers 404 itself */
			FuzzAssert(RouterMatch(&by_path, 1, "GET", path, &match) == MATCH_NO_PATH,
					   "/t/{v} matches a segment of %zu bytes", len);
		else
		{
			FuzzAssert(RouterMatch(&by_path, 1, "GET", path, &match) == MATCH_OK, "/t/{v} does not match %s",
					   path);
			if (ParamsBind(&by_path, &match, &q, NULL, NULL, NULL, values, &err))
				FuzzAssert(well_formed && strcmp(values[0], value) == 0,
						   "type %d: {v}=\"%s\" bound though malformed", (int) type, value);
			else
				FuzzAssert(err.status == 404 && !well_formed,
						   "type %d: well-formed {v}=\"%s\" refused with %d", (int) type, value, err.status);
			ErrorClear(&err);
		}
	}

	/* a query parameter, NULs and all */
	QueryAdd(&q, "q", value, len);
	FuzzAssert(RouterMatch(&by_query, 1, "GET", "/t", &match) == MATCH_OK, "/t does not match");
	if (ParamsBind(&by_query, &match, &q, NULL, NULL, NULL, values, &err))
		FuzzAssert(well_formed && values[0] == q.items[0].value, "type %d: ?q= bound though malformed",
				   (int) type);
	else
	{
		FuzzAssert(err.status == 400 && !well_formed, "type %d: well-formed ?q= refused with %d", (int) type,
				   err.status);
		FuzzCheckError(&err, "?q=");
	}
	ErrorClear(&err);
	QueryFree(&q);
}

/* The fuzzed target through the real table, as Begin and Dispatch see it */
static void
BindTarget(const char *method, char *target)
{
	char	   *path, *query;
	RouteMatch	match;
	QueryParams q;
	const char *values[ROUTE_MAX_ARGS];
	const char *headers[ROUTE_MAX_ARGS] = {0};
	ApiError	err;

	if (!FuzzSplitTarget(target, &path, &query))
		return;
	if (RouterMatch(routes, route_count, method, path, &match) != MATCH_OK)
		return;
	memset(&q, 0, sizeof(q));
	memset(&err, 0, sizeof(err));
	FuzzQueryParse(query, &q);
	if (ParamsBind(&routes[match.route], &match, &q, "{}", session, headers, values, &err))
	{
		int i = 0;

		for (const RouteArg *a = routes[match.route].args; a->source != ARG_NONE; a++, i++)
			if (a->source == ARG_PATH || (a->source == ARG_QUERY && values[i] != NULL))
				FuzzAssert(ParamCheck(a->type, values[i], strlen(values[i])) == NULL &&
							   Oracle(a->type, values[i], strlen(values[i])),
						   "%s %s: %s=\"%s\" bound though malformed", method, path, a->name, values[i]);
	}
	else
	{
		FuzzAssert(err.status == 400 || err.status == 404, "%s %s: status %d", method, path, err.status);
		FuzzCheckError(&err, path);
	}
	ErrorClear(&err);
	QueryFree(&q);
}

FUZZ_FIXED_JANSSON_SEED

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const ArgType types[] = {TYPE_ID, TYPE_UUID, TYPE_NUMBER, TYPE_INTEGER, TYPE_LIST, TYPE_TEXT};
	Fields				 f;
	const char			*value;
	size_t				 len;

	FieldsSplit(&f, data, size, 3);
	value = f.field[2];
	len = f.len[2];

	FuzzAssert(Utf8IsValid(value, len) == OracleUtf8(value, len), "Utf8IsValid disagrees with jansson");
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
	{
		bool well_formed = Oracle(types[t], value, len);

		FuzzAssert((ParamCheck(types[t], value, len) == NULL) == well_formed,
				   "ParamCheck(type %d, \"%s\", %zu) disagrees with the oracle (%d)", (int) types[t], value,
				   len, (int) well_formed);
		BindTyped(types[t], value, len, well_formed);
	}
	BindTarget(f.field[0], f.field[1]);
	FieldsFree(&f);
	return 0;
}
