/*
 * router.c
 *	  Path and method matching over the route table.
 */
#include <stdio.h>
#include <string.h>

#include "router.h"

#define PATH_MAX_BYTES 2048

/*
 * Split cuts a copy of a path into segments in place; returns their count,
 * or -1 when the path does not start with '/', has an empty segment, or has
 * too many.
 */
static int
Split(char *buf, char **segments, int max)
{
	int	  n = 0;
	char *p = buf + 1;

	if (buf[0] != '/')
		return -1;
	if (buf[1] == '\0')
		return 0;
	for (;;)
	{
		char *slash = strchr(p, '/');

		if (slash)
			*slash = '\0';
		if (*p == '\0' || n == max)
			return -1;
		segments[n++] = p;
		if (!slash)
			return n;
		p = slash + 1;
	}
}

static bool
IsParam(const char *segment)
{
	return segment[0] == '{';
}

bool
RouterPatternIsValid(const char *pattern)
{
	char  buf[PATH_MAX_BYTES];
	char *segments[ROUTE_MAX_SEGMENTS];
	int	  n;

	if (pattern == NULL || strlen(pattern) >= sizeof(buf))
		return false;
	strcpy(buf, pattern);
	if ((n = Split(buf, segments, ROUTE_MAX_SEGMENTS)) < 0)
		return false;
	for (int i = 0; i < n; i++)
	{
		const char *s = segments[i];
		size_t		len = strlen(s);
		bool		open = strchr(s, '{') != NULL;
		bool		close = strchr(s, '}') != NULL;

		if (!open && !close)
			continue;
		/* a parameter is a whole segment: {name} */
		if (s[0] != '{' || s[len - 1] != '}' || len < 3 || strchr(s + 1, '{') != NULL ||
			strchr(s, '}') != s + len - 1)
			return false;
	}
	return true;
}

/*
 * Matches one pattern against split path segments; on success returns a
 * score where literal segments weigh more the earlier they come, so the most
 * specific pattern wins.  Returns -1 on no match.
 */
static int
MatchPattern(const char *pattern, char **segments, int n, RouteMatch *match)
{
	char  buf[PATH_MAX_BYTES];
	char *pattern_segments[ROUTE_MAX_SEGMENTS];
	int	  score = 0;

	strcpy(buf, pattern);
	if (Split(buf, pattern_segments, ROUTE_MAX_SEGMENTS) != n)
		return -1;
	for (int i = 0; i < n; i++)
	{
		if (IsParam(pattern_segments[i]))
		{
			/* a value PathParam cannot hold is no parameter: no match, not an empty value */
			if (strlen(segments[i]) >= sizeof(match->params[0].value))
				return -1;
			continue;
		}
		if (strcmp(pattern_segments[i], segments[i]) != 0)
			return -1;
		score |= 1 << (ROUTE_MAX_SEGMENTS - i);
	}
	if (match)
	{
		match->nparams = 0;
		for (int i = 0; i < n; i++)
		{
			PathParam *param;
			size_t	   len;

			if (!IsParam(pattern_segments[i]))
				continue;
			param = &match->params[match->nparams++];
			/* the name points into the static pattern: skip '{', stop before '}' */
			param->name = pattern + (pattern_segments[i] - buf) + 1;
			len = strlen(segments[i]);
			if (len >= sizeof(param->value))
				return -1;
			memcpy(param->value, segments[i], len + 1);
		}
	}
	return score;
}

/* Does a route's method serve the request's?  HEAD is served by GET routes. */
static bool
MethodMatches(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
		   (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static void
AddAllowed(char *allow, size_t size, const char *method)
{
	size_t mlen = strlen(method);

	for (const char *p = allow; *p;)
	{
		size_t len = strcspn(p, ",");

		if (len == mlen && strncmp(p, method, mlen) == 0)
			return;
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (allow[0] != '\0')
		strncat(allow, ", ", size - strlen(allow) - 1);
	strncat(allow, method, size - strlen(allow) - 1);
}

MatchResult
RouterMatch(const Route *table, size_t n, const char *method, const char *path, RouteMatch *match)
{
	char  buf[PATH_MAX_BYTES];
	char *segments[ROUTE_MAX_SEGMENTS];
	int	  nsegments;
	int	  best_score = -1;
	bool  path_known = false;

	memset(match, 0, sizeof(*match));
	match->route = -1;
	if (path == NULL || strlen(path) >= sizeof(buf))
		return MATCH_NO_PATH;
	strcpy(buf, path);
	if ((nsegments = Split(buf, segments, ROUTE_MAX_SEGMENTS)) < 0)
		return MATCH_NO_PATH;

	for (size_t i = 0; i < n; i++)
	{
		int score = MatchPattern(table[i].pattern, segments, nsegments, NULL);

		if (score < 0)
			continue;
		path_known = true;
		if (MethodMatches(table[i].method, method) && score > best_score)
		{
			best_score = score;
			match->route = (int) i;
		}
	}
	if (match->route >= 0)
	{
		MatchPattern(table[match->route].pattern, segments, nsegments, match);
		return MATCH_OK;
	}
	if (!path_known)
		return MATCH_NO_PATH;

	for (size_t i = 0; i < n; i++)
	{
		if (MatchPattern(table[i].pattern, segments, nsegments, NULL) < 0)
			continue;
		AddAllowed(match->allow, sizeof(match->allow), table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			AddAllowed(match->allow, sizeof(match->allow), "HEAD");
	}
	return MATCH_NO_METHOD;
}

const char *
RouterParam(const RouteMatch *match, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < match->nparams; i++)
	{
		if (strncmp(match->params[i].name, name, len) == 0 && match->params[i].name[len] == '}')
			return match->params[i].value;
	}
	return NULL;
}
