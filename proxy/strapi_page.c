/*
 * strapi_page.c
 *	  The pure parts of strapi-sync: settings, listing URLs, and reading
 *	  one page of Strapi's REST listing (v4 and v5).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strapi_page.h"

#define NOT_FOUND SIZE_MAX

static void CopyPrintable(char *buf, size_t buflen, const char *text, size_t len);

/* Printable ASCII without spaces: what may go into a URL or a header as it is */
static bool
IsPlainText(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f)
			return false;
	return true;
}

/*
 * CheckStrapiUrl: http(s)://host[:port][/prefix] with no query, fragment,
 * spaces or control characters; trailing slashes are dropped in place.
 */
static bool
CheckStrapiUrl(char *url, char *err, size_t errlen)
{
	size_t		len;
	const char *host;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
	{
		snprintf(err, errlen, "STRAPI_URL must start with http:// or https:// (got \"%.60s\")", url);
		return false;
	}
	if (!IsPlainText(url) || strpbrk(url, "?#") != NULL)
	{
		snprintf(err, errlen, "STRAPI_URL must be a plain base URL, without spaces, query or fragment");
		return false;
	}
	if (*host == '\0' || *host == '/')
	{
		snprintf(err, errlen, "STRAPI_URL has no host (got \"%.60s\")", url);
		return false;
	}
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	if (len >= 4 && strcasecmp(url + len - 4, "/api") == 0)
	{
		snprintf(err, errlen, "STRAPI_URL is Strapi's base URL, without /api (got \"%.60s\")", url);
		return false;
	}
	return true;
}

/*
 * StrapiSyncConfigLoad reads DATABASE_URL, STRAPI_URL, STRAPI_API_TOKEN and
 * the optional STRAPI_SYNC_* knobs; one line in err for the first bad one.
 */
bool
StrapiSyncConfigLoad(StrapiSyncConfig *c, GetEnv getenv_fn, char *err, size_t errlen)
{
	const char *v;
	int			max_bytes;

	memset(c, 0, sizeof(*c));
	if ((v = ConfigValue(getenv_fn, "DATABASE_URL")) == NULL)
	{
		snprintf(err, errlen,
				 "DATABASE_URL is required (a libpq URL such as postgresql://user@host:5432/db)");
		return false;
	}
	c->database_url = strdup(v);

	if ((v = ConfigValue(getenv_fn, "STRAPI_URL")) == NULL)
	{
		snprintf(err, errlen, "STRAPI_URL is required (Strapi's base URL, such as http://127.0.0.1:1337)");
		return false;
	}
	c->strapi_url = strdup(v);
	if (!CheckStrapiUrl(c->strapi_url, err, errlen))
		return false;

	if ((v = ConfigValue(getenv_fn, "STRAPI_API_TOKEN")) == NULL)
	{
		snprintf(
			err, errlen,
			"STRAPI_API_TOKEN is required (a read-only API token: Strapi's admin, Settings > API Tokens)");
		return false;
	}
	if (!IsPlainText(v) || strlen(v) > 4096)
	{
		snprintf(err, errlen, "STRAPI_API_TOKEN must be printable ASCII without spaces, at most 4096 bytes");
		return false;
	}
	c->api_token = strdup(v);

	if (!ConfigReadInt(getenv_fn, "STRAPI_SYNC_PAGE_SIZE", STRAPI_PAGE_SIZE_DEFAULT, 1, 1000, &c->page_size,
					   err, errlen) ||
		!ConfigReadInt(getenv_fn, "STRAPI_SYNC_TIMEOUT", 30, 1, 3600, &c->timeout, err, errlen) ||
		!ConfigReadInt(getenv_fn, "STRAPI_SYNC_RETRIES", 2, 0, 10, &c->retries, err, errlen) ||
		!ConfigReadInt(getenv_fn, "STRAPI_SYNC_MAX_BYTES", 32 * 1048576, 1024, 1024 * 1048576, &max_bytes,
					   err, errlen))
		return false;
	c->max_bytes = (size_t) max_bytes;

	v = ConfigValue(getenv_fn, "STRAPI_SYNC_ALLOW_EMPTY");
	if (v == NULL || strcmp(v, "0") == 0)
		c->allow_empty = false;
	else if (strcmp(v, "1") == 0)
		c->allow_empty = true;
	else
	{
		snprintf(err, errlen, "STRAPI_SYNC_ALLOW_EMPTY must be 0 or 1 (got \"%.20s\")", v);
		return false;
	}
	return true;
}

void
StrapiSyncConfigFree(StrapiSyncConfig *c)
{
	free(c->database_url);
	free(c->strapi_url);
	free(c->api_token);
	memset(c, 0, sizeof(*c));
}

/*
 * StrapiListUrl: the brackets of Strapi's query syntax are percent-encoded
 * (its query parser decodes them); sort=id:asc keeps page boundaries where
 * they were between two requests, as far as an offset listing can.
 */
char *
StrapiListUrl(const char *base, const char *plural, int page, int page_size, bool populate)
{
	static const char fmt[] =
		"%s/api/%s?pagination%%5Bpage%%5D=%d&pagination%%5BpageSize%%5D=%d&sort%%5B0%%5D=id%%3Aasc%s";
	const char *more = populate ? "&populate=%2A" : "";
	int			n = snprintf(NULL, 0, fmt, base, plural, page, page_size, more);
	char	   *url;

	if (n < 0)
		return NULL;
	url = malloc((size_t) n + 1);
	if (url != NULL)
		snprintf(url, (size_t) n + 1, fmt, base, plural, page, page_size, more);
	return url;
}

/* --- locating each entry's bytes in a body jansson has already accepted --- */

static size_t
SkipWs(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* From the opening quote to just past the closing one */
static size_t
SkipString(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++)
	{
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return NOT_FOUND;
}

/* One value of valid JSON: a string, an object or array (nesting counted), or a scalar */
static size_t
SkipValue(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return NOT_FOUND;
	if (s[i] == '"')
		return SkipString(s, len, i);
	if (s[i] != '{' && s[i] != '[')
	{
		while (i < len && strchr(",}] \t\r\n", s[i]) == NULL)
			i++;
		return i;
	}
	while (i < len)
	{
		char ch = s[i];

		if (ch == '"')
		{
			i = SkipString(s, len, i);
			if (i == NOT_FOUND)
				return NOT_FOUND;
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']')
		{
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return NOT_FOUND;
}

/* Is the JSON string s[start, end) (quotes included) the key "data", escapes decoded? */
static bool
KeyIsData(const char *s, size_t start, size_t end)
{
	json_t *key;
	bool	is;

	/* the common case needs no decoding */
	if (end - start == 6 && memcmp(s + start, "\"data\"", 6) == 0)
		return true;
	if (memchr(s + start, '\\', end - start) == NULL)
		return false;
	key = json_loadb(s + start, end - start, JSON_DECODE_ANY, NULL);
	is =
		json_is_string(key) && json_string_length(key) == 4 && memcmp(json_string_value(key), "data", 4) == 0;
	json_decref(key);
	return is;
}

/*
 * FindEntries fills raw[0..count) with the text of each element of the
 * top-level "data" array.  body must be a JSON object jansson accepted
 * (without duplicate keys) whose "data" is an array of count elements.
 */
static bool
FindEntries(const char *s, size_t len, StrapiSlice *raw, size_t count)
{
	size_t i = SkipWs(s, len, 0);

	if (i >= len || s[i] != '{')
		return false;
	i = SkipWs(s, len, i + 1);
	while (i < len && s[i] == '"')
	{
		size_t key_end = SkipString(s, len, i);
		bool   is_data;
		size_t value;
		size_t value_end;

		if (key_end == NOT_FOUND)
			return false;
		is_data = KeyIsData(s, i, key_end);
		i = SkipWs(s, len, key_end);
		if (i >= len || s[i] != ':')
			return false;
		value = SkipWs(s, len, i + 1);
		value_end = SkipValue(s, len, value);
		if (value_end == NOT_FOUND)
			return false;
		if (is_data)
		{
			size_t n = 0;
			size_t j;

			if (s[value] != '[')
				return false;
			j = SkipWs(s, len, value + 1);
			while (j < value_end && s[j] != ']')
			{
				size_t end = SkipValue(s, len, j);

				if (end == NOT_FOUND || n >= count)
					return false;
				raw[n].offset = j;
				raw[n].len = end - j;
				n++;
				j = SkipWs(s, len, end);
				if (j < value_end && s[j] == ',')
					j = SkipWs(s, len, j + 1);
			}
			return n == count;
		}
		i = SkipWs(s, len, value_end);
		if (i < len && s[i] == ',')
			i = SkipWs(s, len, i + 1);
	}
	return false;
}

/* meta.pagination's field as an int from 0 to INT_MAX */
static bool
PaginationInt(const json_t *pagination, const char *name, int *out)
{
	const json_t *v = json_object_get(pagination, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
		return false;
	*out = (int) json_integer_value(v);
	return true;
}

bool
StrapiEntryId(const json_t *entry, char *buf, size_t buflen)
{
	const json_t *document_id = json_object_get(entry, "documentId");
	const json_t *id = json_object_get(entry, "id");
	const char	 *text = NULL;
	size_t		  len = 0;

	if (buflen == 0)
		return false;
	buf[0] = '\0';
	if (json_is_string(document_id) && json_string_length(document_id) > 0)
	{
		text = json_string_value(document_id);
		len = json_string_length(document_id);
	}
	else if (document_id == NULL || json_is_null(document_id))
	{
		if (json_is_integer(id) && json_integer_value(id) >= 0)
		{
			int n = snprintf(buf, buflen, "%lld", (long long) json_integer_value(id));

			return n > 0 && (size_t) n < buflen;
		}
		if (json_is_string(id) && json_string_length(id) > 0)
		{
			text = json_string_value(id);
			len = json_string_length(id);
		}
	}
	/* ids are text in the catalogue: no NUL inside (jansson keeps \u0000 only when asked) */
	if (text == NULL || len >= buflen || len >= STRAPI_ID_MAX || memchr(text, '\0', len) != NULL)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return true;
}

bool
StrapiPageParse(const char *body, size_t len, StrapiPage *page, char *err, size_t errlen)
{
	json_error_t  error;
	const json_t *meta;
	const json_t *pagination;
	char		  id[STRAPI_ID_MAX];

	memset(page, 0, sizeof(*page));
	if (body == NULL || len == 0)
	{
		snprintf(err, errlen, "an empty answer");
		return false;
	}
	page->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
	if (page->root == NULL)
	{
		char why[81];

		/* jansson quotes the input near the error: whatever bytes those are */
		CopyPrintable(why, sizeof(why), error.text, strnlen(error.text, sizeof(error.text)));
		snprintf(err, errlen, "not JSON (%s at byte %d)", why, error.position);
		goto fail;
	}
	if (!json_is_object(page->root))
	{
		snprintf(err, errlen, "not a JSON object");
		goto fail;
	}
	page->data = json_object_get(page->root, "data");
	if (!json_is_array(page->data))
	{
		if (json_is_object(json_object_get(page->root, "error")))
			StrapiErrorText(body, len, err, errlen);
		else
			snprintf(err, errlen, "\"data\" is not a list (is this a collection type?)");
		goto fail;
	}
	meta = json_object_get(page->root, "meta");
	pagination = json_object_get(meta, "pagination");
	if (!json_is_object(pagination))
	{
		snprintf(err, errlen, "no meta.pagination");
		goto fail;
	}
	if (!PaginationInt(pagination, "page", &page->page) ||
		!PaginationInt(pagination, "pageSize", &page->page_size) ||
		!PaginationInt(pagination, "pageCount", &page->page_count) ||
		!PaginationInt(pagination, "total", &page->total))
	{
		snprintf(err, errlen, "meta.pagination needs page, pageSize, pageCount and total as integers from 0");
		goto fail;
	}
	page->count = json_array_size(page->data);
	if (page->page < 1 || page->page_size < 1)
	{
		snprintf(err, errlen, "meta.pagination has page %d and pageSize %d (both must be at least 1)",
				 page->page, page->page_size);
		goto fail;
	}
	/* Strapi's own rule: pageCount = ceil(total / pageSize) */
	if ((long long) page->page_count != ((long long) page->total + page->page_size - 1) / page->page_size)
	{
		snprintf(err, errlen, "meta.pagination is inconsistent: total %d in pages of %d is not %d pages",
				 page->total, page->page_size, page->page_count);
		goto fail;
	}
	if (page->count > (size_t) page->page_size)
	{
		snprintf(err, errlen, "%zu entries on a page of %d", page->count, page->page_size);
		goto fail;
	}
	for (size_t i = 0; i < page->count; i++)
	{
		const json_t *entry = json_array_get(page->data, i);

		if (!json_is_object(entry))
		{
			snprintf(err, errlen, "entry %zu is not an object", i + 1);
			goto fail;
		}
		if (!StrapiEntryId(entry, id, sizeof(id)))
		{
			snprintf(err, errlen, "entry %zu has neither a documentId nor an id", i + 1);
			goto fail;
		}
		if (json_is_object(json_object_get(entry, "attributes")))
			page->v4_shape = true;
	}
	page->raw = calloc(page->count ? page->count : 1, sizeof(StrapiSlice));
	if (page->raw == NULL || !FindEntries(body, len, page->raw, page->count))
	{
		snprintf(err, errlen, "the entries of \"data\" could not be located in the body");
		goto fail;
	}
	return true;

fail:
	StrapiPageFree(page);
	return false;
}

void
StrapiPageFree(StrapiPage *page)
{
	if (page == NULL)
		return;
	json_decref(page->root);
	free(page->raw);
	memset(page, 0, sizeof(*page));
}

/* Copies at most buflen - 1 bytes of text, anything but printable ASCII as '?' */
static void
CopyPrintable(char *buf, size_t buflen, const char *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < buflen; i++)
	{
		unsigned char ch = (unsigned char) text[i];

		buf[n++] = ch >= 0x20 && ch < 0x7f ? (char) ch : '?';
	}
	buf[n] = '\0';
}

void
StrapiErrorText(const char *body, size_t len, char *buf, size_t buflen)
{
	json_t		 *root;
	const json_t *error;
	const char	 *name;
	const char	 *message;
	char		  line[512];
	int			  n;

	if (buflen == 0)
		return;
	buf[0] = '\0';
	if (body == NULL || len == 0)
	{
		snprintf(buf, buflen, "(empty body)");
		return;
	}
	root = json_loadb(body, len, 0, NULL);
	error = json_object_get(root, "error");
	name = json_string_value(json_object_get(error, "name"));
	message = json_string_value(json_object_get(error, "message"));
	if (name == NULL || *name == '\0')
		name = NULL;
	if (message == NULL || *message == '\0')
		message = NULL;
	if (name != NULL || message != NULL)
	{
		n = snprintf(line, sizeof(line), "%s%s%s", name ? name : "", name && message ? ": " : "",
					 message ? message : "");
		CopyPrintable(buf, buflen, line, n < 0 ? 0 : strnlen(line, sizeof(line)));
	}
	else
		CopyPrintable(buf, buflen < 121 ? buflen : 121, body, len);
	json_decref(root);
}
