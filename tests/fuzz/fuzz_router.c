/*
 * fuzz_router.c
 *	  RouterMatch and RouterParam against the real route table.
 *
 * Input, newline-separated: method, request target (path and optional
 * query, percent-encoded as on the wire), a parameter name; the rest, a
 * pattern.  The target is decoded as libmicrohttpd does, then matched for
 * the fuzzed method and for every method the table knows.  An oracle
 * written independently of router.c says which route must win; the
 * pattern, when RouterPatternIsValid takes it, is matched as a one-route
 * table of its own.
 */
#include "fuzz.h"
#include "router.h"
#include "routes.h"

#define MAX_SEGMENTS 64

typedef struct Segments
{
	int			n;
	const char *start[MAX_SEGMENTS];
	size_t		len[MAX_SEGMENTS];
} Segments;

/* The oracle's split: false unless '/' first, no empty segment, at most ROUTE_MAX_SEGMENTS */
static bool
OracleSplit(const char *path, Segments *s)
{
	size_t len = strlen(path);
	size_t i = 1;

	s->n = 0;
	if (len == 0 || path[0] != '/' || len >= 2048)
		return false;
	if (len == 1)
		return true;
	while (i <= len)
	{
		size_t j = i;

		while (j < len && path[j] != '/')
			j++;
		if (j == i || s->n == ROUTE_MAX_SEGMENTS)
			return false;
		s->start[s->n] = path + i;
		s->len[s->n] = j - i;
		s->n++;
		i = j + 1;
	}
	return true;
}

/* Score of pattern against the path's segments, -1 when it does not match */
static int
OracleScore(const char *pattern, const Segments *path)
{
	Segments pat;
	int		 score = 0;

	if (!OracleSplit(pattern, &pat) || pat.n != path->n)
		return -1;
	for (int i = 0; i < pat.n; i++)
	{
		/* a parameter's value is at most 255 bytes (PathParam.value) */
		if (pat.start[i][0] == '{')
		{
			if (path->len[i] >= 256)
				return -1;
			continue;
		}
		if (pat.len[i] != path->len[i] || memcmp(pat.start[i], path->start[i], pat.len[i]) != 0)
			return -1;
		score += 1 << (ROUTE_MAX_SEGMENTS - i);
	}
	return score;
}

static bool
OracleMethod(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
		   (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Checks one RouterMatch answer against the oracle */
static void
CheckMatch(const Route *table, size_t n, const char *method, const char *path, const char *name)
{
	RouteMatch	m;
	MatchResult r = RouterMatch(table, n, method, path, &m);
	Segments	segs;
	int			best = -1, best_score = -1;
	bool		known = false;

	if (OracleSplit(path, &segs))
	{
		for (size_t i = 0; i < n; i++)
		{
			int score = OracleScore(table[i].pattern, &segs);

			if (score < 0)
				continue;
			known = true;
			if (OracleMethod(table[i].method, method) && score > best_score)
			{
				best_score = score;
				best = (int) i;
			}
		}
	}

	FuzzAssert(memchr(m.allow, '\0', sizeof(m.allow)) != NULL, "allow is not terminated");
	if (best >= 0)
	{
		const Route *route = &table[best];
		Segments	 pat;
		int			 k = 0;

		FuzzAssert(r == MATCH_OK && m.route == best, "%s %s: got %d route %d, oracle route %d", method, path,
				   (int) r, m.route, best);
		OracleSplit(route->pattern, &pat);
		for (int i = 0; i < pat.n; i++)
		{
			char		pname[2048];
			const char *v;

			if (pat.start[i][0] != '{')
				continue;
			k++;
			snprintf(pname, sizeof(pname), "%.*s", (int) pat.len[i] - 2, pat.start[i] + 1);
			v = RouterParam(&m, pname);
			FuzzAssert(v != NULL, "%s %s: no value for {%s}", method, path, pname);
			if (v != m.params[k - 1].value)
				continue; /* a fuzzed pattern naming {x} twice: RouterParam gives the first */
			FuzzAssert(strlen(v) == segs.len[i] && memcmp(v, segs.start[i], segs.len[i]) == 0,
					   "%s %s: {%s} is \"%s\"", method, path, pname, v);
		}
		FuzzAssert(m.nparams == k, "%s %s: %d params, pattern has %d", method, path, m.nparams, k);
	}
	else if (known)
	{
		FuzzAssert(r == MATCH_NO_METHOD && m.route == -1, "%s %s: got %d, oracle: no method", method, path,
				   (int) r);
		FuzzAssert(m.allow[0] != '\0', "%s %s: empty Allow", method, path);
		/* every method of the path is named, when the 64 bytes hold them */
		for (size_t i = 0; i < n && strlen(m.allow) < sizeof(m.allow) - 16; i++)
			if (OracleScore(table[i].pattern, &segs) >= 0)
				FuzzAssert(strstr(m.allow, table[i].method) != NULL, "%s %s: Allow \"%s\" lacks %s", method,
						   path, m.allow, table[i].method);
	}
	else
		FuzzAssert(r == MATCH_NO_PATH && m.route == -1, "%s %s: got %d, oracle: no path", method, path,
				   (int) r);

	/* any name: NULL or one of the values */
	{
		const char *v = RouterParam(&m, name);

		if (v != NULL)
		{
			bool found = false;

			for (int i = 0; i < m.nparams; i++)
				found |= v == m.params[i].value;
			FuzzAssert(found, "RouterParam(\"%s\") points outside the match", name);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
	Fields					 f;
	char					*path, *query;

	FieldsSplit(&f, data, size, 4);
	if (FuzzSplitTarget(f.field[1], &path, &query))
	{
		const char *pattern = f.field[3];

		CheckMatch(routes, route_count, f.field[0], path, f.field[2]);
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			CheckMatch(routes, route_count, methods[i], path, f.field[2]);
		(void) RouterPatternIsValid(path);

		/* the table's patterns are checked at start-up (RoutesCompile): only valid ones are matched */
		if (RouterPatternIsValid(pattern))
		{
			Route one;

			memset(&one, 0, sizeof(one));
			one.method = "GET";
			one.pattern = pattern;
			CheckMatch(&one, 1, "GET", path, f.field[2]);
			CheckMatch(&one, 1, "POST", path, f.field[2]);
		}
	}
	FieldsFree(&f);
	return 0;
}
