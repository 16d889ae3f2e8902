/*-------------------------------------------------------------------------
 *
 * events.c
 *	  The event log: writing events where changes happen, reading them
 *	  back by rule, and purging them.
 *
 * Ids come from a sequence, and a transaction that took a lower id can
 * commit after one that took a higher id.  Notifications arrive in commit
 * order, so a live listener sees every event once; the hard part is
 * resuming after an id.  Each row records its transaction (xid) and the
 * snapshot current when it was written.  An event with a lower id that
 * commits after event A was written belongs to a transaction in flight at
 * that moment: invisible in A's snapshot.  So "after A" is every event
 * with id > A, plus every event with id < A whose transaction A's snapshot
 * does not see.  Nothing committed later is missed; an event that
 * committed between A's write and A's commit may come again (at least
 * once, never lost): readers drop ids they already have.  Ordering the
 * ids on commit instead (a lock held from the first event to commit) would
 * serialise every writer of stock on one lock, which the hot-product
 * design of inventory.c exists to avoid.
 *
 * inventory.changed stores the store and product only; "available" is
 * computed when the event is read.  Two sessions reserving one product
 * in different buckets commit without waiting for each other, so a figure
 * taken inside either transaction can be stale at once; read after the
 * commit that announced it, it is never older than that commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/tuplestore.h"

#include "accounts.h"
#include "errors.h"
#include "events.h"
#include "inventory.h"
#include "json_build.h"
#include "multistore.h"

/* One event as a client gets it: {"id","type","data","at"} */
#define EVENT_MESSAGE_SQL                                                                                    \
	"json_build_object('id', e.id, 'type', e.type, 'data', "                                                 \
	"  CASE WHEN e.type = 'inventory.changed' THEN e.payload || jsonb_build_object('available', "            \
	"       (SELECT l.available FROM " INVENTORY_LEVEL_SQL(                                                  \
		"e.store_id", "(e.payload->>'productId')") " l)) "                                                   \
												   "  ELSE e.payload END, "                                  \
												   "  'at', to_char(e.created_at AT TIME ZONE 'UTC', "       \
												   "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))::text"

/*
 * The events after $1, as a relation: a higher id, or a lower one whose
 * transaction was in flight when event $1 was written (see the banner).
 * A transaction id at or past the current snapshot's xmax cannot have
 * committed here: it was written by another cluster (a restored dump, whose
 * ids ran ahead of this one's), so its snapshot says nothing about ours.
 * Two branches, each an index scan (the primary key; the xid index), so a
 * reader pays for what it reads, not for the 24 hours kept.
 */
#define EVENTS_AFTER_SQL                                                                                     \
	"(SELECT * FROM multistore.events WHERE id > $1 "                                                        \
	" UNION ALL "                                                                                            \
	" SELECT l.* FROM multistore.events a JOIN multistore.events l "                                         \
	"   ON l.xid >= pg_snapshot_xmin(a.snapshot) AND l.id < a.id AND l.xid <> a.xid "                        \
	"  AND NOT pg_visible_in_snapshot(l.xid, a.snapshot) "                                                   \
	"  AND l.xid < pg_snapshot_xmax(pg_current_snapshot()) "                                                 \
	" WHERE a.id = $1)"

bool multistore_notify_stock_events = false;

void
EventsInit(void)
{
	DefineCustomBoolVariable("multistore.notify_stock_events",
							 "NOTIFYs inventory.changed events at commit, as the other events are.",
							 "Off by default: notifying commits run one at a time, and every reservation "
							 "changes stock; listeners read the event log every few milliseconds instead.",
							 &multistore_notify_stock_events, false, PGC_SUSET, 0, NULL, NULL, NULL);
}

void
EventsEmit(const char *type, const char *store_id, const pg_uuid_t *user_id, const char *payload)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[4] = {TEXTOID, TEXTOID, UUIDOID, TEXTOID};
	Datum			  values[4];
	char			  nulls[4] = "    ";
	SPITupleTable	 *caller_table = SPI_tuptable;
	uint64			  caller_processed = SPI_processed;
	bool			  isnull;
	int64			  id;

	/* the transaction has its id before the event has one: events_since relies on it */
	(void) GetTopTransactionId();
	values[0] = CStringGetTextDatum(type);
	if (store_id)
		values[1] = CStringGetTextDatum(store_id);
	else
		nulls[1] = 'n';
	if (user_id)
		values[2] = UUIDPGetDatum(user_id);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(payload);
	MsExecute(MsPlan(&plan,
					 "INSERT INTO multistore.events (type, store_id, user_id, payload) "
					 "VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
					 4, types),
			  values, nulls, false, 1);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	/* stock changes ride on every reservation: NOTIFY them only when asked (events.h) */
	if (multistore_notify_stock_events || strcmp(type, "inventory.changed") != 0)
		Async_Notify(EVENTS_CHANNEL, psprintf(INT64_FORMAT, id));
	/* callers may still be reading the rows of their own last statement */
	SPI_tuptable = caller_table;
	SPI_processed = caller_processed;
}

void
EventsInventoryChanged(const char *store_id, const char *product_id)
{
	EventsEmit("inventory.changed", store_id, NULL,
			   psprintf("{\"storeId\":%s,\"productId\":%s}", MsJsonQuote(store_id), MsJsonQuote(product_id)));
}

/* A text[] argument as a Datum, or an empty array when NULL */
static Datum
StoresArgument(FunctionCallInfo fcinfo, int argno)
{
	ArrayType *stores;

	if (PG_ARGISNULL(argno))
		return PointerGetDatum(construct_empty_array(TEXTOID));
	stores = PG_GETARG_ARRAYTYPE_P(argno);
	if (ArrayGetNItems(ARR_NDIM(stores), ARR_DIMS(stores)) > EVENTS_MAX_STORES)
		MsInvalidArgument("stores", "may name at most %d stores", EVENTS_MAX_STORES);
	return PointerGetDatum(stores);
}

/*
 * events_since(session_id, after_id, stores, max_results) returns the
 * events after after_id that the caller may see, oldest first, as
 * {"events":[{id,type,data,at}],"lastId":n}: order events of their own
 * orders (of a managed store's for its managers, of all for admins) and
 * inventory.changed of the stores named.  Without a session, only the
 * latter: stock is public.  lastId is what to pass next time.
 */
PG_FUNCTION_INFO_V1(ms_events_since);
Datum
ms_events_since(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[5] = {INT8OID, UUIDOID, BOOLOID, TEXTARRAYOID, INT4OID};
	Datum			  values[5];
	char			  nulls[5] = "     ";
	int64			  after = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	int32			  limit = PG_ARGISNULL(3) ? EVENTS_SINCE_DEFAULT : PG_GETARG_INT32(3);
	int64			  last = after;
	StringInfoData	  out;
	uint64			  n;
	Datum			  result;

	if (after < 0)
		MsInvalidArgument("since", "must be an event id (0 or more)");
	if (limit < 1 || limit > EVENTS_SINCE_MAX)
		MsInvalidArgument("limit", "must be from 1 to %d", EVENTS_SINCE_MAX);
	SPI_connect();
	values[0] = Int64GetDatum(after);
	if (PG_ARGISNULL(0))
	{
		nulls[1] = 'n';
		values[2] = BoolGetDatum(false);
	}
	else
	{
		MsCaller caller = AccountsCaller(fcinfo, 0);

		values[1] = UUIDPGetDatum(&caller.user_id);
		values[2] = BoolGetDatum(caller.role == MS_ROLE_ADMIN);
	}
	values[3] = StoresArgument(fcinfo, 2);
	values[4] = Int32GetDatum(limit);
	n = MsExecute(MsPlan(&plan,
						 "SELECT e.id, " EVENT_MESSAGE_SQL " FROM " EVENTS_AFTER_SQL " e "
						 " WHERE ((e.type LIKE 'order.%' AND $2::uuid IS NOT NULL "
						 "         AND ($3 OR e.user_id = $2 "
						 "              OR EXISTS (SELECT 1 FROM multistore.store_managers m "
						 "                          WHERE m.user_id = $2 AND m.store_id = e.store_id))) "
						 "        OR (e.type = 'inventory.changed' AND e.store_id = ANY ($4))) "
						 " ORDER BY e.id LIMIT $5",
						 5, types),
				  values, nulls, true, 0);
	initStringInfo(&out);
	appendStringInfoString(&out, "{\"events\":[");
	for (uint64 i = 0; i < n; i++)
	{
		bool  isnull;
		int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		last = Max(last, id);
		if (i > 0)
			appendStringInfoChar(&out, ',');
		appendStringInfoString(&out, MsColumnText(i, 2));
	}
	appendStringInfo(&out, "],\"lastId\":" INT64_FORMAT "}", last);
	result = MsSpiCopy(DirectFunctionCall1(json_in, CStringGetDatum(out.data)));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * multistore.events_last_id(): the last event's id (0: none), where
 * a new listener starts (the proxy's role reads no table).
 */
PG_FUNCTION_INFO_V1(ms_events_last_id);
Datum
ms_events_last_id(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr last_plan = NULL;
	bool			  isnull;
	int64			  last;

	SPI_connect();
	MsExecute(MsPlan(&last_plan, "SELECT coalesce(max(id), 0) FROM multistore.events", 0, NULL), NULL, NULL,
			  true, 1);
	last = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT64(last);
}

/*
 * multistore.events_fetch(after_id, ids, max_results) returns
 * every event named in ids, or else every event after after_id, as rows
 * (id, type, store_id, user_id, message): for the proxy, which sees all of
 * them and fans each out to whoever the rule lets see it.
 */
PG_FUNCTION_INFO_V1(ms_events_fetch);
Datum
ms_events_fetch(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr by_id_plan = NULL;
	static SPIPlanPtr after_plan = NULL;
	ReturnSetInfo	 *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32			  limit = PG_ARGISNULL(2) ? 1000 : PG_GETARG_INT32(2);
	uint64			  n;

	if (limit < 1 || limit > 100000)
		MsInvalidArgument("max_results", "must be from 1 to 100000");
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	if (!PG_ARGISNULL(1))
	{
		Oid	  types[1] = {INT8ARRAYOID};
		Datum values[1] = {PG_GETARG_DATUM(1)};

		n = MsExecute(MsPlan(&by_id_plan,
							 "SELECT e.id, e.type, e.store_id, e.user_id, " EVENT_MESSAGE_SQL
							 "  FROM multistore.events e WHERE e.id = ANY ($1) ORDER BY e.id",
							 1, types),
					  values, NULL, true, 0);
	}
	else
	{
		Oid	  types[2] = {INT8OID, INT4OID};
		Datum values[2] = {Int64GetDatum(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0)), Int32GetDatum(limit)};

		n = MsExecute(MsPlan(&after_plan,
							 "SELECT e.id, e.type, e.store_id, e.user_id, " EVENT_MESSAGE_SQL
							 "  FROM " EVENTS_AFTER_SQL " e ORDER BY e.id LIMIT $2",
							 2, types),
					  values, NULL, true, 0);
	}
	for (uint64 i = 0; i < n; i++)
	{
		Datum values[5];
		bool  nulls[5];

		for (int c = 0; c < 5; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		/* the tuplestore copies by value; text and uuid live in SPI memory until SPI_finish */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* events_purge(): the job; removes events past 24 hours and old tickets */
PG_FUNCTION_INFO_V1(ms_events_purge);
Datum
ms_events_purge(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr tickets_plan = NULL;
	Oid				  types[1] = {INT4OID};
	Datum			  values[1] = {Int32GetDatum(EVENTS_KEEP_HOURS)};
	Datum			  minutes[1] = {Int32GetDatum(EVENTS_TICKET_KEEP_MIN)};
	uint64			  n;

	SPI_connect();
	n = MsExecute(
		MsPlan(&plan, "DELETE FROM multistore.events WHERE created_at < now() - make_interval(hours => $1)",
			   1, types),
		values, NULL, false, 0);
	MsExecute(MsPlan(&tickets_plan,
					 "DELETE FROM multistore.realtime_tickets "
					 " WHERE expires_at < now() - make_interval(mins => $1)",
					 1, types),
			  minutes, NULL, false, 0);
	SPI_finish();
	PG_RETURN_INT64((int64) n);
}
