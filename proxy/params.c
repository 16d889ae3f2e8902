/*
 * params.c
 *	  Strict parameter syntax and argument binding.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

void
QueryAdd(QueryParams *q, const char *key, const char *value, size_t value_len)
{
	QueryParam *p;

	if (q->n == QUERY_MAX_PARAMS)
	{
		q->too_many = true;
		return;
	}
	p = &q->items[q->n++];
	p->key = strdup(key ? key : "");
	p->value = malloc(value_len + 1);
	if (value)
		memcpy(p->value, value, value_len);
	p->value[value_len] = '\0';
	p->value_len = value_len;
}

void
QueryFree(QueryParams *q)
{
	for (int i = 0; i < q->n; i++)
	{
		free(q->items[i].key);
		free(q->items[i].value);
	}
	q->n = 0;
}

bool
Utf8IsValid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *) text;
	size_t				 i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		  n;
		unsigned int  cp;

		if (c == 0)
			return false;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (size_t k = 1; k <= n; k++)
		{
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
			cp > 0x10FFFF)
			return false;
		i += n + 1;
	}
	return true;
}

static bool
IsDecimal(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	if (*p == '0' && isdigit((unsigned char) p[1]))
		return false; /* no leading zeros: 007 */
	while (isdigit((unsigned char) *p))
		p++;
	if (*p == '.')
	{
		p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p != '\0')
		return false;
	/* as PostgreSQL's float8 input: out of range, or so small it would be 0, is no number */
	{
		double d;

		errno = 0;
		d = strtod(s, NULL);
		return isfinite(d) && !(errno == ERANGE && d == 0.0);
	}
}

static bool
IsInteger(const char *s)
{
	const char *p = s;
	size_t		digits;

	if (*p == '-')
		p++;
	digits = strspn(p, "0123456789");
	return digits >= 1 && digits <= 9 && p[digits] == '\0' && !(p[0] == '0' && digits > 1);
}

static bool
IsIdChar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		   c == '.' || c == ':' || c == '-';
}

static bool
IsId(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!IsIdChar(*p))
			return false;
	return true;
}

static bool
IsUuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!isxdigit((unsigned char) s[i]))
			return false;
	}
	return true;
}

static bool
IsList(const char *s)
{
	const char *p = s;

	if (*p == '\0')
		return false;
	for (;;)
	{
		size_t len = strcspn(p, ",");

		if (len == 0)
			return false; /* "a,,b" or a trailing comma */
		p += len;
		if (*p == '\0')
			return true;
		p++;
	}
}

const char *
ParamCheck(ArgType type, const char *value, size_t len)
{
	if (len != strlen(value) || !Utf8IsValid(value, len))
		return "must be valid UTF-8 text without NUL characters";
	if (len > PARAM_MAX_BYTES)
		return "is too long";
	switch (type)
	{
		case TYPE_NUMBER:
			return IsDecimal(value) ? NULL : "must be a decimal number";
		case TYPE_INTEGER:
			return IsInteger(value) ? NULL : "must be an integer";
		case TYPE_ID:
			return IsId(value) ? NULL : "must be an id of 1 to 64 characters from A-Z, a-z, 0-9 and _.:-";
		case TYPE_UUID:
			return IsUuid(value) ? NULL : "must be a UUID";
		case TYPE_LIST:
			return IsList(value) ? NULL : "must be a comma-separated list without empty items";
		case TYPE_TEXT:
			return len <= 1024 ? NULL : "must be at most 1024 bytes";
		case TYPE_JSON:
			return NULL;
	}
	return "has an unknown type";
}

/* How many times does key occur in the query? */
static int
QueryCount(const QueryParams *query, const char *key, const QueryParam **first)
{
	int count = 0;

	*first = NULL;
	for (int i = 0; i < query->n; i++)
	{
		if (strcmp(query->items[i].key, key) == 0)
		{
			if (count++ == 0)
				*first = &query->items[i];
		}
	}
	return count;
}

/* Records a bad field; the first one also makes the message */
static void
Problem(ApiError *err, char *first, size_t size, const char *field, const char *problem)
{
	if (first[0] == '\0')
		snprintf(first, size, "invalid input: %s %s", field, problem);
	ErrorAddField(err, field, problem);
}

bool
ParamsBind(const Route *route, const RouteMatch *match, const QueryParams *query, const char *body,
		   const char *session, const char *const *headers, const char **values, ApiError *err)
{
	int	 n = 0;
	bool bad_query = false;
	char first[160] = "";

	for (const RouteArg *arg = route->args; arg->source != ARG_NONE; arg++, n++)
	{
		values[n] = NULL;
		switch (arg->source)
		{
			case ARG_PATH:
			{
				const char *v = RouterParam(match, arg->name);

				/* an id that cannot exist names nothing: 404, not 400 */
				if (v == NULL || ParamCheck(arg->type, v, strlen(v)) != NULL)
				{
					ErrorSet(err, 404, "not_found", "no such resource");
					return false;
				}
				values[n] = v;
				break;
			}
			case ARG_QUERY:
			{
				const QueryParam *p;
				int				  count = QueryCount(query, arg->name, &p);
				const char		 *problem;

				if (count == 0)
				{
					if (arg->required)
					{
						Problem(err, first, sizeof(first), arg->name, "is required");
						bad_query = true;
					}
					break;
				}
				if (count > 1)
					problem = "must be given once";
				else
					problem = ParamCheck(arg->type, p->value, p->value_len);
				if (problem)
				{
					Problem(err, first, sizeof(first), arg->name, problem);
					bad_query = true;
					break;
				}
				values[n] = p->value;
				break;
			}
			case ARG_BODY:
				values[n] = body;
				break;
			case ARG_SESSION:
				values[n] = session;
				break;
			case ARG_HEADER:
			{
				const char *h = headers ? headers[n] : NULL;
				const char *problem = h ? ParamCheck(arg->type, h, strlen(h)) : NULL;

				if (problem)
				{
					Problem(err, first, sizeof(first), arg->name, problem);
					bad_query = true;
					break;
				}
				values[n] = h;
				break;
			}
			case ARG_NONE:
				break;
		}
	}

	/* a parameter the route does not know is a typo the caller wants to hear about */
	for (int i = 0; i < query->n; i++)
	{
		bool known = false;

		for (const RouteArg *arg = route->args; arg->source != ARG_NONE; arg++)
			if (arg->source == ARG_QUERY && strcmp(arg->name, query->items[i].key) == 0)
				known = true;
		if (!known)
		{
			const char *key = query->items[i].key;

			Problem(err, first, sizeof(first), Utf8IsValid(key, strlen(key)) && strlen(key) <= 64 ? key : "?",
					"is not a parameter of this route");
			bad_query = true;
		}
	}
	if (query->too_many)
	{
		Problem(err, first, sizeof(first), "query", "has too many parameters");
		bad_query = true;
	}
	if (bad_query)
	{
		json_t *details = err->details;

		err->details = NULL;
		ErrorSet(err, 400, "validation_failed", first);
		err->details = details;
		return false;
	}
	return true;
}
