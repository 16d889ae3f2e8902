/*
 * strapi_page.h
 *	  The pure parts of `multistore-proxy strapi-sync`: its settings, the
 *	  URL of one page of Strapi's REST listing, and reading that page.
 *
 * Strapi v4 and v5 answer a listing with the same envelope:
 *
 *	  {"data": [entry, ...],
 *	   "meta": {"pagination": {"page": 1, "pageSize": 100, "pageCount": 2, "total": 120}}}
 *
 * where an entry is flat in v5 ({id, documentId, sku, ...}) and
 * {id, attributes: {...}} in v4.  StrapiPageParse checks the envelope and
 * keeps, for each entry, its exact bytes in the answer: entries go to the
 * extension as they came, so a price such as 1.1 never passes through a
 * C double.  No I/O here: tests/proxy/test_strapi_sync.c and
 * tests/fuzz/fuzz_strapi_page.c.
 */
#ifndef PROXY_STRAPI_PAGE_H
#define PROXY_STRAPI_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"

/* Strapi's own default ceiling of pageSize (api.rest.maxLimit) */
#define STRAPI_PAGE_SIZE_DEFAULT 100
/* Beyond this many pages a listing is refused rather than read forever */
#define STRAPI_MAX_PAGES 100000
/* The longest product id the proxy keeps (documentId is 24 characters) */
#define STRAPI_ID_MAX 256

typedef struct StrapiSyncConfig
{
	char  *database_url; /* required */
	char  *strapi_url;	 /* required: http(s)://host[:port][/prefix], no trailing '/' */
	char  *api_token;	 /* required: sent as "Authorization: Bearer <token>" */
	int	   page_size;	 /* STRAPI_SYNC_PAGE_SIZE, 1..1000, default 100 */
	int	   timeout;		 /* STRAPI_SYNC_TIMEOUT: seconds one HTTP call may take in all */
	int	   retries;		 /* STRAPI_SYNC_RETRIES: more tries of a page after a network error or 5xx */
	size_t max_bytes;	 /* STRAPI_SYNC_MAX_BYTES: the largest page accepted */
	bool   allow_empty;	 /* STRAPI_SYNC_ALLOW_EMPTY=1: an empty listing may unpublish everything */
} StrapiSyncConfig;

/*
 * StrapiSyncConfigLoad reads the settings through getenv_fn.  On a missing
 * or bad one it returns false with one line in err naming the variable;
 * StrapiSyncConfigFree is then still to be called.
 */
extern bool StrapiSyncConfigLoad(StrapiSyncConfig *c, GetEnv getenv_fn, char *err, size_t errlen);
extern void StrapiSyncConfigFree(StrapiSyncConfig *c);

/*
 * StrapiListUrl returns (malloc'd) the URL of page `page` of the collection
 * `plural` ("products"), pageSize page_size, in a stable order (by id),
 * with populate=* when populate is set (relations, one level deep).
 */
extern char *StrapiListUrl(const char *base, const char *plural, int page, int page_size, bool populate);

typedef struct StrapiSlice
{
	size_t offset; /* into the answer's body */
	size_t len;
} StrapiSlice;

typedef struct StrapiPage
{
	json_t		*root;	/* the whole answer (owned) */
	json_t		*data;	/* root's "data" array (borrowed from root) */
	size_t		 count; /* entries in data */
	StrapiSlice *raw;	/* count slices: each entry's exact text in the body (owned) */
	int			 page;	/* meta.pagination, as Strapi says */
	int			 page_size;
	int			 page_count;
	int			 total;
	bool		 v4_shape; /* some entry had {id, attributes} */
} StrapiPage;

/*
 * StrapiPageParse reads one answer of a listing (body of len bytes, not
 * necessarily NUL-terminated).  It returns false with one line in err
 * when the body is not JSON, not the envelope above, or has an entry that
 * is not an object with a documentId or an id.  On success the caller
 * frees page with StrapiPageFree (on failure there is nothing to free,
 * though calling it is harmless).
 */
extern bool StrapiPageParse(const char *body, size_t len, StrapiPage *page, char *err, size_t errlen);
extern void StrapiPageFree(StrapiPage *page);

/*
 * StrapiEntryId writes the id the catalogue gives an entry: its
 * documentId when it has one (v5), else its id (v4), as text.  Returns
 * false when the entry has neither in a usable form.
 */
extern bool StrapiEntryId(const json_t *entry, char *buf, size_t buflen);

/*
 * StrapiErrorText writes a one-line, printable summary of an error answer:
 * Strapi's error.name and error.message when the body is its error
 * envelope, else the start of the body.
 */
extern void StrapiErrorText(const char *body, size_t len, char *buf, size_t buflen);

#endif /* PROXY_STRAPI_PAGE_H */
