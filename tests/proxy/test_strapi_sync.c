/*
 * test_strapi_sync.c
 *	  strapi-sync's pure parts: its settings, the listing URL, and reading
 *	  Strapi v4 and v5 listing pages (envelope, pagination, each entry's
 *	  exact text and id).
 */
#include <stdlib.h>

#include "strapi_page.h"
#include "tap.h"

static const char *const *fake_env;

static const char *
FakeGetEnv(const char *name)
{
	for (const char *const *p = fake_env; *p; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

static bool
Load(const char *const *env, StrapiSyncConfig *c, char *err)
{
	fake_env = env;
	err[0] = '\0';
	return StrapiSyncConfigLoad(c, FakeGetEnv, err, 256);
}

static bool
Parse(const char *body, StrapiPage *p, char *err)
{
	err[0] = '\0';
	return StrapiPageParse(body, strlen(body), p, err, 256);
}

/* The exact text of entry i */
static char *
Raw(const char *body, const StrapiPage *p, size_t i)
{
	return strndup(body + p->raw[i].offset, p->raw[i].len);
}

static void
TestConfig(void)
{
	StrapiSyncConfig		 c;
	char					 err[256];
	static const char *const good[] = {"DATABASE_URL",
									   "postgresql://u@h/db",
									   "STRAPI_URL",
									   "http://cms:1337//",
									   "STRAPI_API_TOKEN",
									   "abc123",
									   NULL};
	static const char *const no_url[] = {"DATABASE_URL", "x", "STRAPI_API_TOKEN", "t", NULL};
	static const char *const no_token[] = {"DATABASE_URL", "x", "STRAPI_URL", "http://cms", NULL};
	static const char *const no_db[] = {"STRAPI_URL", "http://cms", "STRAPI_API_TOKEN", "t", NULL};
	static const char *const ftp[] = {"DATABASE_URL",	  "x", "STRAPI_URL", "ftp://cms",
									  "STRAPI_API_TOKEN", "t", NULL};
	static const char *const api[] = {"DATABASE_URL",	  "x", "STRAPI_URL", "https://cms.example.com/api/",
									  "STRAPI_API_TOKEN", "t", NULL};
	static const char *const query[] = {"DATABASE_URL",		"x", "STRAPI_URL", "http://cms/?a=b",
										"STRAPI_API_TOKEN", "t", NULL};
	static const char *const nohost[] = {"DATABASE_URL",	 "x", "STRAPI_URL", "http:///x",
										 "STRAPI_API_TOKEN", "t", NULL};
	static const char *const crlf[] = {"DATABASE_URL",	 "x", "STRAPI_URL", "http://cms", "STRAPI_API_TOKEN",
									   "t\r\nX-Evil: 1", NULL};
	static const char *const knobs[] = {"DATABASE_URL",
										"x",
										"STRAPI_URL",
										"https://cms.example.com/strapi",
										"STRAPI_API_TOKEN",
										"t",
										"STRAPI_SYNC_PAGE_SIZE",
										"2",
										"STRAPI_SYNC_ALLOW_EMPTY",
										"1",
										"STRAPI_SYNC_TIMEOUT",
										"5",
										NULL};
	static const char *const bad_size[] = {
		"DATABASE_URL",			 "x", "STRAPI_URL", "http://cms", "STRAPI_API_TOKEN", "t",
		"STRAPI_SYNC_PAGE_SIZE", "0", NULL};
	static const char *const bad_empty[] = {
		"DATABASE_URL", "x", "STRAPI_URL", "http://cms", "STRAPI_API_TOKEN", "t", "STRAPI_SYNC_ALLOW_EMPTY",
		"yes",			NULL};

	ok(Load(good, &c, err), "the three required settings are enough");
	is_str(c.strapi_url, "http://cms:1337", "trailing slashes of STRAPI_URL are dropped");
	is_int(c.page_size, 100, "STRAPI_SYNC_PAGE_SIZE defaults to 100 (Strapi's own maxLimit)");
	is_int(c.timeout, 30, "STRAPI_SYNC_TIMEOUT defaults to 30 s");
	is_int(c.retries, 2, "STRAPI_SYNC_RETRIES defaults to 2");
	ok(c.max_bytes == 32 * 1048576, "STRAPI_SYNC_MAX_BYTES defaults to 32 MiB");
	ok(!c.allow_empty, "an empty listing unpublishes nothing by default");
	StrapiSyncConfigFree(&c);

	ok(!Load(no_url, &c, err) && strstr(err, "STRAPI_URL is required") == err, "STRAPI_URL is required: %s",
	   err);
	StrapiSyncConfigFree(&c);
	ok(!Load(no_token, &c, err) && strstr(err, "STRAPI_API_TOKEN is required") == err,
	   "STRAPI_API_TOKEN is required: %s", err);
	StrapiSyncConfigFree(&c);
	ok(!Load(no_db, &c, err) && strstr(err, "DATABASE_URL is required") == err,
	   "DATABASE_URL is required: %s", err);
	StrapiSyncConfigFree(&c);
	ok(!Load(ftp, &c, err) && strstr(err, "http:// or https://") != NULL, "only http and https: %s", err);
	StrapiSyncConfigFree(&c);
	ok(!Load(api, &c, err) && strstr(err, "without /api") != NULL, "a base URL ending in /api is refused: %s",
	   err);
	StrapiSyncConfigFree(&c);
	ok(!Load(query, &c, err), "a base URL with a query is refused: %s", err);
	StrapiSyncConfigFree(&c);
	ok(!Load(nohost, &c, err), "a base URL without a host is refused: %s", err);
	StrapiSyncConfigFree(&c);
	ok(!Load(crlf, &c, err) && strstr(err, "STRAPI_API_TOKEN") == err,
	   "a token that would split the header is refused: %s", err);
	StrapiSyncConfigFree(&c);
	ok(Load(knobs, &c, err), "the optional settings load");
	ok(c.page_size == 2 && c.allow_empty && c.timeout == 5, "and are read");
	is_str(c.strapi_url, "https://cms.example.com/strapi", "a path prefix stays");
	StrapiSyncConfigFree(&c);
	ok(!Load(bad_size, &c, err) &&
		   strstr(err, "STRAPI_SYNC_PAGE_SIZE must be an integer from 1 to 1000") == err,
	   "page size is bounded: %s", err);
	StrapiSyncConfigFree(&c);
	ok(!Load(bad_empty, &c, err) && strstr(err, "STRAPI_SYNC_ALLOW_EMPTY must be 0 or 1") == err,
	   "STRAPI_SYNC_ALLOW_EMPTY is 0 or 1: %s", err);
	StrapiSyncConfigFree(&c);
}

static void
TestUrl(void)
{
	char *url = StrapiListUrl("http://127.0.0.1:1337", "products", 3, 100, false);

	is_str(url,
		   "http://127.0.0.1:1337/api/products?pagination%5Bpage%5D=3&pagination%5BpageSize%5D=100"
		   "&sort%5B0%5D=id%3Aasc",
		   "page URL: page-based pagination, brackets encoded, a stable order");
	free(url);
	url = StrapiListUrl("https://cms/strapi", "promotions", 1, 2, true);
	is_str(url,
		   "https://cms/strapi/api/promotions?pagination%5Bpage%5D=1&pagination%5BpageSize%5D=2"
		   "&sort%5B0%5D=id%3Aasc&populate=%2A",
		   "with relations: populate=*");
	free(url);
}

/* Strapi 5.54.0's real answer (tests/strapi/fixtures/v5/rest-products-page1.json, re-indented) */
static const char v5_page[] =
	"{\n    \"data\": [\n        {\n            \"id\": 7,\n            \"documentId\": "
	"\"vxbznu5zlsj1dphd4xeutdho\",\n"
	"            \"sku\": \"SKU-1\",\n            \"name\": \"Item 1\",\n            \"price\": 1.25,\n"
	"            \"currency\": \"USD\",\n            \"publishedAt\": \"2026-11-25T01:48:53.417Z\"\n        "
	"},\n"
	"        {\"id\": 9, \"documentId\": \"p63ycevk62nju8m380sgf2ak\", \"sku\": \"SKU-2\", \"price\": 1.1}\n"
	"    ],\n    \"meta\": {\n        \"pagination\": {\n            \"page\": 1,\n            \"pageSize\": "
	"2,\n"
	"            \"pageCount\": 2,\n            \"total\": 3\n        }\n    }\n}\n";

static const char v4_page[] =
	"{\"data\":[{\"id\":12,\"attributes\":{\"sku\":\"MUG-1\",\"name\":\"Mug \\\"]}\\\\\",\"price\":12.50,"
	"\"tags\":[\"a\",{\"b\":[1,2]}]}},{\"id\":13,\"attributes\":{\"sku\":\"MUG-2\",\"price\":1e2}}],"
	"\"meta\":{\"pagination\":{\"page\":2,\"pageSize\":2,\"pageCount\":2,\"total\":4}}}";

static void
TestPages(void)
{
	StrapiPage p;
	char	   err[256];
	char	   id[STRAPI_ID_MAX];
	char	  *raw;

	ok(Parse(v5_page, &p, err), "a real Strapi 5 page parses: %s", err);
	ok(p.page == 1 && p.page_size == 2 && p.page_count == 2 && p.total == 3, "its pagination is read");
	is_int(p.count, 2, "two entries");
	ok(!p.v4_shape, "flat entries: v5");
	ok(StrapiEntryId(json_array_get(p.data, 0), id, sizeof(id)), "an entry has an id");
	is_str(id, "vxbznu5zlsj1dphd4xeutdho", "documentId wins over id");
	raw = Raw(v5_page, &p, 1);
	is_str(raw,
		   "{\"id\": 9, \"documentId\": \"p63ycevk62nju8m380sgf2ak\", \"sku\": \"SKU-2\", \"price\": 1.1}",
		   "an entry's exact text is kept: 1.1 stays 1.1");
	free(raw);
	raw = Raw(v5_page, &p, 0);
	ok(raw[0] == '{' && raw[strlen(raw) - 1] == '}' && strstr(raw, "\"price\": 1.25") != NULL,
	   "the first entry's text spans its object");
	free(raw);
	StrapiPageFree(&p);

	ok(Parse(v4_page, &p, err), "a Strapi 4 page parses: %s", err);
	ok(p.v4_shape, "{id, attributes}: v4");
	ok(StrapiEntryId(json_array_get(p.data, 1), id, sizeof(id)), "a v4 entry has an id");
	is_str(id, "13", "v4: the numeric id, as text");
	raw = Raw(v4_page, &p, 0);
	is_str(raw,
		   "{\"id\":12,\"attributes\":{\"sku\":\"MUG-1\",\"name\":\"Mug \\\"]}\\\\\",\"price\":12.50,"
		   "\"tags\":[\"a\",{\"b\":[1,2]}]}}",
		   "brackets and escaped quotes inside strings do not cut an entry; 12.50 keeps its zero");
	free(raw);
	raw = Raw(v4_page, &p, 1);
	is_str(raw, "{\"id\":13,\"attributes\":{\"sku\":\"MUG-2\",\"price\":1e2}}", "the last entry");
	free(raw);
	StrapiPageFree(&p);

	ok(Parse("{\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":100,\"pageCount\":0,\"total\":0}},\"data\":["
			 "]}",
			 &p, err),
	   "an empty listing (meta first): %s", err);
	ok(p.count == 0 && p.page_count == 0 && p.total == 0, "nothing in it, zero pages");
	StrapiPageFree(&p);

	ok(Parse("{\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":1,\"pageCount\":1,\"total\":1}},"
			 "\"d\\u0061ta\":[ {\"documentId\":\"x\"} ]}",
			 &p, err),
	   "a key spelled with an escape is still \"data\": %s", err);
	raw = p.count == 1
			  ? Raw("{\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":1,\"pageCount\":1,\"total\":1}},"
					"\"d\\u0061ta\":[ {\"documentId\":\"x\"} ]}",
					&p, 0)
			  : NULL;
	is_str(raw, "{\"documentId\":\"x\"}", "and its entry is found");
	free(raw);
	StrapiPageFree(&p);

	ok(!Parse(
		   "{\"data\":null,\"error\":{\"status\":403,\"name\":\"ForbiddenError\",\"message\":\"Forbidden\","
		   "\"details\":{}}}",
		   &p, err),
	   "Strapi's error envelope is no listing");
	is_str(err, "ForbiddenError: Forbidden", "and says Strapi's error");
	ok(!Parse("<html>502 Bad Gateway</html>", &p, err) && strstr(err, "not JSON") == err, "HTML: %s", err);
	ok(!Parse("[]", &p, err), "an array is no envelope: %s", err);
	ok(!Parse("{\"data\":{\"id\":1},\"meta\":{}}", &p, err) && strstr(err, "collection type") != NULL,
	   "a single type's object is no listing: %s", err);
	ok(!Parse("{\"data\":[]}", &p, err) && strstr(err, "meta.pagination") != NULL, "no pagination: %s", err);
	ok(!Parse("{\"data\":[],\"meta\":{\"pagination\":{\"start\":0,\"limit\":25,\"total\":0}}}", &p, err),
	   "offset pagination is not what was asked for: %s", err);
	ok(!Parse("{\"data\":[],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,\"pageCount\":1,\"total\":"
			  "\"9\"}}}",
			  &p, err),
	   "a total that is not a number: %s", err);
	ok(!Parse(
		   "{\"data\":[],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,\"pageCount\":1,\"total\":9}}}",
		   &p, err) &&
		   strstr(err, "inconsistent") != NULL,
	   "pageCount that does not fit total and pageSize: %s", err);
	ok(!Parse(
		   "{\"data\":[],\"meta\":{\"pagination\":{\"page\":0,\"pageSize\":2,\"pageCount\":0,\"total\":0}}}",
		   &p, err),
	   "page 0: %s", err);
	ok(!Parse(
		   "{\"data\":[],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":0,\"pageCount\":0,\"total\":0}}}",
		   &p, err),
	   "pageSize 0 (no division by zero): %s", err);
	ok(!Parse("{\"data\":[{\"id\":1},{\"id\":2},{\"id\":3}],"
			  "\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,\"pageCount\":2,\"total\":3}}}",
			  &p, err),
	   "more entries than pageSize: %s", err);
	ok(!Parse(
		   "{\"data\":[{\"sku\":\"x\"}],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,\"pageCount\":1,"
		   "\"total\":1}}}",
		   &p, err) &&
		   strstr(err, "entry 1 has neither") == err,
	   "an entry without documentId or id: %s", err);
	ok(!Parse("{\"data\":[{\"documentId\":7}],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,"
			  "\"pageCount\":1,"
			  "\"total\":1}}}",
			  &p, err),
	   "a documentId that is not text: %s", err);
	ok(!Parse(
		   "{\"data\":[3],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,\"pageCount\":1,\"total\":1}}}",
		   &p, err),
	   "an entry that is not an object: %s", err);
	ok(!Parse("{\"data\":[],\"data\":[],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,\"pageCount\":0,"
			  "\"total\":0}}}",
			  &p, err),
	   "duplicate keys are refused: %s", err);
	ok(!Parse(
		   "{\"data\":[{\"id\":1,\"sku\":\"a\\u0000b\"}],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,"
		   "\"pageCount\":1,\"total\":1}}}",
		   &p, err),
	   "a NUL in a string (PostgreSQL's jsonb refuses it too): %s", err);
	ok(!Parse("{\"data\":[],\"meta\":{\"pagination\":{\"page\":1,\"pageSize\":2,\"pageCount\":0,\"total\":"
			  "99999999999}}}",
			  &p, err),
	   "a total beyond int: %s", err);
	StrapiPageFree(&p); /* harmless after a failure */
	StrapiPageFree(NULL);
}

static void
TestErrorText(void)
{
	char buf[64];

	StrapiErrorText(
		"{\"data\":null,\"error\":{\"status\":401,\"name\":\"UnauthorizedError\",\"message\":\"Missing "
		"or invalid credentials\"}}",
		strlen("{\"data\":null,\"error\":{\"status\":401,\"name\":\"UnauthorizedError\",\"message\":"
			   "\"Missing or invalid credentials\"}}"),
		buf, sizeof(buf));
	is_str(buf, "UnauthorizedError: Missing or invalid credentials", "Strapi's error name and message");
	StrapiErrorText("Bad\r\nGateway\x01\xff", 14, buf, sizeof(buf));
	is_str(buf, "Bad??Gateway??", "a non-JSON body is cut to printable ASCII on one line");
	StrapiErrorText("", 0, buf, sizeof(buf));
	is_str(buf, "(empty body)", "an empty body says so");
	StrapiErrorText(NULL, 0, buf, sizeof(buf));
	is_str(buf, "(empty body)", "no body at all too");
}

int
main(void)
{
	TestConfig();
	TestUrl();
	TestPages();
	TestErrorText();
	return done_testing();
}
