/*-------------------------------------------------------------------------
 *
 * reservations.c
 *	  Creating, reading, releasing, consuming and extending reservations,
 *	  and the expiry sweep.
 *
 * Lock order (inventory.h): the reservation row first, then the buckets of
 * its holds in (product, bucket) order.  A reservation's lines are taken in
 * product order, each from the inventory's fast or exact path.  The sweep
 * never waits: it skips rows other sessions hold and leaves them for later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "accounts.h"
#include "errors.h"
#include "events.h"
#include "inventory.h"
#include "jsonb_read.h"
#include "multistore.h"
#include "reservations.h"
#include "stores.h"

int multistore_reservation_ttl = RESERVATIONS_DEFAULT_TTL;
int multistore_reservation_max_ttl = RESERVATIONS_MAX_TTL;

/* The status a client sees: an active reservation past its expiry is expired */
#define STATUS_SQL "CASE WHEN r.status = 'active' AND r.expires_at <= now() THEN 'expired' ELSE r.status END"

static SPIPlanPtr store_exists_plan = NULL;
static SPIPlanPtr exists_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr lock_buckets_plan = NULL;
static SPIPlanPtr finish_holds_plan = NULL;
static SPIPlanPtr consume_check_plan = NULL;
static SPIPlanPtr consume_plan = NULL;
static SPIPlanPtr status_plan = NULL;
static SPIPlanPtr extend_plan = NULL;
static SPIPlanPtr read_plan = NULL;
static SPIPlanPtr items_plan = NULL;
static SPIPlanPtr sweep_holds_plan = NULL;
static SPIPlanPtr sweep_rows_plan = NULL;

void
ReservationsInit(void)
{
	DefineCustomIntVariable("multistore.reservation_ttl",
							"Sets how long a reservation holds stock when the caller names no time.",
							"In seconds, from 1 to 604800; the default is 15 minutes.",
							&multistore_reservation_ttl, RESERVATIONS_DEFAULT_TTL, 1, 604800, PGC_USERSET,
							GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("multistore.reservation_max_ttl",
							"Sets the longest time a caller may ask a reservation to hold stock.",
							"In seconds, from 60 to 604800; the default is a day.",
							&multistore_reservation_max_ttl, RESERVATIONS_MAX_TTL, 60, 604800, PGC_SUSET,
							GUC_UNIT_S, NULL, NULL, NULL);
}

/* Orders lines by product so that buckets are locked in one global order */
static int
CompareLines(const void *a, const void *b)
{
	return strcmp(((const ReservationLine *) a)->product_id, ((const ReservationLine *) b)->product_id);
}

/* Sums the lines of a product (a bundle asks for it twice), sorted by product */
static int
MergeLines(ReservationLine *lines, int n)
{
	int kept = 0;

	qsort(lines, n, sizeof(ReservationLine), CompareLines);
	for (int i = 0; i < n; i++)
	{
		if (kept > 0 && strcmp(lines[kept - 1].product_id, lines[i].product_id) == 0)
			lines[kept - 1].quantity += lines[i].quantity;
		else
			lines[kept++] = lines[i];
	}
	return kept;
}

static Datum
TextArray(ReservationLine *lines, int n)
{
	Datum *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(lines[i].product_id);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

pg_uuid_t
ReservationCreate(const ReservationRequest *req, TimestampTz *expires_at, ReservationCreated *created)
{
	ReservationLine *lines = palloc(sizeof(ReservationLine) * Max(req->nlines, 1));
	int				 n;
	int32			 ttl = req->ttl_seconds > 0 ? req->ttl_seconds : multistore_reservation_ttl;
	Oid				 check_types[2] = {TEXTOID, TEXTARRAYOID};
	Oid				 insert_types[6] = {TEXTOID, TEXTOID, TEXTOID, UUIDOID, INT4OID, TEXTOID};
	Datum			 values[6];
	char			 nulls[6] = "      ";
	pg_uuid_t		 id;
	bool			 isnull;
	StringInfoData	 shortages;
	int				 nshort = 0;

	if (ttl < 1 || ttl > multistore_reservation_max_ttl)
		MsInvalidArgument("ttlSeconds", "must be from 1 to %d", multistore_reservation_max_ttl);
	memcpy(lines, req->lines, sizeof(ReservationLine) * req->nlines);
	n = MergeLines(lines, req->nlines);

	/* the store and every product must exist: one query for both */
	values[0] = CStringGetTextDatum(req->store_id);
	values[1] = TextArray(lines, n);
	if (!MsIdIsValid(req->store_id))
		StoreNotFound(req->store_id);
	MsExecute(
		MsPlan(&exists_plan,
			   "SELECT EXISTS (SELECT 1 FROM multistore.stores WHERE id = $1), "
			   "       coalesce((SELECT json_agg(u.id ORDER BY u.id) FROM unnest($2) AS u(id) "
			   "                  WHERE NOT EXISTS (SELECT 1 FROM multistore.products p WHERE p.id = u.id)), "
			   "                '[]')::text",
			   2, check_types),
		values, NULL, false, 1);
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		StoreNotFound(req->store_id);
	{
		char *unknown = MsColumnText(0, 2);

		if (strcmp(unknown, "[]") != 0)
			MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found",
						  psprintf("\"resource\":\"product\",\"productIds\":%s", unknown),
						  "unknown products: %s", unknown);
	}

	values[0] = CStringGetTextDatum(req->store_id);
	values[1] = CStringGetTextDatum(req->owner_type);
	if (req->owner_ref)
		values[2] = CStringGetTextDatum(req->owner_ref);
	else
		nulls[2] = 'n';
	if (req->created_by)
		values[3] = UUIDPGetDatum(req->created_by);
	else
		nulls[3] = 'n';
	values[4] = Int32GetDatum(ttl);
	values[5] = CStringGetTextDatum("active");
	MsExecute(MsPlan(&insert_plan,
					 "INSERT INTO multistore.reservations (store_id, owner_type, owner_ref, created_by, "
					 "expires_at, status) "
					 "VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6) "
					 "RETURNING id, expires_at, created_at",
					 6, insert_types),
			  values, nulls, false, 1);
	id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*expires_at =
		DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (created)
	{
		created->id = id;
		created->expires_at = *expires_at;
		created->created_at =
			DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		created->lines = lines;
		created->nlines = n;
	}

	/* every line, in product order; shortages are collected to name them all */
	initStringInfo(&shortages);
	for (int i = 0; i < n; i++)
	{
		int64 available = 0;

		if (InventoryTake(req->store_id, lines[i].product_id, lines[i].quantity, UUIDPGetDatum(&id),
						  *expires_at, &available))
			continue;
		appendStringInfo(&shortages, "%s{\"productId\":", nshort++ ? "," : "");
		escape_json(&shortages, lines[i].product_id);
		appendStringInfo(&shortages, ",\"requested\":%d,\"available\":" INT64_FORMAT "}", lines[i].quantity,
						 available);
	}
	if (nshort > 0)
		MsErrorDetail(ERRCODE_MS_CONFLICT, "out_of_stock", psprintf("\"items\":[%s]", shortages.data),
					  nshort == 1 ? "not enough stock for 1 product" : "not enough stock for %d products",
					  nshort);
	return id;
}

/* A reservation locked for a status change */
typedef struct LockedReservation
{
	char *store_id;
	char *status; /* as stored */
	bool  overdue;
} LockedReservation;

static bool
LockReservation(pg_uuid_t id, LockedReservation *r)
{
	Oid	  types[1] = {UUIDOID};
	Datum values[1] = {UUIDPGetDatum(&id)};
	bool  isnull;

	if (MsExecute(MsPlan(&lock_plan,
						 "SELECT r.store_id, r.status, r.expires_at <= clock_timestamp() FROM "
						 "multistore.reservations r "
						 " WHERE r.id = $1 FOR UPDATE",
						 1, types),
				  values, NULL, false, 1) == 0)
		return false;
	r->store_id = MsColumnText(0, 1);
	r->status = MsColumnText(0, 2);
	r->overdue = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	return true;
}

/* Locks the buckets of a reservation's active holds, in (product, bucket) order */
static void
LockHoldBuckets(const char *store_id, pg_uuid_t id)
{
	Oid	  types[2] = {TEXTOID, UUIDOID};
	Datum values[2] = {CStringGetTextDatum(store_id), UUIDPGetDatum(&id)};

	MsExecute(MsPlan(&lock_buckets_plan,
					 "SELECT 1 FROM multistore.inventory i "
					 "  JOIN multistore.reservation_holds h "
					 "    ON h.store_id = i.store_id AND h.product_id = i.product_id AND h.bucket = i.bucket "
					 " WHERE h.store_id = $1 AND h.reservation_id = $2 AND h.state = 'active' "
					 " ORDER BY i.product_id, i.bucket "
					 "   FOR UPDATE OF i",
					 2, types),
			  values, NULL, false, 0);
}

/*
 * Ends the active holds of a reservation (released or expired): held stock
 * returns, and each product's stock change is announced.
 */
static void
FinishHolds(const char *store_id, pg_uuid_t id, const char *state)
{
	Oid	   types[3] = {TEXTOID, UUIDOID, TEXTOID};
	Datum  values[3] = {CStringGetTextDatum(store_id), UUIDPGetDatum(&id), CStringGetTextDatum(state)};
	uint64 n;
	char **products;

	LockHoldBuckets(store_id, id);
	n = MsExecute(
		MsPlan(&finish_holds_plan,
			   "WITH h AS (UPDATE multistore.reservation_holds SET state = $3 "
			   "            WHERE store_id = $1 AND reservation_id = $2 AND state = 'active' "
			   "            RETURNING product_id, bucket, quantity), "
			   "     u AS (UPDATE multistore.inventory i SET held = i.held - h.quantity, updated_at = now() "
			   "             FROM h WHERE i.store_id = $1 AND i.product_id = h.product_id "
			   "              AND i.bucket = h.bucket RETURNING i.product_id) "
			   "SELECT DISTINCT product_id FROM u ORDER BY product_id",
			   3, types),
		values, NULL, false, 0);
	products = palloc(sizeof(char *) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
		products[i] = MsColumnText(i, 1);
	for (uint64 i = 0; i < n; i++)
		EventsInventoryChanged(store_id, products[i]);
}

static void
SetStatus(pg_uuid_t id, const char *status)
{
	Oid	  types[2] = {UUIDOID, TEXTOID};
	Datum values[2] = {UUIDPGetDatum(&id), CStringGetTextDatum(status)};

	MsExecute(MsPlan(&status_plan,
					 "UPDATE multistore.reservations SET status = $2, updated_at = now() WHERE id = $1", 2,
					 types),
			  values, NULL, false, 0);
}

static void
InvalidTransition(const char *status, const char *action)
{
	MsErrorDetail(ERRCODE_MS_CONFLICT, "invalid_transition", psprintf("\"status\":\"%s\"", status),
				  "a reservation that is %s cannot be %s", status, action);
}

/*
 * Settle decides, with the reservation's row and its holds' buckets locked,
 * whether an active reservation is still active.  It is not when it is
 * overdue, or when a hold of it was already written down as expired by a
 * session whose clock said so (transactions read the time at their start,
 * so two can disagree about the same instant; the holds settle it).  Then
 * the rest of its holds end as expired too, and so does its status.
 */
static void
Settle(pg_uuid_t id, LockedReservation *r)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[2] = {TEXTOID, UUIDOID};
	Datum			  values[2];

	if (strcmp(r->status, "active") != 0)
		return;
	LockHoldBuckets(r->store_id, id);
	if (!r->overdue)
	{
		values[0] = CStringGetTextDatum(r->store_id);
		values[1] = UUIDPGetDatum(&id);
		if (MsExecute(MsPlan(&plan,
							 "SELECT 1 FROM multistore.reservation_holds "
							 " WHERE store_id = $1 AND reservation_id = $2 AND state = 'expired' LIMIT 1",
							 2, types),
					  values, NULL, false, 1) == 0)
			return;
	}
	FinishHolds(r->store_id, id, "expired");
	SetStatus(id, "expired");
	r->status = "expired";
}

/* Releasing is idempotent: released and expired reservations stay as they are */
void
ReservationRelease(pg_uuid_t id)
{
	LockedReservation r;

	if (!LockReservation(id, &r))
		elog(ERROR, "reservation vanished");
	Settle(id, &r);
	if (strcmp(r.status, "consumed") == 0)
		InvalidTransition(r.status, "released");
	if (strcmp(r.status, "active") != 0)
		return;
	FinishHolds(r.store_id, id, "released");
	SetStatus(id, "released");
}

/*
 * Consuming is a sale: on hand goes down by what was held, the holds end.
 * A reservation already released or expired (its time up, if only this
 * instant) cannot be sold, nor one whose holds the shelf no longer covers
 * (stock was set below what is held).  Strict, those raise
 * invalid_transition and out_of_stock; else the result says which, and
 * nothing changes.
 */
static ConsumeResult
Consume(pg_uuid_t id, bool strict)
{
	LockedReservation r;
	Oid				  types[2] = {TEXTOID, UUIDOID};
	Datum			  values[2];

	if (!LockReservation(id, &r))
		elog(ERROR, "reservation vanished");
	Settle(id, &r);
	if (strcmp(r.status, "consumed") == 0)
		return CONSUME_DONE;
	if (strcmp(r.status, "active") != 0)
	{
		if (strict)
			InvalidTransition(r.status, "consumed");
		return CONSUME_ENDED;
	}

	LockHoldBuckets(r.store_id, id);
	values[0] = CStringGetTextDatum(r.store_id);
	values[1] = UUIDPGetDatum(&id);
	MsExecute(
		MsPlan(
			&consume_check_plan,
			"SELECT coalesce(json_agg(json_build_object('productId', h.product_id, 'requested', h.quantity, "
			"                                           'available', i.on_hand)), '[]')::text "
			"  FROM multistore.reservation_holds h JOIN multistore.inventory i "
			"    ON i.store_id = h.store_id AND i.product_id = h.product_id AND i.bucket = h.bucket "
			" WHERE h.store_id = $1 AND h.reservation_id = $2 AND h.state = 'active' "
			"   AND i.on_hand < h.quantity",
			2, types),
		values, NULL, false, 1);
	if (strcmp(MsColumnText(0, 1), "[]") != 0)
	{
		if (strict)
			MsErrorDetail(ERRCODE_MS_CONFLICT, "out_of_stock", psprintf("\"items\":%s", MsColumnText(0, 1)),
						  "stock on hand was set below what this reservation holds");
		return CONSUME_SHORT;
	}
	MsExecute(
		MsPlan(&consume_plan,
			   "WITH h AS (UPDATE multistore.reservation_holds SET state = 'consumed' "
			   "            WHERE store_id = $1 AND reservation_id = $2 AND state = 'active' "
			   "            RETURNING product_id, bucket, quantity) "
			   "UPDATE multistore.inventory i "
			   "   SET on_hand = i.on_hand - h.quantity, held = i.held - h.quantity, updated_at = now() "
			   "  FROM h WHERE i.store_id = $1 AND i.product_id = h.product_id AND i.bucket = h.bucket",
			   2, types),
		values, NULL, false, 0);
	SetStatus(id, "consumed");
	return CONSUME_DONE;
}

void
ReservationConsume(pg_uuid_t id)
{
	Consume(id, true);
}

ConsumeResult
ReservationTryConsume(pg_uuid_t id)
{
	return Consume(id, false);
}

/* Extending moves the expiry of an active reservation and of its holds */
static void
ReservationExtend(pg_uuid_t id, int32 ttl)
{
	LockedReservation r;
	Oid				  types[3] = {UUIDOID, TEXTOID, INT4OID};
	Datum			  values[3];

	if (ttl < 1 || ttl > multistore_reservation_max_ttl)
		MsInvalidArgument("ttlSeconds", "must be from 1 to %d", multistore_reservation_max_ttl);
	if (!LockReservation(id, &r))
		elog(ERROR, "reservation vanished");
	Settle(id, &r);
	if (strcmp(r.status, "active") != 0)
		InvalidTransition(r.status, "extended");
	/* holds change only under their buckets' locks */
	LockHoldBuckets(r.store_id, id);
	values[0] = UUIDPGetDatum(&id);
	values[1] = CStringGetTextDatum(r.store_id);
	values[2] = Int32GetDatum(ttl);
	MsExecute(MsPlan(&extend_plan,
					 "WITH r AS (UPDATE multistore.reservations "
					 "              SET expires_at = now() + make_interval(secs => $3), updated_at = now() "
					 "            WHERE id = $1 RETURNING expires_at) "
					 "UPDATE multistore.reservation_holds h SET expires_at = r.expires_at FROM r "
					 " WHERE h.store_id = $2 AND h.reservation_id = $1 AND h.state = 'active'",
					 3, types),
			  values, NULL, false, 0);
}

void
ReservationWrite(JsonWriter *w, pg_uuid_t id)
{
	Oid			types[1] = {UUIDOID};
	Datum		values[1] = {UUIDPGetDatum(&id)};
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	char	   *store_id;
	char	   *status;
	char	   *owner_type;
	char	   *owner_ref;
	TimestampTz created, expires, updated;
	uint64		n;

	if (MsExecute(MsPlan(&read_plan,
						 "SELECT r.store_id, " STATUS_SQL ", r.owner_type, r.owner_ref, "
						 "       r.created_at, r.expires_at, r.updated_at "
						 "  FROM multistore.reservations r WHERE r.id = $1",
						 1, types),
				  values, NULL, false, 1) == 0)
		elog(ERROR, "reservation vanished");
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	store_id = MsColumnText(0, 1);
	status = MsColumnText(0, 2);
	owner_type = MsColumnText(0, 3);
	owner_ref = MsColumnText(0, 4);
	created = DatumGetTimestampTz(SPI_getbinval(t, d, 5, &isnull));
	expires = DatumGetTimestampTz(SPI_getbinval(t, d, 6, &isnull));
	updated = DatumGetTimestampTz(SPI_getbinval(t, d, 7, &isnull));

	JwObjectStart(w, "reservation");
	JwString(w, "id", DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&id))));
	JwString(w, "storeId", store_id);
	JwString(w, "status", status);
	JwString(w, "ownerType", owner_type);
	JwStringOrNull(w, "ownerRef", owner_ref);
	JwArrayStart(w, "items");
	n = MsExecute(MsPlan(&items_plan,
						 "SELECT product_id, sum(quantity)::int8 FROM multistore.reservation_holds "
						 " WHERE reservation_id = $1 GROUP BY product_id ORDER BY product_id",
						 1, types),
				  values, NULL, false, 0);
	for (uint64 i = 0; i < n; i++)
	{
		JwObjectStart(w, NULL);
		JwString(w, "productId", MsColumnText(i, 1));
		JwInt(w, "quantity",
			  DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)));
		JwObjectEnd(w);
	}
	JwArrayEnd(w);
	JwTimestamp(w, "createdAt", created);
	JwTimestamp(w, "expiresAt", expires);
	JwTimestamp(w, "updatedAt", updated);
	JwObjectEnd(w);
}

void
ReservationWriteCreated(JsonWriter *w, const ReservationRequest *req, const ReservationCreated *c)
{
	JwObjectStart(w, "reservation");
	JwString(w, "id", DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&c->id))));
	JwString(w, "storeId", req->store_id);
	JwString(w, "status", "active");
	JwString(w, "ownerType", req->owner_type);
	JwStringOrNull(w, "ownerRef", req->owner_ref);
	JwArrayStart(w, "items");
	for (int i = 0; i < c->nlines; i++)
	{
		JwObjectStart(w, NULL);
		JwString(w, "productId", c->lines[i].product_id);
		JwInt(w, "quantity", c->lines[i].quantity);
		JwObjectEnd(w);
	}
	JwArrayEnd(w);
	JwTimestamp(w, "createdAt", c->created_at);
	JwTimestamp(w, "expiresAt", c->expires_at);
	JwTimestamp(w, "updatedAt", c->created_at);
	JwObjectEnd(w);
}

int64
ReservationsExpire(void)
{
	uint64 expired;

	/* holds first, bucket by bucket, skipping buckets in use (their holds go next time) */
	MsExecute(
		MsPlan(&sweep_holds_plan,
			   "WITH due AS (SELECT DISTINCT store_id, product_id, bucket "
			   "               FROM multistore.reservation_holds "
			   "              WHERE state = 'active' AND expires_at <= now()), "
			   "     locked AS (SELECT i.store_id, i.product_id, i.bucket "
			   "                  FROM multistore.inventory i JOIN due USING (store_id, product_id, bucket) "
			   "                   FOR UPDATE OF i SKIP LOCKED), "
			   "     gone AS (UPDATE multistore.reservation_holds h SET state = 'expired' "
			   "                FROM locked l "
			   "               WHERE h.store_id = l.store_id AND h.product_id = l.product_id "
			   "                 AND h.bucket = l.bucket AND h.state = 'active' AND h.expires_at <= now() "
			   "              RETURNING h.store_id, h.product_id, h.bucket, h.quantity), "
			   "     sums AS (SELECT store_id, product_id, bucket, sum(quantity) AS q "
			   "                FROM gone GROUP BY store_id, product_id, bucket), "
			   "     u AS (UPDATE multistore.inventory i SET held = i.held - s.q, updated_at = now() "
			   "             FROM sums s "
			   "            WHERE i.store_id = s.store_id AND i.product_id = s.product_id "
			   "              AND i.bucket = s.bucket RETURNING i.store_id, i.product_id) "
			   "SELECT DISTINCT store_id, product_id FROM u ORDER BY store_id, product_id",
			   0, NULL),
		NULL, NULL, false, 0);
	/* readers counted these holds as released since they fell due; kiosks hear of it now */
	{
		uint64 n = SPI_processed;
		char **stores = palloc(sizeof(char *) * Max(n, 1));
		char **products = palloc(sizeof(char *) * Max(n, 1));

		for (uint64 i = 0; i < n; i++)
		{
			stores[i] = MsColumnText(i, 1);
			products[i] = MsColumnText(i, 2);
		}
		for (uint64 i = 0; i < n; i++)
			EventsInventoryChanged(stores[i], products[i]);
	}
	/* then the reservations, skipping those an owner is changing right now */
	expired = MsExecute(MsPlan(&sweep_rows_plan,
							   "UPDATE multistore.reservations r SET status = 'expired', updated_at = now() "
							   " WHERE r.id IN (SELECT id FROM multistore.reservations "
							   "                 WHERE status = 'active' AND expires_at <= now() "
							   "                   FOR UPDATE SKIP LOCKED)",
							   0, NULL),
						NULL, NULL, false, 0);
	return (int64) expired;
}

/* Parses {items:[{productId,quantity}], ttlSeconds?, reference?} */
static void
ReadReservationBody(JsonbContainer *body, ReservationRequest *req)
{
	static const char *const allowed[] = {"items", "ttlSeconds", "reference", NULL};
	static const char *const line_fields[] = {"productId", "quantity", NULL};
	JsonbContainer			*items = NULL;
	MsValidation			 v;
	double					 ttl;
	char					*reference = NULL;

	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	if (JrContainer(&v, body, "items", "items", true, false, &items))
	{
		int				   n = JsonContainerSize(items);
		JsonbIterator	  *it;
		JsonbValue		   elem;
		JsonbIteratorToken tok;
		int				   i = 0;

		if (n < 1 || n > RESERVATIONS_MAX_LINES)
			MsValidationAdd(&v, "items", "must hold 1 to %d lines", RESERVATIONS_MAX_LINES);
		req->lines = palloc0(sizeof(ReservationLine) * Max(n, 1));
		it = JsonbIteratorInit(items);
		while (n <= RESERVATIONS_MAX_LINES && (tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
		{
			char  *path;
			double qty;
			char  *product;

			if (tok != WJB_ELEM)
				continue;
			path = psprintf("items[%d]", i++);
			if (elem.type != jbvBinary || !JsonContainerIsObject(elem.val.binary.data))
			{
				MsValidationAdd(&v, path, "must be {\"productId\":...,\"quantity\":...}");
				continue;
			}
			JrRejectUnknown(&v, elem.val.binary.data, path, line_fields);
			if (JrText(&v, elem.val.binary.data, "productId", psprintf("%s.productId", path), true,
					   MS_ID_MAX_LENGTH, &product) &&
				!MsIdIsValid(product))
				MsValidationAdd(&v, psprintf("%s.productId", path), "must be a product id");
			if (JrNumber(&v, elem.val.binary.data, "quantity", psprintf("%s.quantity", path), true, &qty) &&
				(qty != (int) qty || qty < 1 || qty > RESERVATIONS_MAX_QUANTITY))
				MsValidationAdd(&v, psprintf("%s.quantity", path), "must be a whole number from 1 to %d",
								RESERVATIONS_MAX_QUANTITY);
			if (!MsValidationHas(&v, psprintf("%s.productId", path)) &&
				!MsValidationHas(&v, psprintf("%s.quantity", path)))
			{
				req->lines[req->nlines].product_id = product;
				req->lines[req->nlines].quantity = (int32) qty;
				req->nlines++;
			}
		}
	}
	if (JrNumber(&v, body, "ttlSeconds", "ttlSeconds", false, &ttl))
	{
		if (ttl != (int) ttl || ttl < 1 || ttl > multistore_reservation_max_ttl)
			MsValidationAdd(&v, "ttlSeconds", "must be a whole number of seconds from 1 to %d",
							multistore_reservation_max_ttl);
		else
			req->ttl_seconds = (int32) ttl;
	}
	JrText(&v, body, "reference", "reference", false, 200, &reference);
	req->owner_ref = reference;
	MsValidationCheck(&v);
}

/* {"reservation":{...}} for the caller, leaving SPI */
static Datum
Answer(pg_uuid_t id)
{
	JsonWriter w;
	Datum	   result;

	JwInit(&w);
	JwObjectStart(&w, NULL);
	ReservationWrite(&w, id);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	return result;
}

/*
 * reservation_create(session_id, store_id, reservation) holds stock at a
 * store (its managers, admins): {items:[{productId,quantity}], ttlSeconds?,
 * reference?} -> {"reservation":{...}}.
 */
PG_FUNCTION_INFO_V1(ms_reservation_create);
Datum
ms_reservation_create(PG_FUNCTION_ARGS)
{
	MsCaller		   caller;
	ReservationRequest req = {0};
	TimestampTz		   expires;
	ReservationCreated created;
	JsonWriter		   w;
	Datum			   result;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	if (PG_ARGISNULL(1))
		MsInvalidArgument("storeId", "is required");
	req.store_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!AccountsManages(&caller, req.store_id))
	{
		Oid	  types[1] = {TEXTOID};
		Datum values[1] = {CStringGetTextDatum(req.store_id)};

		if (!MsIdIsValid(req.store_id) ||
			MsExecute(MsPlan(&store_exists_plan, "SELECT 1 FROM multistore.stores WHERE id = $1", 1, types),
					  values, NULL, false, 1) == 0)
			StoreNotFound(req.store_id);
		AccountsRequireManagerOf(&caller, req.store_id);
	}
	ReadReservationBody(JrBody(fcinfo, 2), &req);
	req.owner_type = "external";
	req.created_by = &caller.user_id;
	ReservationCreate(&req, &expires, &created);
	JwInit(&w);
	JwObjectStart(&w, NULL);
	ReservationWriteCreated(&w, &req, &created);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * The reservation an owner call names, if the caller may see it: managers
 * of its store and admins; anyone else gets not_found.
 */
static pg_uuid_t
VisibleReservation(FunctionCallInfo fcinfo, const MsCaller *caller)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[1] = {UUIDOID};
	Datum			  values[1];

	if (PG_ARGISNULL(1))
		MsInvalidArgument("reservationId", "is required");
	values[0] = PG_GETARG_DATUM(1);
	if (MsExecute(MsPlan(&plan, "SELECT store_id FROM multistore.reservations WHERE id = $1", 1, types),
				  values, NULL, false, 1) == 0 ||
		!AccountsManages(caller, MsColumnText(0, 1)))
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"reservation\"",
					  "reservation not found");
	return *DatumGetUUIDP(values[0]);
}

/* reservation_get(session_id, reservation_id) -> {"reservation":{...}} */
PG_FUNCTION_INFO_V1(ms_reservation_get);
Datum
ms_reservation_get(PG_FUNCTION_ARGS)
{
	MsCaller caller;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	PG_RETURN_DATUM(Answer(VisibleReservation(fcinfo, &caller)));
}

/* reservation_release(session_id, reservation_id): held stock returns; idempotent */
PG_FUNCTION_INFO_V1(ms_reservation_release);
Datum
ms_reservation_release(PG_FUNCTION_ARGS)
{
	MsCaller  caller;
	pg_uuid_t id;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	id = VisibleReservation(fcinfo, &caller);
	ReservationRelease(id);
	PG_RETURN_DATUM(Answer(id));
}

/* reservation_consume(session_id, reservation_id): a sale at the store */
PG_FUNCTION_INFO_V1(ms_reservation_consume);
Datum
ms_reservation_consume(PG_FUNCTION_ARGS)
{
	MsCaller  caller;
	pg_uuid_t id;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	id = VisibleReservation(fcinfo, &caller);
	ReservationConsume(id);
	PG_RETURN_DATUM(Answer(id));
}

/* reservation_extend(session_id, reservation_id, ttl_seconds): expires ttl seconds from now */
PG_FUNCTION_INFO_V1(ms_reservation_extend);
Datum
ms_reservation_extend(PG_FUNCTION_ARGS)
{
	MsCaller  caller;
	pg_uuid_t id;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	id = VisibleReservation(fcinfo, &caller);
	if (PG_ARGISNULL(2))
		MsInvalidArgument("ttlSeconds", "is required");
	ReservationExtend(id, PG_GETARG_INT32(2));
	PG_RETURN_DATUM(Answer(id));
}

/* reservations_expire(): the sweep; returns how many reservations it expired */
PG_FUNCTION_INFO_V1(ms_reservations_expire);
Datum
ms_reservations_expire(PG_FUNCTION_ARGS)
{
	int64 n;

	SPI_connect();
	n = ReservationsExpire();
	SPI_finish();
	PG_RETURN_INT64(n);
}
