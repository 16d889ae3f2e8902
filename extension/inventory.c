/*-------------------------------------------------------------------------
 *
 * inventory.c
 *	  Stock in buckets: setting it, taking holds from it, reading it.
 *
 * See inventory.h for the model and the lock order.  Two paths take holds:
 *
 *	- the fast path, one statement: lock the first bucket (starting at a
 *	  random one) that is not locked by another session and has enough
 *	  available, and hold the units there.  It never waits, so it cannot
 *	  deadlock, and 64 sessions on one product work on different buckets.
 *	- the exact path, when no single free bucket has enough: lock every
 *	  bucket of the product in bucket order, release the overdue holds found
 *	  there, and decide on the true total.  A request is refused only when
 *	  the product's total available at the store is short, wherever its
 *	  stock sits.  The stock left is then spread again over the buckets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "access/xact.h"
#include "common/pg_prng.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "accounts.h"
#include "errors.h"
#include "events.h"
#include "jsonb_read.h"
#include "stores.h"
#include "inventory.h"
#include "json_build.h"
#include "multistore.h"

int multistore_inventory_buckets = INVENTORY_DEFAULT_BUCKETS;

static SPIPlanPtr fast_plan = NULL;
static SPIPlanPtr queue_plan = NULL;
static SPIPlanPtr pick_plan = NULL;
static SPIPlanPtr lock_all_plan = NULL;
static SPIPlanPtr reclaim_plan = NULL;
static SPIPlanPtr write_plan = NULL;
static SPIPlanPtr hold_plan = NULL;
static SPIPlanPtr create_plan = NULL;
static SPIPlanPtr level_plan = NULL;

void
InventoryInit(void)
{
	DefineCustomIntVariable("multistore.inventory_buckets",
							"Sets how many buckets the stock of a product at a store is split into.",
							"From 1 to 64, used when a product first gets stock at a store; more buckets "
							"let more sessions reserve one hot product at once.",
							&multistore_inventory_buckets, INVENTORY_DEFAULT_BUCKETS, 1, 64, PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* The buckets of one product at one store, locked, as the exact path sees them */
typedef struct Buckets
{
	int	   n;
	int16 *bucket;
	int64 *on_hand;
	int64 *held;
} Buckets;

/* Locks every bucket of a product in bucket order and reads them */
static void
LockAll(const char *store_id, const char *product_id, Buckets *b)
{
	Oid	   types[2] = {TEXTOID, TEXTOID};
	Datum  values[2] = {CStringGetTextDatum(store_id), CStringGetTextDatum(product_id)};
	uint64 n;

	n = MsExecute(MsPlan(&lock_all_plan,
						 "SELECT bucket, on_hand, held FROM multistore.inventory "
						 " WHERE store_id = $1 AND product_id = $2 ORDER BY bucket FOR UPDATE",
						 2, types),
				  values, NULL, false, 0);
	b->n = (int) n;
	b->bucket = palloc(sizeof(int16) * Max(n, 1));
	b->on_hand = palloc(sizeof(int64) * Max(n, 1));
	b->held = palloc(sizeof(int64) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool	  isnull;
		HeapTuple t = SPI_tuptable->vals[i];
		TupleDesc d = SPI_tuptable->tupdesc;

		b->bucket[i] = DatumGetInt16(SPI_getbinval(t, d, 1, &isnull));
		b->on_hand[i] = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
		b->held[i] = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
	}
}

/*
 * Reclaim marks the overdue active holds of a product expired and takes
 * them off the buckets' held figures in b.  Call with every bucket of the
 * product locked: a hold changes state only under its bucket's lock.
 */
static void
Reclaim(const char *store_id, const char *product_id, Buckets *b)
{
	Oid	   types[2] = {TEXTOID, TEXTOID};
	Datum  values[2] = {CStringGetTextDatum(store_id), CStringGetTextDatum(product_id)};
	uint64 n;

	n = MsExecute(MsPlan(&reclaim_plan,
						 "UPDATE multistore.reservation_holds SET state = 'expired' "
						 " WHERE store_id = $1 AND product_id = $2 AND state = 'active' "
						 "   AND expires_at <= now() "
						 "RETURNING bucket, quantity",
						 2, types),
				  values, NULL, false, 0);
	for (uint64 i = 0; i < n; i++)
	{
		bool  isnull;
		int16 bucket = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		int32 qty = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		for (int k = 0; k < b->n; k++)
			if (b->bucket[k] == bucket)
				b->held[k] -= qty;
	}
}

/*
 * Spread sets every bucket's on_hand so that it covers what the bucket
 * holds and the rest of the stock is shared out evenly; when the total is
 * below what is held, buckets are covered in order as far as it goes.
 */
static void
Spread(Buckets *b, int64 total)
{
	int64 held = 0;

	for (int k = 0; k < b->n; k++)
		held += b->held[k];
	if (total >= held)
	{
		int64 free_units = total - held;

		for (int k = 0; k < b->n; k++)
			b->on_hand[k] = b->held[k] + free_units / b->n + (k < free_units % b->n ? 1 : 0);
	}
	else
	{
		for (int k = 0; k < b->n; k++)
		{
			b->on_hand[k] = Min(b->held[k], total);
			total -= b->on_hand[k];
		}
	}
}

/* Writes on_hand and held of every bucket in b */
static void
WriteAll(const char *store_id, const char *product_id, Buckets *b)
{
	Oid	   types[5] = {TEXTOID, TEXTOID, INT2ARRAYOID, INT4ARRAYOID, INT4ARRAYOID};
	Datum  values[5];
	Datum *buckets = palloc(sizeof(Datum) * b->n);
	Datum *on_hand = palloc(sizeof(Datum) * b->n);
	Datum *held = palloc(sizeof(Datum) * b->n);

	for (int k = 0; k < b->n; k++)
	{
		buckets[k] = Int16GetDatum(b->bucket[k]);
		on_hand[k] = Int32GetDatum((int32) b->on_hand[k]);
		held[k] = Int32GetDatum((int32) b->held[k]);
	}
	values[0] = CStringGetTextDatum(store_id);
	values[1] = CStringGetTextDatum(product_id);
	values[2] = PointerGetDatum(construct_array(buckets, b->n, INT2OID, 2, true, TYPALIGN_SHORT));
	values[3] = PointerGetDatum(construct_array(on_hand, b->n, INT4OID, 4, true, TYPALIGN_INT));
	values[4] = PointerGetDatum(construct_array(held, b->n, INT4OID, 4, true, TYPALIGN_INT));
	MsExecute(
		MsPlan(&write_plan,
			   "UPDATE multistore.inventory i SET on_hand = v.on_hand, held = v.held, updated_at = now() "
			   "  FROM unnest($3, $4, $5) AS v(bucket, on_hand, held) "
			   " WHERE i.store_id = $1 AND i.product_id = $2 AND i.bucket = v.bucket",
			   5, types),
		values, NULL, false, 0);
}

static void
InsertHold(const char *store_id, Datum reservation_id, const char *product_id, int16 bucket, int32 quantity,
		   TimestampTz expires_at)
{
	Oid	  types[6] = {TEXTOID, UUIDOID, TEXTOID, INT2OID, INT4OID, TIMESTAMPTZOID};
	Datum values[6];

	values[0] = CStringGetTextDatum(store_id);
	values[1] = reservation_id;
	values[2] = CStringGetTextDatum(product_id);
	values[3] = Int16GetDatum(bucket);
	values[4] = Int32GetDatum(quantity);
	values[5] = TimestampTzGetDatum(expires_at);
	MsExecute(MsPlan(&hold_plan,
					 "INSERT INTO multistore.reservation_holds "
					 "       (store_id, reservation_id, product_id, bucket, quantity, expires_at) "
					 "VALUES ($1, $2, $3, $4, $5, $6)",
					 6, types),
			  values, NULL, false, 0);
}

/*
 * TryBucket runs one statement that takes quantity from a single bucket
 * and writes the hold, inside a subtransaction.  A row locked and then
 * found to have too little left (a newer version failed the check) stays
 * locked; rolling the subtransaction back when nothing was held drops such
 * stray locks, which the exact path would otherwise hold out of bucket
 * order.  Parameters: $1 store, $2 product, $3 quantity, $4 a bucket to
 * start from, $5 the reservation, $6 its expiry.
 */
static bool
TryBucket(SPIPlanPtr *plan, const char *take_sql, Datum *values)
{
	Oid			  types[6] = {TEXTOID, TEXTOID, INT4OID, INT2OID, UUIDOID, TIMESTAMPTZOID};
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	bool		  found;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_context);
	found = MsExecute(
				MsPlan(plan,
					   psprintf("WITH taken AS (%s) "
								"INSERT INTO multistore.reservation_holds "
								"       (store_id, reservation_id, product_id, bucket, quantity, expires_at) "
								"SELECT $1, $5, $2, bucket, $3, $6 FROM taken RETURNING bucket",
								take_sql),
					   6, types),
				values, NULL, false, 1) == 1;
	if (found)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(caller_context);
	CurrentResourceOwner = caller_owner;
	return found;
}

bool
InventoryTake(const char *store_id, const char *product_id, int32 quantity, Datum reservation_id,
			  TimestampTz expires_at, int64 *available)
{
	Datum	values[6];
	Buckets b;
	int64	total_on_hand = 0, total_held = 0;

	/* fast path: a free bucket with enough, from a random start, never waiting */
	values[0] = CStringGetTextDatum(store_id);
	values[1] = CStringGetTextDatum(product_id);
	values[2] = Int32GetDatum(quantity);
	values[3] = Int16GetDatum(
		(int16) pg_prng_uint64_range(&pg_global_prng_state, 0, multistore_inventory_buckets - 1));
	values[4] = reservation_id;
	values[5] = TimestampTzGetDatum(expires_at);
	if (TryBucket(&fast_plan,
				  "UPDATE multistore.inventory i SET held = i.held + $3 "
				  "  FROM (SELECT bucket FROM multistore.inventory "
				  "         WHERE store_id = $1 AND product_id = $2 AND on_hand - held >= $3 "
				  "         ORDER BY bucket < $4, bucket "
				  "         LIMIT 1 FOR UPDATE SKIP LOCKED) f "
				  " WHERE i.store_id = $1 AND i.product_id = $2 AND i.bucket = f.bucket "
				  "RETURNING i.bucket",
				  values))
	{
		EventsInventoryChanged(store_id, product_id);
		return true;
	}

	/*
	 * queue path: every bucket with enough was locked by someone else.  Wait
	 * for one of them, chosen at random, alone: waiting for a single row
	 * while holding no other bucket of this product cannot close a cycle.
	 * The choice is its own statement: as an InitPlan of the UPDATE, the
	 * recheck after the wait re-ran random() and almost never matched.
	 */
	{
		Oid	 pick_types[3] = {TEXTOID, TEXTOID, INT4OID};
		bool isnull;

		if (MsExecute(MsPlan(&pick_plan,
							 "SELECT bucket FROM multistore.inventory "
							 " WHERE store_id = $1 AND product_id = $2 AND on_hand - held >= $3 "
							 " ORDER BY random() LIMIT 1",
							 3, pick_types),
					  values, NULL, false, 1) == 1)
		{
			values[3] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			if (TryBucket(&queue_plan,
						  "UPDATE multistore.inventory i SET held = i.held + $3 "
						  " WHERE i.store_id = $1 AND i.product_id = $2 AND i.bucket = $4 "
						  "   AND i.on_hand - i.held >= $3 "
						  "RETURNING i.bucket",
						  values))
			{
				EventsInventoryChanged(store_id, product_id);
				return true;
			}
		}
	}

	/* exact path: the whole product, locked in bucket order */
	LockAll(store_id, product_id, &b);
	if (b.n == 0)
	{
		*available = 0;
		return false;
	}
	Reclaim(store_id, product_id, &b);
	for (int k = 0; k < b.n; k++)
	{
		total_on_hand += b.on_hand[k];
		total_held += b.held[k];
	}
	*available = Max(total_on_hand - total_held, 0);
	if (*available < quantity)
	{
		WriteAll(store_id, product_id, &b);
		return false;
	}
	/* the whole hold goes into the first bucket; spreading makes it covered */
	b.held[0] += quantity;
	Spread(&b, total_on_hand);
	WriteAll(store_id, product_id, &b);
	InsertHold(store_id, reservation_id, product_id, b.bucket[0], quantity, expires_at);
	*available -= quantity;
	EventsInventoryChanged(store_id, product_id);
	return true;
}

StockLevel
InventorySetOnHand(const char *store_id, const char *product_id, int64 on_hand)
{
	Oid		   types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum	   values[3];
	Buckets	   b;
	StockLevel level = {0};

	if (on_hand < 0 || on_hand > INVENTORY_MAX_ON_HAND)
		MsInvalidArgument("onHand", "must be an integer from 0 to %d", INVENTORY_MAX_ON_HAND);

	/* a product's first stock at a store: its buckets (a racing twin inserts nothing) */
	values[0] = CStringGetTextDatum(store_id);
	values[1] = CStringGetTextDatum(product_id);
	values[2] = Int32GetDatum(multistore_inventory_buckets);
	MsExecute(MsPlan(&create_plan,
					 "INSERT INTO multistore.inventory (store_id, product_id, bucket) "
					 "SELECT $1, $2, g FROM generate_series(0, $3 - 1) g "
					 " WHERE NOT EXISTS (SELECT 1 FROM multistore.inventory "
					 "                    WHERE store_id = $1 AND product_id = $2) "
					 "ON CONFLICT DO NOTHING",
					 3, types),
			  values, NULL, false, 0);

	LockAll(store_id, product_id, &b);
	Reclaim(store_id, product_id, &b);
	Spread(&b, on_hand);
	WriteAll(store_id, product_id, &b);

	level.on_hand = on_hand;
	for (int k = 0; k < b.n; k++)
		level.held += b.held[k];
	level.available = Max(level.on_hand - level.held, 0);
	EventsInventoryChanged(store_id, product_id);
	return level;
}

void
InventoryRestock(const char *store_id, const char *product_id, int32 quantity)
{
	Buckets b;
	int64	total = 0;

	LockAll(store_id, product_id, &b);
	if (b.n == 0)
	{
		InventorySetOnHand(store_id, product_id, quantity);
		return;
	}
	Reclaim(store_id, product_id, &b);
	for (int k = 0; k < b.n; k++)
		total += b.on_hand[k];
	Spread(&b, Min(total + quantity, INVENTORY_MAX_ON_HAND));
	WriteAll(store_id, product_id, &b);
	EventsInventoryChanged(store_id, product_id);
}

StockLevel
InventoryLevel(const char *store_id, const char *product_id)
{
	Oid		   types[2] = {TEXTOID, TEXTOID};
	Datum	   values[2] = {CStringGetTextDatum(store_id), CStringGetTextDatum(product_id)};
	StockLevel level;
	bool	   isnull;

	MsExecute(MsPlan(&level_plan,
					 "SELECT l.on_hand, l.held, l.available FROM " INVENTORY_LEVEL_SQL("$1", "$2") " l", 2,
					 types),
			  values, NULL, false, 1);
	level.on_hand = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	level.held = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	level.available = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	return level;
}

void
InventoryWriteLevel(JsonWriter *w, const char *store_id, const char *product_id, StockLevel level)
{
	JwString(w, "storeId", store_id);
	JwString(w, "productId", product_id);
	JwInt(w, "onHand", level.on_hand);
	JwInt(w, "held", level.held);
	JwInt(w, "available", level.available);
}

/*
 * inventory_set(session_id, store_id, product_id, stock) sets stock on hand
 * ({"onHand":n}) for a manager of the store or an admin, and returns
 * {"stock":{storeId,productId,onHand,held,available}}.
 */
PG_FUNCTION_INFO_V1(ms_inventory_set);
Datum
ms_inventory_set(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr		 exists_plan = NULL;
	static const char *const allowed[] = {"onHand", NULL};
	MsCaller				 caller;
	char					*store_id;
	char					*product_id;
	JsonbContainer			*body;
	MsValidation			 v;
	double					 on_hand = 0;
	Oid						 types[2] = {TEXTOID, TEXTOID};
	Datum					 values[2];
	bool					 isnull;
	bool					 store_exists, product_exists;
	StockLevel				 level;
	JsonWriter				 w;
	Datum					 result;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		MsInvalidArgument(PG_ARGISNULL(1) ? "storeId" : "productId", "is required");
	store_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	product_id = text_to_cstring(PG_GETARG_TEXT_PP(2));
	values[0] = CStringGetTextDatum(store_id);
	values[1] = CStringGetTextDatum(product_id);
	MsExecute(MsPlan(&exists_plan,
					 "SELECT EXISTS (SELECT 1 FROM multistore.stores WHERE id = $1), "
					 "       EXISTS (SELECT 1 FROM multistore.products WHERE id = $2)",
					 2, types),
			  values, NULL, false, 1);
	store_exists = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	product_exists = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (!store_exists)
		StoreNotFound(store_id);
	AccountsRequireManagerOf(&caller, store_id);
	if (!product_exists)
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"product\"",
					  "product \"%s\" not found", product_id);

	body = JrBody(fcinfo, 3);
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	if (JrNumber(&v, body, "onHand", "onHand", true, &on_hand) &&
		(on_hand != (int64) on_hand || on_hand < 0 || on_hand > INVENTORY_MAX_ON_HAND))
		MsValidationAdd(&v, "onHand", "must be a whole number from 0 to %d", INVENTORY_MAX_ON_HAND);
	MsValidationCheck(&v);

	level = InventorySetOnHand(store_id, product_id, (int64) on_hand);
	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwObjectStart(&w, "stock");
	InventoryWriteLevel(&w, store_id, product_id, level);
	JwObjectEnd(&w);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
