/*
 * strapi_sync.c
 *	  `multistore-proxy strapi-sync`: pages through Strapi's REST listing of
 *	  products, then promotions, applies each entry with
 *	  multistore.strapi_sync_entry, and ends each model with
 *	  multistore.strapi_sync_finish (which unpublishes what Strapi no longer
 *	  lists).
 *
 * Strapi signs nothing and never retries a webhook, so this is how the
 * catalogue catches up with whatever was lost.  Its one dangerous step is
 * strapi_sync_finish, so it runs only after a whole listing was read and
 * looked consistent: any failed page (HTTP error, timeout, bad JSON, a
 * refused token), a total that changed between pages, an entry listed
 * twice, or fewer entries than Strapi counted ends the run without it.
 * An empty listing while products from Strapi are published here is
 * refused unless STRAPI_SYNC_ALLOW_EMPTY=1 (strapi_sync_finish runs in a
 * transaction that is rolled back).  Entries the extension refuses are
 * reported and kept (their ids count as seen), and the run exits 1.
 *
 * HTTP: libcurl, a total timeout on every call, http and https only, a
 * bounded answer, redirects followed only on the same host and never
 * from https to http (the token goes with them).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "server.h"
#include "strapi_page.h"
#include "strapi_sync.h"

#define MAX_REDIRECTS	   3
#define DB_CONNECT_TIMEOUT "10"
/* one entry, or the finish of a model, may take this long in the database */
#define DB_STATEMENT_TIMEOUT "-c statement_timeout=60000"
/* unpublished ids named on the terminal; the rest are counted */
#define MAX_IDS_SHOWN 10

typedef struct Model
{
	const char *name;	  /* the extension's model: 'product' */
	const char *plural;	  /* Strapi's route: /api/products */
	bool		optional; /* a 404: this Strapi has no such type, skipped */
	bool		populate; /* its relations are part of it (a promotion's products and stores) */
} Model;

static const Model models[] = {
	{"product", "products", false, false},
	{"promotion", "promotions", true, true},
};

#define NMODELS (sizeof(models) / sizeof(models[0]))

/* What strapi_sync_entry answered, counted */
typedef enum Outcome
{
	OUTCOME_CREATED,
	OUTCOME_UPDATED,
	OUTCOME_UNCHANGED,
	OUTCOME_STALE,
	OUTCOME_OTHER,
	NOUTCOMES
} Outcome;

static const char *const outcome_names[NOUTCOMES] = {"created", "updated", "unchanged", "stale", "other"};

typedef struct ModelResult
{
	bool   skipped; /* Strapi has no such collection (404) */
	int	   listed;
	int	   counts[NOUTCOMES];
	int	   refused; /* entries the extension refused */
	size_t unpublished;
} ModelResult;

typedef struct Sync
{
	const StrapiSyncConfig *config;
	CURL				   *curl;
	PGconn				   *db;
	bool					color;
	char					started_at[64]; /* the database's now() when the run began */
} Sync;

/* --- output --- */

static void __attribute__((format(printf, 2, 3))) Step(const Sync *s, const char *fmt, ...)
{
	va_list args;

	fputs(s->color ? "\033[1m==> " : "==> ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputs(s->color ? "\033[0m\n" : "\n", stderr);
}

static void __attribute__((format(printf, 1, 2))) Note(const char *fmt, ...)
{
	va_list args;

	fputs("    ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 1, 2))) Fail(const char *fmt, ...)
{
	va_list args;

	fputs("strapi-sync: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
}

static double
NowSeconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* --- HTTP --- */

/* A bounded answer body */
typedef struct Body
{
	char  *data;
	size_t len;
	size_t max;
	bool   too_big;
} Body;

/* libcurl's write callback: keeps at most max bytes, refuses more */
static size_t
BodyWrite(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Body  *b = userdata;
	size_t n = size * nmemb;
	char  *grown;

	if (n > b->max - b->len)
	{
		b->too_big = true;
		return 0;
	}
	grown = realloc(b->data, b->len + n + 1);
	if (grown == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

typedef struct Answer
{
	long  status; /* 0 when no answer came */
	Body  body;
	char *location; /* a redirect's target (owned) */
	char  error[CURL_ERROR_SIZE + 128];
	bool  retryable; /* a network error, 429 or 5xx */
} Answer;

static void
AnswerFree(Answer *a)
{
	free(a->body.data);
	free(a->location);
	memset(a, 0, sizeof(*a));
}

/*
 * HttpGet makes one GET of url with the token; true when an HTTP answer
 * came (any status), false with a->error set otherwise.  Frees nothing of
 * the caller's; a is reset first and owns what it holds after.
 */
static bool
HttpGet(const Sync *s, const char *url, Answer *a)
{
	const StrapiSyncConfig *c = s->config;
	struct curl_slist	   *headers = NULL;
	char				   *auth;
	char					errbuf[CURL_ERROR_SIZE];
	CURLcode				rc;
	char				   *redirect = NULL;
	size_t					auth_len = strlen(c->api_token) + 32;

	memset(a, 0, sizeof(*a));
	a->body.max = c->max_bytes;
	errbuf[0] = '\0';
	auth = malloc(auth_len);
	if (auth == NULL)
	{
		snprintf(a->error, sizeof(a->error), "out of memory");
		return false;
	}
	snprintf(auth, auth_len, "Authorization: Bearer %s", c->api_token);
	headers = curl_slist_append(headers, auth);
	headers = curl_slist_append(headers, "Accept: application/json");

	curl_easy_reset(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "multistore-strapi-sync/" PROXY_VERSION);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, (long) c->timeout);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, (long) (c->timeout < 10 ? c->timeout : 10));
	curl_easy_setopt(s->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) c->max_bytes);
	/* gzip is welcome; the bound applies to what it inflates to */
	curl_easy_setopt(s->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, BodyWrite);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &a->body);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);

	rc = curl_easy_perform(s->curl);
	curl_slist_free_all(headers);
	free(auth);
	if (rc != CURLE_OK)
	{
		if (a->body.too_big || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(a->error, sizeof(a->error),
					 "the answer is larger than STRAPI_SYNC_MAX_BYTES (%zu bytes)", c->max_bytes);
		else
		{
			snprintf(a->error, sizeof(a->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
			a->retryable = true;
		}
		return false;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &a->status);
	if (curl_easy_getinfo(s->curl, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect != NULL)
		a->location = strdup(redirect);
	a->retryable = a->status == 429 || a->status >= 500;
	return true;
}

/* A URL's part (host, scheme), lower-cased, malloc'd; NULL when it has none */
static char *
UrlPart(const char *url, CURLUPart what)
{
	CURLU *u = curl_url();
	char  *part = NULL;
	char  *copy = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, what, &part, 0) == CURLUE_OK)
	{
		copy = strdup(part);
		for (char *p = copy; *p; p++)
			*p = (char) tolower((unsigned char) *p);
	}
	curl_free(part);
	curl_url_cleanup(u);
	return copy;
}

/* May the token follow a redirect from `from` to `to`?  Same host, and never https to http */
static bool
RedirectAllowed(const char *from, const char *to)
{
	char *from_host = UrlPart(from, CURLUPART_HOST);
	char *to_host = UrlPart(to, CURLUPART_HOST);
	char *from_scheme = UrlPart(from, CURLUPART_SCHEME);
	char *to_scheme = UrlPart(to, CURLUPART_SCHEME);
	bool  allowed = from_host && to_host && from_scheme && to_scheme && strcmp(from_host, to_host) == 0 &&
				   !(strcmp(from_scheme, "https") == 0 && strcmp(to_scheme, "https") != 0);

	free(from_host);
	free(to_host);
	free(from_scheme);
	free(to_scheme);
	return allowed;
}

/*
 * Fetch gets url into a, following same-host redirects and retrying
 * network errors, 429 and 5xx up to the configured number of times.  True
 * when an answer came; its status may still be an error.
 */
static bool
Fetch(const Sync *s, const char *url, Answer *a)
{
	char *current = strdup(url);

	for (int attempt = 0, hops = 0;;)
	{
		bool answered = HttpGet(s, current, a);

		if (answered && a->status >= 300 && a->status < 400 && a->location != NULL)
		{
			char *next;

			if (++hops > MAX_REDIRECTS || !RedirectAllowed(current, a->location))
			{
				char location[200];

				snprintf(location, sizeof(location), "%s", a->location);
				AnswerFree(a);
				snprintf(a->error, sizeof(a->error),
						 "Strapi redirected to %s, which the token is not sent to (another host, https to "
						 "http, or more than %d hops): set STRAPI_URL to where Strapi is",
						 location, MAX_REDIRECTS);
				free(current);
				return false;
			}
			next = a->location;
			a->location = NULL;
			AnswerFree(a);
			free(current);
			current = next;
			continue;
		}
		if (!a->retryable || attempt >= s->config->retries)
		{
			free(current);
			return answered;
		}
		attempt++;
		if (answered)
			Note("HTTP %ld, trying again (%d of %d)", a->status, attempt, s->config->retries);
		else
			Note("%s, trying again (%d of %d)", a->error, attempt, s->config->retries);
		AnswerFree(a);
		sleep((unsigned) attempt);
	}
}

/* --- database --- */

static PGconn *
Connect(const char *url)
{
	/* ours first: what the URL names wins */
	const char *const keys[] = {"connect_timeout", "fallback_application_name", "options", "dbname", NULL};
	const char *const values[] = {DB_CONNECT_TIMEOUT, "multistore-strapi-sync", DB_STATEMENT_TIMEOUT, url,
								  NULL};
	PGconn			 *conn = PQconnectdbParams(keys, values, 1);

	if (PQstatus(conn) != CONNECTION_OK)
	{
		char	   *message = PQerrorMessage(conn);
		size_t		len = strcspn(message, "\n");
		const char *cut = len > 0 ? message : "connection failed";

		Fail("cannot connect to DATABASE_URL: %.*s", (int) (len > 0 ? len : strlen(cut)), cut);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* One line of a failed statement: SQLSTATE and primary message */
static void
ResultError(const PGresult *res, const PGconn *conn, char *buf, size_t buflen)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (message == NULL)
		message = PQerrorMessage(conn);
	snprintf(buf, buflen, "%.*s%s%s%s", (int) strcspn(message, "\n"), message, state ? " (" : "",
			 state ? state : "", state ? ")" : "");
}

/* Are the extension's functions there?  Says what to do when not */
static bool
CheckFunctions(Sync *s)
{
	PGresult *res = PQexec(
		s->db, "SELECT to_regprocedure('multistore.strapi_sync_entry(text,jsonb)') IS NOT NULL,"
			   " to_regprocedure('multistore.strapi_sync_finish(text,text[],timestamptz)') IS NOT NULL");
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
			  strcmp(PQgetvalue(res, 0, 0), "t") == 0 && strcmp(PQgetvalue(res, 0, 1), "t") == 0;

	if (!ok)
	{
		char why[512];

		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			Fail("the database of DATABASE_URL has no multistore.strapi_sync_entry(text, jsonb) or "
				 "multistore.strapi_sync_finish(text, text[], timestamptz): create or update the extension "
				 "(make migrate)");
		else
		{
			ResultError(res, s->db, why, sizeof(why));
			Fail("cannot read the database's functions: %s", why);
		}
	}
	PQclear(res);
	if (ok)
	{
		/* what a webhook applies from now on is never unpublished by this run */
		res = PQexec(s->db, "SELECT now()");
		ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
		if (ok)
			snprintf(s->started_at, sizeof(s->started_at), "%s", PQgetvalue(res, 0, 0));
		else
			Fail("cannot read the database's clock");
		PQclear(res);
	}
	return ok;
}

/*
 * ApplyEntry calls strapi_sync_entry(model, entry) for the entry's text;
 * on success it writes the catalogue's id into id (else keeps the id the
 * caller computed) and counts the outcome.  False when the extension
 * refused the entry (reported); *broken when the connection is gone.
 */
static bool
ApplyEntry(const Sync *s, const Model *m, const char *text, size_t len, char *id, size_t idlen,
		   ModelResult *r, bool *broken)
{
	char	   *entry = strndup(text, len);
	const char *values[2] = {m->name, entry};
	PGresult *res = PQexecParams(s->db, "SELECT multistore.strapi_sync_entry($1, $2::jsonb)", 2, NULL, values,
								 NULL, NULL, 0);
	bool	  ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;

	free(entry);
	if (ok)
	{
		json_t	   *answer = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
		const char *status = json_string_value(json_object_get(answer, "status"));
		const char *answer_id = json_string_value(json_object_get(answer, "id"));
		Outcome		o = OUTCOME_OTHER;

		for (int i = 0; status && i < OUTCOME_OTHER; i++)
			if (strcmp(status, outcome_names[i]) == 0)
				o = (Outcome) i;
		if (o == OUTCOME_OTHER)
			Note("%s %s: strapi_sync_entry answered %.200s", m->plural, id, PQgetvalue(res, 0, 0));
		r->counts[o]++;
		if (answer_id != NULL && *answer_id != '\0' && strlen(answer_id) < idlen)
			snprintf(id, idlen, "%s", answer_id);
		json_decref(answer);
	}
	else
	{
		char why[512];

		ResultError(res, s->db, why, sizeof(why));
		Note("%s %s refused: %s", m->plural, id, why);
		r->refused++;
		*broken = PQstatus(s->db) != CONNECTION_OK;
	}
	PQclear(res);
	return ok;
}

/*
 * Finish calls strapi_sync_finish(model, seen) in a transaction and
 * commits it, unless the listing was empty, products from Strapi would
 * all be unpublished, and STRAPI_SYNC_ALLOW_EMPTY is not set.
 */
static bool
Finish(const Sync *s, const Model *m, json_t *seen, ModelResult *r)
{
	char	   *ids = json_dumps(seen, JSON_COMPACT);
	const char *values[3] = {m->name, ids, s->started_at};
	PGresult   *res = PQexec(s->db, "BEGIN");
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	char		why[512];
	json_t	   *answer = NULL;
	json_t	   *unpublished;

	PQclear(res);
	res = NULL;
	if (ok)
	{
		/* the ids go as one JSON array: no array literal is built by hand */
		res = PQexecParams(s->db,
						   "SELECT multistore.strapi_sync_finish($1,"
						   " ARRAY(SELECT json_array_elements_text($2::json)), $3::timestamptz)",
						   3, NULL, values, NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	}
	if (!ok)
	{
		ResultError(res, s->db, why, sizeof(why));
		Fail("%s: strapi_sync_finish failed: %s", m->plural, why);
		goto done;
	}
	answer = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	unpublished = json_object_get(answer, "unpublished");
	if (!json_is_array(unpublished))
	{
		Fail("%s: strapi_sync_finish answered %.200s (no \"unpublished\" list)", m->plural,
			 PQgetvalue(res, 0, 0));
		ok = false;
		goto done;
	}
	r->unpublished = json_array_size(unpublished);
	if (r->listed == 0 && r->unpublished > 0 && !s->config->allow_empty)
	{
		Fail("Strapi listed no %s, yet %zu from Strapi are published here: refusing to unpublish them all "
			 "(nothing was changed; STRAPI_SYNC_ALLOW_EMPTY=1 allows it)",
			 m->plural, r->unpublished);
		r->unpublished = 0;
		ok = false;
		goto done;
	}
	PQclear(res);
	res = PQexec(s->db, "COMMIT");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
	{
		ResultError(res, s->db, why, sizeof(why));
		Fail("%s: committing strapi_sync_finish failed: %s", m->plural, why);
		r->unpublished = 0;
		goto done;
	}
	if (r->unpublished > 0)
	{
		char   line[1024];
		size_t n = 0;

		line[0] = '\0';
		for (size_t i = 0; i < r->unpublished && i < MAX_IDS_SHOWN; i++)
		{
			const char *id = json_string_value(json_array_get(unpublished, i));
			int			w = snprintf(line + n, sizeof(line) - n, "%s%.64s", i ? ", " : "", id ? id : "?");

			if (w < 0 || (size_t) w >= sizeof(line) - n)
				break;
			n += (size_t) w;
		}
		Note("unpublished (no longer listed by Strapi): %s%s", line,
			 r->unpublished > MAX_IDS_SHOWN ? ", ..." : "");
	}

done:
	PQclear(res);
	if (!ok && PQtransactionStatus(s->db) != PQTRANS_IDLE)
		PQclear(PQexec(s->db, "ROLLBACK"));
	json_decref(answer);
	free(ids);
	return ok;
}

/* --- one model --- */

/*
 * SyncModel lists one collection page by page, applies every entry, and
 * finishes it when the listing was whole.  False (said why) on any failure.
 */
static bool
SyncModel(const Sync *s, const Model *m, ModelResult *r)
{
	json_t *seen = json_array();
	json_t *seen_set = json_object();
	int		total = -1;
	int		page_count = 1;
	bool	ok = true;
	bool	said_v4 = false;

	memset(r, 0, sizeof(*r));
	for (int page = 1; ok && page <= page_count; page++)
	{
		char  *url = StrapiListUrl(s->config->strapi_url, m->plural, page, s->config->page_size, m->populate);
		Answer a;
		StrapiPage p;
		char	   why[512];

		if (!Fetch(s, url, &a))
		{
			Fail("%s page %d: %s (GET %s)", m->plural, page, a.error, url);
			ok = false;
		}
		else if (a.status == 404 && page == 1 && m->optional)
		{
			Step(s, "%s: Strapi has none (404 on /api/%s): skipped", m->plural, m->plural);
			r->skipped = true;
			AnswerFree(&a);
			free(url);
			break;
		}
		else if (a.status == 401 || a.status == 403)
		{
			StrapiErrorText(a.body.data, a.body.len, why, sizeof(why));
			Fail("STRAPI_API_TOKEN was refused (%ld): %s (GET %s)", a.status, why, url);
			ok = false;
		}
		else if (a.status != 200)
		{
			StrapiErrorText(a.body.data, a.body.len, why, sizeof(why));
			Fail("%s page %d: Strapi answered %ld: %s (GET %s)", m->plural, page, a.status, why, url);
			ok = false;
		}
		else if (!StrapiPageParse(a.body.data, a.body.len, &p, why, sizeof(why)))
		{
			Fail("%s page %d is not a Strapi listing: %s (GET %s)", m->plural, page, why, url);
			ok = false;
		}
		else
		{
			if (p.page != page)
			{
				Fail("%s: asked for page %d, Strapi answered page %d", m->plural, page, p.page);
				ok = false;
			}
			else if (total >= 0 && p.total != total)
			{
				Fail(
					"%s: the listing changed while it was read (total %d, then %d): nothing was unpublished; "
					"run again",
					m->plural, total, p.total);
				ok = false;
			}
			else if (p.page_count > STRAPI_MAX_PAGES)
			{
				Fail("%s: %d pages is more than strapi-sync reads (%d); raise STRAPI_SYNC_PAGE_SIZE",
					 m->plural, p.page_count, STRAPI_MAX_PAGES);
				ok = false;
			}
			else
			{
				total = p.total;
				page_count = p.page_count;
				if (p.v4_shape && !said_v4)
					Note("%s: Strapi v4 entries ({id, attributes})", m->plural);
				said_v4 = said_v4 || p.v4_shape;
				Step(s, "%s page %d/%d (%zu entries)", m->plural, page, page_count > 0 ? page_count : 1,
					 p.count);
			}
			for (size_t i = 0; ok && i < p.count; i++)
			{
				char id[STRAPI_ID_MAX];
				bool broken = false;

				StrapiEntryId(json_array_get(p.data, i), id, sizeof(id));
				r->listed++;
				/* refused or not, a listed entry is never unpublished */
				ApplyEntry(s, m, a.body.data + p.raw[i].offset, p.raw[i].len, id, sizeof(id), r, &broken);
				if (broken)
				{
					Fail("%s: the database connection was lost", m->plural);
					ok = false;
				}
				else if (json_object_get(seen_set, id) != NULL)
				{
					Fail("%s: %s was listed twice: the listing changed while it was read; nothing was "
						 "unpublished; run again",
						 m->plural, id);
					ok = false;
				}
				else
				{
					json_object_set_new(seen_set, id, json_true());
					json_array_append_new(seen, json_string(id));
				}
			}
			StrapiPageFree(&p);
		}
		AnswerFree(&a);
		free(url);
	}
	if (ok && !r->skipped && r->listed != (total < 0 ? 0 : total))
	{
		Fail("%s: Strapi counted %d but listed %d: the listing changed while it was read; nothing was "
			 "unpublished; run again",
			 m->plural, total, r->listed);
		ok = false;
	}
	if (ok && !r->skipped)
		ok = Finish(s, m, seen, r);
	json_decref(seen);
	json_decref(seen_set);
	return ok;
}

/* "products 120 listed: 3 created, ... 2 unpublished" into buf */
static void
Summarize(const Model *m, const ModelResult *r, char *buf, size_t buflen)
{
	int n;

	if (r->skipped)
	{
		snprintf(buf, buflen, "%s: none in Strapi", m->plural);
		return;
	}
	n = snprintf(buf, buflen, "%s %d listed: %d created, %d updated, %d unchanged, %d stale, %zu unpublished",
				 m->plural, r->listed, r->counts[OUTCOME_CREATED], r->counts[OUTCOME_UPDATED],
				 r->counts[OUTCOME_UNCHANGED], r->counts[OUTCOME_STALE], r->unpublished);
	if (n > 0 && (size_t) n < buflen && (r->refused || r->counts[OUTCOME_OTHER]))
		snprintf(buf + n, buflen - (size_t) n, ", %d refused, %d other", r->refused,
				 r->counts[OUTCOME_OTHER]);
}

static const char *
RealGetEnv(const char *name)
{
	return getenv(name);
}

int
StrapiSyncMain(int argc, char **argv)
{
	StrapiSyncConfig config;
	Sync			 s;
	ModelResult		 results[NMODELS];
	char			 err[512];
	double			 started = NowSeconds();
	bool			 ok = true;
	size_t			 done = 0;
	int				 refused = 0;

	(void) argv;
	if (argc > 2)
	{
		fprintf(stderr, "usage: multistore-proxy strapi-sync   (settings from the environment; see "
						"docs/strapi-sync.md)\n");
		return 2;
	}
	if (!StrapiSyncConfigLoad(&config, RealGetEnv, err, sizeof(err)))
	{
		fprintf(stderr, "strapi-sync: %s\n", err);
		StrapiSyncConfigFree(&config);
		return 2;
	}
	memset(&s, 0, sizeof(s));
	memset(results, 0, sizeof(results));
	s.config = &config;
	s.color = isatty(STDERR_FILENO);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (s.curl = curl_easy_init()) == NULL)
	{
		Fail("libcurl could not start");
		StrapiSyncConfigFree(&config);
		return 1;
	}
	s.db = Connect(config.database_url);
	ok = s.db != NULL && CheckFunctions(&s);
	for (size_t i = 0; ok && i < NMODELS; i++)
	{
		ok = SyncModel(&s, &models[i], &results[i]);
		refused += results[i].refused;
		done = i + 1;
	}

	if (ok)
	{
		char   line[2048];
		size_t used = 0;

		used += (size_t) snprintf(line, sizeof(line), "strapi-sync: ");
		for (size_t i = 0; i < done && used < sizeof(line); i++)
		{
			Summarize(&models[i], &results[i], line + used, sizeof(line) - used);
			used = strlen(line);
			if (i + 1 < done && used < sizeof(line))
				used += (size_t) snprintf(line + used, sizeof(line) - used, "; ");
		}
		if (used < sizeof(line))
			snprintf(line + used, sizeof(line) - used, " in %.1fs", NowSeconds() - started);
		printf("%s\n", line);
		if (refused > 0)
			Fail("%d entries were refused by the extension (above): kept as they were, exit 1", refused);
	}
	else
		Fail("failed after %.1fs", NowSeconds() - started);

	if (s.db)
		PQfinish(s.db);
	curl_easy_cleanup(s.curl);
	curl_global_cleanup();
	StrapiSyncConfigFree(&config);
	fflush(stdout);
	return ok && refused == 0 ? 0 : 1;
}
