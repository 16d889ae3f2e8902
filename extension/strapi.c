/*-------------------------------------------------------------------------
 *
 * strapi.c
 *	  Strapi ingestion: products, stock and promotions from Strapi's webhooks
 *	  (v4 and v5) and from strapi-sync's listing of its REST API.
 *
 * A delivery is {event, createdAt, model, uid, entry}.  The document is
 * entry.documentId (v5) or entry.id (v4).  Strapi sends from a queue with
 * concurrency 5, never retries, and may send a delivery twice (a proxy
 * retrying), so deliveries of one document are applied in Strapi's order
 * whatever order they arrive in, each once:
 *
 *	- A document's versions are ordered by (entry.updatedAt, entry.publishedAt,
 *	  event), events ranked create < update < publish < unpublish: an
 *	  unpublish carries the very row it unpublishes (same updatedAt and
 *	  publishedAt as its publish), and a publish again without an edit has a
 *	  later publishedAt.  A delivery older than the version applied is
 *	  "stale", the same one is "duplicate"; both change nothing.
 *	- Strapi 5 keeps a draft and a published row per document:
 *	  entry.create and entry.update with publishedAt null describe the draft
 *	  and change nothing for sale ("draft"); v4 entries and content types
 *	  without draft and publish (no publishedAt, or set) are live.
 *	- A delete is final: the product stays, unpublished, for the orders that
 *	  name it, and a late delivery of the document is stale.  Strapi 5 sends
 *	  it twice (the draft and the published row): the second is a duplicate.
 *	- entry.publish with entry null (a race inside Strapi), and a stock entry
 *	  for a store or product not known yet (Model.missing), are answered 202
 *	  "deferred" and kept in strapi_pending for strapi-sync.
 *	- Any other event (media.*, entry.draft-discard, ...) or model is 202
 *	  "ignored"; a malformed delivery is 400 naming its fields, and nothing
 *	  of it is applied.
 *
 * One advisory lock per document serialises its deliveries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "inventory.h"
#include "json_build.h"
#include "jsonb_read.h"
#include "multistore.h"

/* The events applied, in the order a document's versions rank them */
typedef enum StrapiEvent
{
	EVENT_CREATE = 0,
	EVENT_UPDATE = 1,
	EVENT_PUBLISH = 2,
	EVENT_UNPUBLISH = 3,
	EVENT_DELETE = 4,
	EVENT_OTHER = 5
} StrapiEvent;

static const char *const event_names[] = {"entry.create",	 "entry.update", "entry.publish",
										  "entry.unpublish", "entry.delete", NULL};

/* One delivery (or one entry of strapi-sync's listing), read */
typedef struct Delivery
{
	const char	   *model;
	StrapiEvent		event;
	JsonbContainer *entry;
	char		   *document_id;
	TimestampTz		updated_at;
	bool			has_published_at; /* the member is there (draft and publish on) */
	bool			published;		  /* ... and not null */
	TimestampTz		published_at;
} Delivery;

/* What was last applied of a document */
typedef struct DocumentState
{
	bool		found;
	bool		live; /* a live version was applied */
	TimestampTz live_updated_at;
	bool		live_published;
	TimestampTz live_published_at;
	int			live_event;
	bool		has_draft;
	TimestampTz draft_updated_at;
	bool		deleted;
} DocumentState;

/*
 * What a model does with a document: Content validates the entry's fields
 * and keeps them; Write makes the row what the document says (live: for
 * sale; else kept out of sale) and returns true when it created the row;
 * Withdraw takes it out of sale (unpublish, delete).
 */
typedef struct Model
{
	const char *name;
	void *(*content)(MsValidation *v, JsonbContainer *entry, const char *document_id);
	bool (*write)(const char *document_id, void *content, bool live, bool only_if_new);
	void (*withdraw)(const char *document_id, void *content, bool deleted);
	const char *(*target)(const char *document_id, void *content);
	/* why the rows the content names are not here yet (the delivery is deferred), or NULL */
	const char *(*missing)(void *content);
} Model;

static int
Compare(TimestampTz a, TimestampTz b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/* A text id of the entry: a string, or an integer (v4 ids) */
static char *
IdOf(JsonbValue *val)
{
	if (val->type == jbvString)
		return pnstrdup(val->val.string.val, val->val.string.len);
	if (val->type == jbvNumeric)
	{
		char *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(val->val.numeric)));

		for (const char *p = text; *p; p++)
			if (!isdigit((unsigned char) *p))
				return NULL;
		return text;
	}
	return NULL;
}

/*
 * A reference to another document: its id as a string or number, or a
 * relation object {documentId} / {id} as Strapi populates it (v4 wraps it
 * in {"data": {...}}).
 */
static char *
ReferenceOf(JsonbValue *val)
{
	JsonbValue inner;

	if (val->type == jbvBinary && JsonContainerIsObject(val->val.binary.data) &&
		JrGet(val->val.binary.data, "data", &inner))
		return inner.type == jbvNull ? NULL : ReferenceOf(&inner);
	if (val->type == jbvBinary && JsonContainerIsObject(val->val.binary.data))
	{
		if (JrGet(val->val.binary.data, "documentId", &inner) && inner.type != jbvNull)
			return IdOf(&inner);
		if (JrGet(val->val.binary.data, "id", &inner))
			return IdOf(&inner);
		return NULL;
	}
	return IdOf(val);
}

/*
 * The entry of a REST listing is flat in v5 and {id, attributes} in v4:
 * the v4 shape becomes the flat one.
 */
static JsonbContainer *
Flatten(JsonbContainer *entry)
{
	JsonbValue		   attributes, id;
	JsonbParseState	  *state = NULL;
	JsonbIterator	  *it;
	JsonbValue		   val;
	JsonbIteratorToken tok;

	if (!JrGet(entry, "attributes", &attributes) || attributes.type != jbvBinary ||
		!JsonContainerIsObject(attributes.val.binary.data))
		return entry;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (JrGet(entry, "id", &id))
	{
		JsonbValue key = {.type = jbvString, .val.string = {.len = 2, .val = "id"}};

		pushJsonbValue(&state, WJB_KEY, &key);
		pushJsonbValue(&state, WJB_VALUE, &id);
	}
	it = JsonbIteratorInit(attributes.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			if (val.val.string.len == 2 && strncmp(val.val.string.val, "id", 2) == 0)
			{
				JsonbIteratorNext(&it, &val, true); /* the outer id wins */
				continue;
			}
			pushJsonbValue(&state, WJB_KEY, &val);
		}
		else if (tok == WJB_VALUE)
			pushJsonbValue(&state, WJB_VALUE, &val);
	}
	return &JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL))->root;
}

/* Reads the entry's identity and version: documentId or id, updatedAt, publishedAt */
static void
ReadVersion(MsValidation *v, Delivery *d)
{
	JsonbValue val;

	if (JrGet(d->entry, "documentId", &val) && val.type != jbvNull)
	{
		d->document_id = IdOf(&val);
		if (d->document_id == NULL || !MsIdIsValid(d->document_id))
			MsValidationAdd(v, "entry.documentId", "must be 1 to 64 letters, digits or _.:-");
	}
	else if (JrGet(d->entry, "id", &val) && val.type != jbvNull)
	{
		d->document_id = IdOf(&val);
		if (d->document_id == NULL || !MsIdIsValid(d->document_id))
			MsValidationAdd(v, "entry.id",
							"must be a whole number or an id of 1 to 64 letters, digits or _.:-");
	}
	else
		MsValidationAdd(v, "entry.id", "is required (entry.documentId in Strapi 5, entry.id in Strapi 4)");
	JrTimestamp(v, d->entry, "updatedAt", "entry.updatedAt", true, &d->updated_at);
	d->has_published_at = JrGet(d->entry, "publishedAt", &val);
	d->published = d->has_published_at && val.type != jbvNull;
	if (d->published)
		JrTimestamp(v, d->entry, "publishedAt", "entry.publishedAt", true, &d->published_at);
}

/* Serialises the deliveries of one document, and reads what was applied of it */
static DocumentState
LockDocument(const char *model, const char *document_id)
{
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr read_plan = NULL;
	Oid				  types[2] = {TEXTOID, TEXTOID};
	Datum			  values[2] = {CStringGetTextDatum(model), CStringGetTextDatum(document_id)};
	DocumentState	  s = {0};
	HeapTuple		  t;
	TupleDesc		  desc;
	bool			  isnull;
	Datum			  x;

	MsExecute(MsPlan(&lock_plan,
					 "SELECT pg_advisory_xact_lock(hashtext('multistore.strapi'), hashtext($1 || '/' || $2))",
					 2, types),
			  values, NULL, false, 0);
	if (MsExecute(
			MsPlan(&read_plan,
				   "SELECT live_updated_at, live_published_at, live_event, draft_updated_at, deleted_at "
				   "  FROM multistore.strapi_documents WHERE model = $1 AND document_id = $2",
				   2, types),
			values, NULL, false, 1) == 0)
		return s;
	t = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	s.found = true;
	x = SPI_getbinval(t, desc, 1, &isnull);
	s.live = !isnull;
	if (s.live)
		s.live_updated_at = DatumGetTimestampTz(x);
	x = SPI_getbinval(t, desc, 2, &isnull);
	s.live_published = !isnull;
	if (!isnull)
		s.live_published_at = DatumGetTimestampTz(x);
	x = SPI_getbinval(t, desc, 3, &isnull);
	s.live_event = isnull ? -1 : DatumGetInt16(x);
	x = SPI_getbinval(t, desc, 4, &isnull);
	s.has_draft = !isnull;
	if (!isnull)
		s.draft_updated_at = DatumGetTimestampTz(x);
	SPI_getbinval(t, desc, 5, &isnull);
	s.deleted = !isnull;
	return s;
}

/*
 * Orders a live delivery against the live version applied: < 0 older,
 * 0 the same, > 0 newer.  A missing publishedAt ranks first.
 */
static int
CompareLive(const Delivery *d, const DocumentState *s, bool with_event)
{
	int c;

	if (!s->live)
		return 1;
	if ((c = Compare(d->updated_at, s->live_updated_at)) != 0)
		return c;
	if (d->published != s->live_published)
		return d->published ? 1 : -1;
	if (d->published && (c = Compare(d->published_at, s->live_published_at)) != 0)
		return c;
	return with_event ? (int) d->event - s->live_event : 0;
}

/*
 * Records what was applied of the document: its live version (live), its
 * draft's (draft), its deletion.  target_id NULL keeps the one recorded.
 */
static void
SaveDocument(const Delivery *d, const char *target_id, bool live, bool draft, bool deleted)
{
	static SPIPlanPtr save_plan = NULL;
	Oid				  types[9] = {TEXTOID, TEXTOID,		   TEXTOID, BOOLOID,	   BOOLOID,
								  BOOLOID, TIMESTAMPTZOID, INT2OID, TIMESTAMPTZOID};
	Datum			  values[9];
	char			  nulls[9] = "         ";

	values[0] = CStringGetTextDatum(d->model);
	values[1] = CStringGetTextDatum(d->document_id);
	if (target_id)
		values[2] = CStringGetTextDatum(target_id);
	else
		nulls[2] = 'n';
	values[3] = BoolGetDatum(live);
	values[4] = BoolGetDatum(draft);
	values[5] = BoolGetDatum(deleted);
	values[6] = TimestampTzGetDatum(d->published_at);
	if (!d->published)
		nulls[6] = 'n';
	values[7] = Int16GetDatum((int16) d->event);
	values[8] = TimestampTzGetDatum(d->updated_at);
	MsExecute(
		MsPlan(&save_plan,
			   "INSERT INTO multistore.strapi_documents AS s (model, document_id, target_id, "
			   "       live_updated_at, live_published_at, live_event, draft_updated_at, deleted_at) "
			   "VALUES ($1, $2, coalesce($3, $2), CASE WHEN $4 THEN $9 END, CASE WHEN $4 THEN $7 END, "
			   "        CASE WHEN $4 THEN $8 END, CASE WHEN $5 THEN $9 END, CASE WHEN $6 THEN now() END) "
			   "ON CONFLICT (model, document_id) DO UPDATE SET target_id = coalesce($3, s.target_id), "
			   "  live_updated_at = CASE WHEN $4 THEN $9 ELSE s.live_updated_at END, "
			   "  live_published_at = CASE WHEN $4 THEN $7 ELSE s.live_published_at END, "
			   "  live_event = CASE WHEN $4 THEN $8 ELSE s.live_event END, "
			   "  draft_updated_at = CASE WHEN $5 THEN $9 ELSE s.draft_updated_at END, "
			   "  deleted_at = CASE WHEN $6 THEN now() ELSE s.deleted_at END, applied_at = now()",
			   9, types),
		values, nulls, false, 0);
}

/* Keeps a delivery that could not be applied, for strapi-sync */
static void
Defer(const char *model, const char *event, const char *reason, Jsonb *payload)
{
	static SPIPlanPtr defer_plan = NULL;
	Oid				  types[4] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID};
	Datum values[4] = {CStringGetTextDatum(model), CStringGetTextDatum(event), CStringGetTextDatum(reason),
					   JsonbPGetDatum(payload)};

	MsExecute(MsPlan(&defer_plan,
					 "INSERT INTO multistore.strapi_pending (model, event, reason, payload) "
					 "VALUES ($1, $2, $3, $4)",
					 4, types),
			  values, NULL, false, 0);
}

static char *
Answer(const char *status, const char *id, const char *reason)
{
	JsonWriter w;

	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwString(&w, "status", status);
	if (id)
		JwString(&w, "id", id);
	if (reason)
		JwString(&w, "reason", reason);
	JwObjectEnd(&w);
	return text_to_cstring(DatumGetTextPP(JwFinish(&w)));
}

/*
 * Applies one document version.  sync: an entry of the REST listing, which
 * lists what is published: applied as a publish, compared without the event
 * ("unchanged" rather than "duplicate").  "deferred", with *reason_out set,
 * when the content names rows not known here yet.
 */
static const char *
ApplyVersion(const Model *m, Delivery *d, bool sync, const char **target_out, const char **reason_out)
{
	MsValidation  v;
	DocumentState s;
	void		 *content = NULL;
	bool		  draft;
	const char	 *target;
	int			  c;

	/* content first, in full: a malformed delivery applies nothing */
	MsValidationInit(&v);
	ReadVersion(&v, d);
	if (sync && !d->published && !MsValidationHas(&v, "entry.publishedAt"))
		MsValidationAdd(&v, "entry.publishedAt", "is required: strapi-sync lists published entries");
	draft = !sync && (d->event == EVENT_CREATE || d->event == EVENT_UPDATE) && d->has_published_at &&
			!d->published;
	if (d->event != EVENT_UNPUBLISH && d->event != EVENT_DELETE)
		content = m->content(&v, d->entry, d->document_id);
	MsValidationCheck(&v);
	target = content ? m->target(d->document_id, content) : NULL;
	*target_out = target ? target : d->document_id;
	*reason_out = NULL;
	if (!sync && content && m->missing && (*reason_out = m->missing(content)) != NULL)
		return "deferred";

	s = LockDocument(d->model, d->document_id);
	if (s.deleted)
		return !sync && d->event == EVENT_DELETE ? "duplicate" : "stale";

	if (d->event == EVENT_DELETE)
	{
		m->withdraw(d->document_id, NULL, true);
		SaveDocument(d, target, false, false, true);
		return "deleted";
	}

	if (draft)
	{
		if (s.has_draft && (c = Compare(d->updated_at, s.draft_updated_at)) <= 0)
			return c == 0 ? "duplicate" : "stale";
		/* a draft fills in a document never published, and leaves a live one alone */
		m->write(d->document_id, content, false, s.live);
		SaveDocument(d, target, false, true, false);
		return "draft";
	}

	c = CompareLive(d, &s, !sync);
	if (sync && c == 0)
		return s.live_event == EVENT_UNPUBLISH ? "stale" : "unchanged";
	if (c <= 0)
		return c == 0 ? "duplicate" : "stale";

	if (d->event == EVENT_UNPUBLISH)
	{
		m->withdraw(d->document_id, NULL, false);
		SaveDocument(d, target, true, false, false);
		return "unpublished";
	}
	{
		bool created = m->write(d->document_id, content, true, false);

		SaveDocument(d, target, true, false, false);
		if (created)
			return "created";
		return sync || d->event != EVENT_PUBLISH ? "updated" : "published";
	}
}

/*
 * The webhook: which event, which model, then the version.  Returns the
 * function's row (status, body, replayed).
 */
static Datum
ApplyDelivery(FunctionCallInfo fcinfo, const Model *m)
{
	JsonbContainer *body;
	MsValidation	v;
	char		   *event = NULL, *model = NULL, *uid = NULL;
	JsonbValue		entry;
	Delivery		d = {0};
	const char	   *outcome;
	const char	   *target = NULL;
	const char	   *reason;
	Datum			result;

	SPI_connect();
	body = JrBody(fcinfo, 0);
	MsValidationInit(&v);
	JrText(&v, body, "event", "event", true, 100, &event);
	MsValidationCheck(&v);
	d.event = EVENT_OTHER;
	for (int i = 0; event_names[i]; i++)
		if (strcmp(event, event_names[i]) == 0)
			d.event = (StrapiEvent) i;
	if (d.event == EVENT_OTHER)
	{
		result = MsDecidedRow(fcinfo, 202,
							  Answer("ignored", NULL, psprintf("event \"%s\" is not applied", event)), false);
		SPI_finish();
		return result;
	}

	/* the model: "model", or the end of uid "api::product.product" (v4 publish may lack uid) */
	JrText(&v, body, "model", "model", false, 100, &model);
	JrText(&v, body, "uid", "uid", false, 200, &uid);
	MsValidationCheck(&v);
	if (model == NULL && uid != NULL && strrchr(uid, '.') != NULL)
		model = strrchr(uid, '.') + 1;
	if (model == NULL)
		MsInvalidArgument("model", "is required (or uid)");
	if (strcmp(model, m->name) != 0)
	{
		result = MsDecidedRow(
			fcinfo, 202,
			Answer("ignored", NULL,
				   psprintf("model \"%s\" is not applied here (this is the %s webhook)", model, m->name)),
			false);
		SPI_finish();
		return result;
	}
	d.model = m->name;

	if (!JrGet(body, "entry", &entry) || entry.type == jbvNull)
	{
		if (d.event != EVENT_PUBLISH)
			MsInvalidArgument("entry", "is required");
		/* a Strapi race: the published row was not readable yet; strapi-sync will catch it */
		Defer(m->name, event, "entry.publish without an entry", PG_GETARG_JSONB_P(0));
		result = MsDecidedRow(
			fcinfo, 202, Answer("deferred", NULL, "no entry: the next strapi-sync reconciles it"), false);
		SPI_finish();
		return result;
	}
	if (entry.type != jbvBinary || !JsonContainerIsObject(entry.val.binary.data))
		MsInvalidArgument("entry", "must be an object");
	d.entry = entry.val.binary.data;

	outcome = ApplyVersion(m, &d, false, &target, &reason);
	if (reason)
	{
		/* kept for strapi-sync rather than refused: its own delivery may still come */
		Defer(m->name, event, reason, PG_GETARG_JSONB_P(0));
		result = MsDecidedRow(fcinfo, 202,
							  Answer(outcome, NULL, psprintf("%s: kept for strapi-sync", reason)), false);
	}
	else
		result = MsDecidedRow(fcinfo, 200, Answer(outcome, target, NULL), false);
	SPI_finish();
	return result;
}

/*------------------------------------------------------------------------
 * Products: {sku, name, description, price, currency, imageUrl | image.url}
 *------------------------------------------------------------------------
 */

typedef struct ProductContent
{
	char   *sku;
	char   *name;
	char   *description;
	Numeric price;
	char   *currency;
	char   *image_url;
} ProductContent;

static bool
IsCurrency(const char *c)
{
	return strlen(c) == 3 && isupper((unsigned char) c[0]) && isupper((unsigned char) c[1]) &&
		   isupper((unsigned char) c[2]);
}

static void *
ProductContentOf(MsValidation *v, JsonbContainer *entry, const char *document_id)
{
	ProductContent *p = palloc0(sizeof(ProductContent));
	JsonbValue		val;

	JrText(v, entry, "sku", "entry.sku", true, 64, &p->sku);
	JrText(v, entry, "name", "entry.name", true, 200, &p->name);
	JrText(v, entry, "description", "entry.description", false, 10000, &p->description);
	JrMoney(v, entry, "price", "entry.price", true, &p->price);
	if (JrText(v, entry, "currency", "entry.currency", false, 3, &p->currency) && !IsCurrency(p->currency))
		MsValidationAdd(v, "entry.currency", "must be a three-letter code such as USD");
	if (JrGet(entry, "image", &val) && val.type == jbvBinary && JsonContainerIsObject(val.val.binary.data))
		JrText(v, val.val.binary.data, "url", "entry.image.url", false, 2000, &p->image_url);
	else
		JrText(v, entry, "imageUrl", "entry.imageUrl", false, 2000, &p->image_url);
	return p;
}

static const char *
ProductTarget(const char *document_id, void *content)
{
	return document_id;
}

/*
 * Writes the product.  live: for sale now; else a draft, which only fills in
 * a product never published (only_if_new: there is a live one to keep).
 */
static bool
ProductWrite(const char *id, void *content, bool live, bool only_if_new)
{
	static SPIPlanPtr sku_plan = NULL;
	static SPIPlanPtr upsert_plan = NULL;
	ProductContent	 *p = content;
	Datum			  values[8];
	char			  nulls[8] = "        ";
	bool			  isnull;

	if (only_if_new)
		return false;
	{
		Oid	  types[2] = {TEXTOID, TEXTOID};
		Datum sku_values[2] = {CStringGetTextDatum(p->sku), CStringGetTextDatum(id)};

		if (MsExecute(MsPlan(&sku_plan,
							 "SELECT id FROM multistore.products "
							 " WHERE sku = $1 AND id <> $2 AND deleted_at IS NULL",
							 2, types),
					  sku_values, NULL, false, 1) == 1)
			MsErrorDetail(ERRCODE_MS_CONFLICT, "sku_taken",
						  psprintf("\"productId\":%s", MsJsonQuote(MsColumnText(0, 1))),
						  "SKU \"%s\" belongs to product \"%s\": unpublish or delete it in Strapi first",
						  p->sku, MsColumnText(0, 1));
	}
	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(p->sku);
	values[2] = CStringGetTextDatum(p->name);
	values[3] = CStringGetTextDatum(p->description ? p->description : "");
	values[4] = NumericGetDatum(p->price);
	values[5] = CStringGetTextDatum(p->currency ? p->currency : "USD");
	if (p->image_url)
		values[6] = CStringGetTextDatum(p->image_url);
	else
		nulls[6] = 'n';
	values[7] = BoolGetDatum(live);
	/* a draft of a product never published updates it and leaves it unpublished */
	MsExecute(MsPlan(&upsert_plan,
					 "INSERT INTO multistore.products AS p (id, sku, name, description, price, currency, "
					 "       image_url, published) "
					 "VALUES ($1, $2, $3, $4, $5::numeric(12, 2), $6, $7, $8) "
					 "ON CONFLICT (id) DO UPDATE SET sku = $2, name = $3, description = $4, "
					 "       price = $5::numeric(12, 2), currency = $6, image_url = $7, "
					 "       published = $8, deleted_at = NULL, updated_at = now() "
					 "RETURNING xmax = 0",
					 8, (Oid[]){TEXTOID, TEXTOID, TEXTOID, TEXTOID, NUMERICOID, TEXTOID, TEXTOID, BOOLOID}),
			  values, nulls, false, 0);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static void
ProductWithdraw(const char *id, void *content, bool deleted)
{
	static SPIPlanPtr withdraw_plan = NULL;
	Oid				  types[2] = {TEXTOID, BOOLOID};
	Datum			  values[2] = {CStringGetTextDatum(id), BoolGetDatum(deleted)};

	MsExecute(MsPlan(&withdraw_plan,
					 "UPDATE multistore.products SET published = false, updated_at = now(), "
					 "       deleted_at = CASE WHEN $2 THEN coalesce(deleted_at, now()) END "
					 " WHERE id = $1",
					 2, types),
			  values, NULL, false, 0);
}

static const Model product_model = {"product", ProductContentOf, ProductWrite, ProductWithdraw,
									ProductTarget};

/*------------------------------------------------------------------------
 * Promotions: {code, name, discountType, value, currency, products,
 * stores | allStores, startsAt, endsAt, active}
 *------------------------------------------------------------------------
 */

typedef struct PromotionContent
{
	char	   *code;
	char	   *name;
	char	   *discount_type;
	Numeric		value;
	char	   *currency;
	ArrayType  *product_ids;
	ArrayType  *store_ids; /* NULL: every store */
	bool		has_starts, has_ends;
	TimestampTz starts_at, ends_at;
	bool		active;
} PromotionContent;

/* A list of references as text[], or NULL after reporting what is wrong */
static ArrayType *
References(MsValidation *v, JsonbContainer *list, const char *path, int max)
{
	JsonbIterator	  *it = JsonbIteratorInit(list);
	JsonbValue		   val;
	JsonbIteratorToken tok;
	Datum			  *ids = palloc(sizeof(Datum) * max);
	int				   n = 0;

	while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
	{
		char *id;

		if (tok != WJB_ELEM)
			continue;
		id = ReferenceOf(&val);
		if (id == NULL || !MsIdIsValid(id))
		{
			MsValidationAdd(v, path, "must hold ids (or objects with documentId or id)");
			return NULL;
		}
		if (n == max)
		{
			MsValidationAdd(v, path, "must hold at most %d ids", max);
			return NULL;
		}
		ids[n++] = CStringGetTextDatum(id);
	}
	return construct_array(ids, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * A to-many relation: a list, or v4's {"data": [...]} (null: none); false
 * after reporting what is wrong.
 */
static bool
RelationList(MsValidation *v, JsonbContainer *entry, const char *key, const char *path, bool required,
			 JsonbContainer **out)
{
	JsonbValue val, data;

	if (JrGet(entry, key, &val) && val.type == jbvBinary && JsonContainerIsObject(val.val.binary.data) &&
		JrGet(val.val.binary.data, "data", &data))
	{
		if (data.type == jbvNull && !required)
			return false;
		if (data.type != jbvBinary || !JsonContainerIsArray(data.val.binary.data))
		{
			MsValidationAdd(v, path, "must be a list (or {\"data\": [...]})");
			return false;
		}
		*out = data.val.binary.data;
		return true;
	}
	return JrContainer(v, entry, key, path, required, false, out);
}

static void *
PromotionContentOf(MsValidation *v, JsonbContainer *entry, const char *document_id)
{
	PromotionContent *p = palloc0(sizeof(PromotionContent));
	JsonbContainer	 *list;
	JsonbValue		  val;
	Numeric			  value = NULL;
	bool			  all_stores = false;

	JrText(v, entry, "code", "entry.code", true, 64, &p->code);
	JrText(v, entry, "name", "entry.name", false, 200, &p->name);
	if (JrText(v, entry, "discountType", "entry.discountType", true, 20, &p->discount_type) &&
		strcmp(p->discount_type, "percentage") != 0 && strcmp(p->discount_type, "fixed") != 0)
		MsValidationAdd(v, "entry.discountType", "must be \"percentage\" or \"fixed\"");
	if (JrMoney(v, entry, "value", "entry.value", true, &value))
	{
		Datum zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
		Datum hundred = DirectFunctionCall1(int4_numeric, Int32GetDatum(100));

		if (!DatumGetBool(DirectFunctionCall2(numeric_gt, NumericGetDatum(value), zero)))
			MsValidationAdd(v, "entry.value", "must be more than 0");
		else if (p->discount_type && strcmp(p->discount_type, "percentage") == 0 &&
				 DatumGetBool(DirectFunctionCall2(numeric_gt, NumericGetDatum(value), hundred)))
			MsValidationAdd(v, "entry.value", "must be at most 100 (percent)");
		p->value = value;
	}
	if (JrText(v, entry, "currency", "entry.currency", false, 3, &p->currency) && !IsCurrency(p->currency))
		MsValidationAdd(v, "entry.currency", "must be a three-letter code such as USD");
	if (p->discount_type && strcmp(p->discount_type, "fixed") == 0 && p->currency == NULL &&
		!MsValidationHas(v, "entry.currency"))
		MsValidationAdd(v, "entry.currency", "is required for a fixed amount");
	if (p->discount_type && strcmp(p->discount_type, "percentage") == 0)
		p->currency = NULL;
	if (RelationList(v, entry, "products", "entry.products", true, &list))
	{
		p->product_ids = References(v, list, "entry.products", 1000);
		if (p->product_ids && ArrayGetNItems(ARR_NDIM(p->product_ids), ARR_DIMS(p->product_ids)) == 0)
			MsValidationAdd(v, "entry.products", "must name at least one product");
	}
	JrBool(v, entry, "allStores", "entry.allStores", false, &all_stores);
	if (JrGet(entry, "stores", &val) && val.type != jbvNull && !all_stores)
	{
		if (RelationList(v, entry, "stores", "entry.stores", false, &list))
		{
			p->store_ids = References(v, list, "entry.stores", 10000);
			/* an empty list is every store, as Strapi sends a relation left empty */
			if (p->store_ids && ArrayGetNItems(ARR_NDIM(p->store_ids), ARR_DIMS(p->store_ids)) == 0)
				p->store_ids = NULL;
		}
	}
	p->has_starts = JrTimestamp(v, entry, "startsAt", "entry.startsAt", false, &p->starts_at);
	p->has_ends = JrTimestamp(v, entry, "endsAt", "entry.endsAt", false, &p->ends_at);
	if (p->has_starts && p->has_ends && p->ends_at <= p->starts_at)
		MsValidationAdd(v, "entry.endsAt", "must be after startsAt");
	p->active = true;
	JrBool(v, entry, "active", "entry.active", false, &p->active);
	return p;
}

static bool
PromotionWrite(const char *id, void *content, bool live, bool only_if_new)
{
	static SPIPlanPtr upsert_plan = NULL;
	PromotionContent *p = content;
	Oid	  types[12] = {TEXTOID,		 TEXTOID,	   TEXTOID,		   TEXTOID,		   NUMERICOID, TEXTOID,
					   TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID,	   BOOLOID};
	Datum values[12] = {0};
	char  nulls[12] = "            ";
	bool  isnull;

	if (only_if_new)
		return false;
	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(p->code);
	values[2] = CStringGetTextDatum(p->name ? p->name : "");
	values[3] = CStringGetTextDatum(p->discount_type);
	values[4] = NumericGetDatum(p->value);
	if (p->currency)
		values[5] = CStringGetTextDatum(p->currency);
	else
		nulls[5] = 'n';
	values[6] = PointerGetDatum(p->product_ids);
	if (p->store_ids)
		values[7] = PointerGetDatum(p->store_ids);
	else
		nulls[7] = 'n';
	values[8] = TimestampTzGetDatum(p->starts_at);
	if (!p->has_starts)
		nulls[8] = 'n';
	values[9] = TimestampTzGetDatum(p->ends_at);
	if (!p->has_ends)
		nulls[9] = 'n';
	values[10] = BoolGetDatum(p->active);
	values[11] = BoolGetDatum(live);
	MsExecute(
		MsPlan(&upsert_plan,
			   "INSERT INTO multistore.promotions AS p (id, code, name, discount_type, value, currency, "
			   "       product_ids, store_ids, starts_at, ends_at, active, published) "
			   "VALUES ($1, $2, $3, $4, $5::numeric(12, 2), $6, $7, $8, $9, $10, $11, $12) "
			   "ON CONFLICT (id) DO UPDATE SET code = $2, name = $3, discount_type = $4, "
			   "       value = $5::numeric(12, 2), currency = $6, product_ids = $7, store_ids = $8, "
			   "       starts_at = $9, ends_at = $10, active = $11, published = $12, deleted_at = NULL, "
			   "       updated_at = now() "
			   "RETURNING xmax = 0",
			   12, types),
		values, nulls, false, 0);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static void
PromotionWithdraw(const char *id, void *content, bool deleted)
{
	static SPIPlanPtr withdraw_plan = NULL;
	Oid				  types[2] = {TEXTOID, BOOLOID};
	Datum			  values[2] = {CStringGetTextDatum(id), BoolGetDatum(deleted)};

	MsExecute(MsPlan(&withdraw_plan,
					 "UPDATE multistore.promotions SET published = false, updated_at = now(), "
					 "       deleted_at = CASE WHEN $2 THEN coalesce(deleted_at, now()) END "
					 " WHERE id = $1",
					 2, types),
			  values, NULL, false, 0);
}

static const Model promotion_model = {"promotion", PromotionContentOf, PromotionWrite, PromotionWithdraw,
									  ProductTarget};

/*------------------------------------------------------------------------
 * Stock: {store, product, quantity | onHand}.  On hand is set through the
 * reservation engine (available is never negative); unpublishing or
 * deleting the entry sets it to 0.
 *------------------------------------------------------------------------
 */

typedef struct StockContent
{
	char  *store_id;
	char  *product_id;
	double on_hand;
} StockContent;

static void *
StockContentOf(MsValidation *v, JsonbContainer *entry, const char *document_id)
{
	StockContent *s = palloc0(sizeof(StockContent));
	JsonbValue	  val;
	const char	 *quantity_key = JrGet(entry, "onHand", &val) ? "onHand" : "quantity";

	if (JrGet(entry, "store", &val) && val.type != jbvNull)
	{
		s->store_id = ReferenceOf(&val);
		if (s->store_id == NULL || !MsIdIsValid(s->store_id))
			MsValidationAdd(v, "entry.store", "must be a store id (or an object with documentId or id)");
	}
	else
		MsValidationAdd(v, "entry.store", "is required");
	if (JrGet(entry, "product", &val) && val.type != jbvNull)
	{
		s->product_id = ReferenceOf(&val);
		if (s->product_id == NULL || !MsIdIsValid(s->product_id))
			MsValidationAdd(v, "entry.product", "must be a product id (or an object with documentId or id)");
	}
	else
		MsValidationAdd(v, "entry.product", "is required");
	if (JrNumber(v, entry, quantity_key, psprintf("entry.%s", quantity_key), true, &s->on_hand) &&
		(s->on_hand != (int64) s->on_hand || s->on_hand < 0 || s->on_hand > INVENTORY_MAX_ON_HAND))
		MsValidationAdd(v, psprintf("entry.%s", quantity_key), "must be a whole number from 0 to %d",
						INVENTORY_MAX_ON_HAND);
	return s;
}

static const char *
StockTarget(const char *document_id, void *content)
{
	StockContent *s = content;

	return psprintf("%s/%s", s->store_id, s->product_id);
}

/* A stock entry for a store or a product whose own delivery has not arrived yet */
static const char *
StockMissing(void *content)
{
	static SPIPlanPtr exists_plan = NULL;
	StockContent	 *s = content;
	Oid				  types[2] = {TEXTOID, TEXTOID};
	Datum			  values[2] = {CStringGetTextDatum(s->store_id), CStringGetTextDatum(s->product_id)};
	bool			  isnull;

	MsExecute(MsPlan(&exists_plan,
					 "SELECT EXISTS (SELECT 1 FROM multistore.stores WHERE id = $1) "
					 "   AND EXISTS (SELECT 1 FROM multistore.products WHERE id = $2)",
					 2, types),
			  values, NULL, false, 1);
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return NULL;
	return psprintf("store \"%s\" or product \"%s\" is not known yet", s->store_id, s->product_id);
}

static bool
StockWrite(const char *document_id, void *content, bool live, bool only_if_new)
{
	StockContent *s = content;

	if (!live)
		return false; /* a draft of a stock entry holds no stock */
	InventorySetOnHand(s->store_id, s->product_id, (int64) s->on_hand);
	return false;
}

static void
StockWithdraw(const char *document_id, void *content, bool deleted)
{
	static SPIPlanPtr target_plan = NULL;
	Oid				  types[1] = {TEXTOID};
	Datum			  values[1] = {CStringGetTextDatum(document_id)};
	char			 *target, *slash;

	/* the store and product this entry last set */
	if (MsExecute(MsPlan(&target_plan,
						 "SELECT target_id FROM multistore.strapi_documents "
						 " WHERE model = 'inventory' AND document_id = $1",
						 1, types),
				  values, NULL, false, 1) == 0)
		return;
	target = MsColumnText(0, 1);
	slash = strchr(target, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	InventorySetOnHand(target, slash + 1, 0);
}

static const Model stock_model = {"inventory",	 StockContentOf, StockWrite,
								  StockWithdraw, StockTarget,	 StockMissing};

/*------------------------------------------------------------------------
 * The SQL API
 *------------------------------------------------------------------------
 */

/* strapi_product_apply(delivery jsonb) -> (status, body, replayed) */
PG_FUNCTION_INFO_V1(ms_strapi_product_apply);
Datum
ms_strapi_product_apply(PG_FUNCTION_ARGS)
{
	return ApplyDelivery(fcinfo, &product_model);
}

/* strapi_promotion_apply(delivery jsonb) -> (status, body, replayed) */
PG_FUNCTION_INFO_V1(ms_strapi_promotion_apply);
Datum
ms_strapi_promotion_apply(PG_FUNCTION_ARGS)
{
	return ApplyDelivery(fcinfo, &promotion_model);
}

/* strapi_inventory_apply(delivery jsonb) -> (status, body, replayed) */
PG_FUNCTION_INFO_V1(ms_strapi_inventory_apply);
Datum
ms_strapi_inventory_apply(PG_FUNCTION_ARGS)
{
	return ApplyDelivery(fcinfo, &stock_model);
}

static const Model *
SyncModel(FunctionCallInfo fcinfo)
{
	char *model;

	if (PG_ARGISNULL(0))
		MsInvalidArgument("model", "is required");
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(model, "product") == 0)
		return &product_model;
	if (strcmp(model, "promotion") == 0)
		return &promotion_model;
	MsInvalidArgument("model", "must be \"product\" or \"promotion\"");
}

/*
 * strapi_sync_entry(model, entry) applies one entry of Strapi's REST
 * listing, which lists what is published, as a publish of it.
 */
PG_FUNCTION_INFO_V1(ms_strapi_sync_entry);
Datum
ms_strapi_sync_entry(PG_FUNCTION_ARGS)
{
	const Model *m;
	Delivery	 d = {0};
	const char	*outcome;
	const char	*target = NULL;
	const char	*reason;
	Datum		 result;

	SPI_connect();
	m = SyncModel(fcinfo);
	d.model = m->name;
	d.event = EVENT_PUBLISH;
	d.entry = Flatten(JrBody(fcinfo, 1));
	outcome = ApplyVersion(m, &d, true, &target, &reason);
	result = MsSpiCopy(CStringGetTextDatum(Answer(outcome, target, NULL)));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * strapi_sync_finish(model, seen_ids, started_at) ends a reconciliation:
 * whatever came from Strapi, is for sale here, was not listed and was not
 * applied since the run started (a webhook racing the listing) is
 * unpublished (never deleted: orders name it), and the deferred deliveries
 * are cleared.
 */
PG_FUNCTION_INFO_V1(ms_strapi_sync_finish);
Datum
ms_strapi_sync_finish(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr gone_plans[2] = {NULL, NULL};
	static SPIPlanPtr clear_plan = NULL;
	const Model		 *m;
	bool			  product;
	Oid				  types[3] = {TEXTOID, TEXTARRAYOID, TIMESTAMPTZOID};
	Datum			  values[3];
	char			  nulls[3] = "   ";
	uint64			  n;
	JsonWriter		  w;
	Datum			  result;

	SPI_connect();
	m = SyncModel(fcinfo);
	product = m == &product_model;
	if (PG_ARGISNULL(1))
		MsInvalidArgument("seenIds", "is required (an empty array when Strapi lists nothing)");
	values[0] = CStringGetTextDatum(m->name);
	values[1] = PG_GETARG_DATUM(1);
	if (PG_ARGISNULL(2))
		nulls[2] = 'n';
	else
		values[2] = PG_GETARG_DATUM(2);
	n = MsExecute(MsPlan(&gone_plans[product ? 0 : 1],
						 product ? "UPDATE multistore.products p SET published = false, updated_at = now() "
								   "  FROM multistore.strapi_documents s "
								   " WHERE s.model = $1 AND s.target_id = p.id AND s.deleted_at IS NULL "
								   "   AND p.published AND NOT p.id = ANY ($2) "
								   "   AND ($3::timestamptz IS NULL OR s.applied_at < $3) "
								   "RETURNING p.id"
								 : "UPDATE multistore.promotions p SET published = false, updated_at = now() "
								   "  FROM multistore.strapi_documents s "
								   " WHERE s.model = $1 AND s.target_id = p.id AND s.deleted_at IS NULL "
								   "   AND p.published AND NOT p.id = ANY ($2) "
								   "   AND ($3::timestamptz IS NULL OR s.applied_at < $3) "
								   "RETURNING p.id",
						 3, types),
				  values, nulls, false, 0);
	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwArrayStart(&w, "unpublished");
	for (uint64 i = 0; i < n; i++)
		JwString(&w, NULL, MsColumnText(i, 1));
	JwArrayEnd(&w);
	MsExecute(MsPlan(&clear_plan,
					 "DELETE FROM multistore.strapi_pending WHERE model = $1 "
					 "   AND ($2::timestamptz IS NULL OR received_at < $2)",
					 2, (Oid[]){TEXTOID, TIMESTAMPTZOID}),
			  (Datum[]){values[0], values[2]}, (char[]){' ', nulls[2]}, false, 0);
	JwInt(&w, "pendingCleared", (int64) SPI_processed);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
