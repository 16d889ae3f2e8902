/*-------------------------------------------------------------------------
 *
 * orders_status.c
 *	  The order state machine, and everything that moves an order along it
 *	  but payments: managers' status changes, cancels, the expiry job.
 *
 *	  pending_payment  -> confirmed (payment) | cancelled | expired (deadline passed)
 *	  confirmed        -> preparing | cancelled
 *	  preparing        -> ready_for_pickup (pickup) | out_for_delivery (delivery) | cancelled
 *	  ready_for_pickup -> completed
 *	  out_for_delivery -> delivered
 *
 * Anything else is invalid_transition, naming the current status.  What a
 * change means for stock: a payment turns the holds into a sale; a cancel
 * or expiry before payment releases them; a cancel after payment puts the
 * units back on the shelf.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "accounts.h"
#include "errors.h"
#include "events.h"
#include "inventory.h"
#include "jsonb_read.h"
#include "multistore.h"
#include "orders.h"
#include "reservations.h"

typedef enum StockEffect
{
	STOCK_NONE,
	STOCK_CONSUME, /* the holds become a sale */
	STOCK_RELEASE, /* the holds end, the units are available again */
	STOCK_RESTOCK  /* sold units go back on hand */
} StockEffect;

/* Every transition there is, who may make it, and what it does to stock */
typedef struct Transition
{
	const char *from;
	const char *to;
	const char *delivery; /* only for this delivery type, or NULL */
	unsigned	actors;
	StockEffect effect;
} Transition;

static const Transition transitions[] = {
	{"pending_payment", "confirmed", NULL, ACTOR_PAYMENT, STOCK_CONSUME},
	{"pending_payment", "cancelled", NULL, ACTOR_OWNER | ACTOR_MANAGER | ACTOR_PAYMENT, STOCK_RELEASE},
	{"pending_payment", "expired", NULL, ACTOR_SYSTEM, STOCK_RELEASE},
	{"confirmed", "preparing", NULL, ACTOR_MANAGER, STOCK_NONE},
	{"confirmed", "cancelled", NULL, ACTOR_OWNER | ACTOR_MANAGER, STOCK_RESTOCK},
	{"preparing", "ready_for_pickup", "pickup", ACTOR_MANAGER, STOCK_NONE},
	{"preparing", "out_for_delivery", "delivery", ACTOR_MANAGER, STOCK_NONE},
	{"preparing", "cancelled", NULL, ACTOR_MANAGER, STOCK_RESTOCK},
	{"ready_for_pickup", "completed", NULL, ACTOR_MANAGER, STOCK_NONE},
	{"out_for_delivery", "delivered", NULL, ACTOR_MANAGER, STOCK_NONE},
};

/* Is it one of the statuses of the machine above? */
static bool
StatusIsKnown(const char *status)
{
	for (int t = 0; t < (int) lengthof(transitions); t++)
		if (strcmp(transitions[t].from, status) == 0 || strcmp(transitions[t].to, status) == 0)
			return true;
	return false;
}

static SPIPlanPtr status_plan = NULL;
static SPIPlanPtr items_plan = NULL;
static SPIPlanPtr due_plan = NULL;

static const char *
ActorName(OrderActor actor)
{
	switch (actor)
	{
		case ACTOR_OWNER:
			return "customer";
		case ACTOR_MANAGER:
			return "manager";
		case ACTOR_PAYMENT:
			return "payment";
		case ACTOR_SYSTEM:
			return "system";
	}
	return "unknown";
}

/* Puts an order's sold units back on hand, product by product in id order */
static void
Restock(OrderRow *row)
{
	Oid	   types[1] = {UUIDOID};
	Datum  values[1] = {UUIDPGetDatum(&row->id)};
	uint64 n;
	char **products;
	int32 *quantities;

	n = MsExecute(
		MsPlan(&items_plan,
			   "SELECT product_id, sum(quantity)::int4 FROM multistore.order_items WHERE order_id = $1 "
			   " GROUP BY product_id ORDER BY product_id",
			   1, types),
		values, NULL, false, 0);
	products = palloc(sizeof(char *) * Max(n, 1));
	quantities = palloc(sizeof(int32) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool isnull;

		products[i] = MsColumnText(i, 1);
		quantities[i] =
			DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	for (uint64 i = 0; i < n; i++)
		InventoryRestock(row->store_id, products[i], quantities[i]);
}

void
OrderTransition(OrderRow *row, const char *to, OrderActor actor, pg_uuid_t *actor_id, const char *note)
{
	const Transition *rule = NULL;
	Oid				  types[7] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, UUIDOID, TEXTOID};
	Datum			  values[7];
	char			  nulls[7] = "       ";

	for (int t = 0; t < (int) lengthof(transitions) && rule == NULL; t++)
	{
		const Transition *candidate = &transitions[t];

		if (strcmp(candidate->from, row->status) == 0 && strcmp(candidate->to, to) == 0 &&
			(candidate->delivery == NULL || strcmp(candidate->delivery, row->delivery_type) == 0) &&
			(candidate->actors & actor) != 0)
			rule = candidate;
	}
	if (rule == NULL)
		MsErrorDetail(ERRCODE_MS_CONFLICT, "invalid_transition",
					  psprintf("\"status\":%s,\"requested\":%s", MsJsonQuote(row->status), MsJsonQuote(to)),
					  "an order that is %s cannot become %s", row->status, to);

	switch (rule->effect)
	{
		case STOCK_CONSUME:
			ReservationConsume(row->reservation_id);
			break;
		case STOCK_RELEASE:
			if (row->has_reservation)
				ReservationRelease(row->reservation_id);
			break;
		case STOCK_RESTOCK:
			Restock(row);
			break;
		case STOCK_NONE:
			break;
	}

	values[0] = UUIDPGetDatum(&row->id);
	values[1] = CStringGetTextDatum(row->store_id);
	values[2] = CStringGetTextDatum(row->status);
	values[3] = CStringGetTextDatum(to);
	values[4] = CStringGetTextDatum(ActorName(actor));
	if (actor_id)
		values[5] = UUIDPGetDatum(actor_id);
	else
		nulls[5] = 'n';
	if (note)
		values[6] = CStringGetTextDatum(note);
	else
		nulls[6] = 'n';
	MsExecute(MsPlan(&status_plan,
					 "WITH changed AS ( "
					 "  UPDATE multistore.orders SET status = $4, updated_at = now(), "
					 "         paid_at = CASE WHEN $4 = 'confirmed' THEN now() ELSE paid_at END "
					 "   WHERE id = $1 AND store_id = $2) "
					 "INSERT INTO multistore.order_status_history "
					 "       (order_id, store_id, seq, from_status, to_status, actor, actor_id, note) "
					 "SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7 "
					 "  FROM multistore.order_status_history WHERE order_id = $1 AND store_id = $2",
					 7, types),
			  values, nulls, false, 0);
	EventsEmit("order.status_changed", row->store_id, &row->user_id,
			   psprintf("{\"orderId\":\"%s\",\"storeId\":%s,\"from\":\"%s\",\"to\":\"%s\",\"note\":%s,"
						"\"actor\":\"%s\"}",
						DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&row->id))),
						MsJsonQuote(row->store_id), row->status, to, note ? MsJsonQuote(note) : "null",
						ActorName(actor)));
	row->status = pstrdup(to);
}

/* Locks the order an owner call names; not_found for anyone who may not see it */
static void
LockVisibleOrder(FunctionCallInfo fcinfo, const MsCaller *caller, OrderRow *row)
{
	if (PG_ARGISNULL(1))
		MsInvalidArgument("orderId", "is required");
	if (!OrderLock(*DatumGetUUIDP(PG_GETARG_DATUM(1)), row) ||
		!OrderVisibleTo(caller, row->user_id, row->store_id))
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"order\"", "order not found");
}

/* Answers {"order":{...}} and leaves SPI */
static Datum
Answer(pg_uuid_t id)
{
	JsonWriter w;
	Datum	   result;

	JwInit(&w);
	JwObjectStart(&w, NULL);
	OrderWrite(&w, id);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	return result;
}

/*
 * order_set_status(session_id, order_id, change) moves an order along
 * ({"status":..., "note"?}) for a manager of its store or an admin.
 */
PG_FUNCTION_INFO_V1(ms_order_set_status);
Datum
ms_order_set_status(PG_FUNCTION_ARGS)
{
	static const char *const allowed[] = {"status", "note", NULL};
	MsCaller				 caller;
	OrderRow				 row;
	JsonbContainer			*body;
	MsValidation			 v;
	char					*status = NULL;
	char					*note = NULL;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	body = JrBody(fcinfo, 2);
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	if (JrText(&v, body, "status", "status", true, 32, &status) && !StatusIsKnown(status))
		MsValidationAdd(&v, "status", "must be an order status such as \"preparing\"");
	JrText(&v, body, "note", "note", false, 500, &note);
	MsValidationCheck(&v);

	LockVisibleOrder(fcinfo, &caller, &row);
	if (!AccountsManages(&caller, row.store_id))
		MsError(ERRCODE_MS_FORBIDDEN, "forbidden",
				"only a manager of the order's store or an admin may do this");
	OrderTransition(&row, status, ACTOR_MANAGER, &caller.user_id, note);
	PG_RETURN_DATUM(Answer(row.id));
}

/*
 * order_cancel(session_id, order_id): its owner while it is unpaid or
 * confirmed, a manager of its store or an admin until it is handed over.
 */
PG_FUNCTION_INFO_V1(ms_order_cancel);
Datum
ms_order_cancel(PG_FUNCTION_ARGS)
{
	MsCaller caller;
	OrderRow row;
	char	*note = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	LockVisibleOrder(fcinfo, &caller, &row);
	OrderTransition(&row, "cancelled", AccountsManages(&caller, row.store_id) ? ACTOR_MANAGER : ACTOR_OWNER,
					&caller.user_id, note);
	PG_RETURN_DATUM(Answer(row.id));
}

int64
OrdersExpire(void)
{
	uint64	   n;
	pg_uuid_t *ids;
	int64	   expired = 0;

	/* orders someone is changing right now are skipped: they are next time's */
	n = MsExecute(MsPlan(&due_plan,
						 "SELECT id FROM multistore.orders "
						 " WHERE status = 'pending_payment' AND payment_due_at <= now() "
						 " ORDER BY payment_due_at LIMIT 1000 FOR UPDATE SKIP LOCKED",
						 0, NULL),
				  NULL, NULL, false, 0);
	ids = palloc(sizeof(pg_uuid_t) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool isnull;

		ids[i] = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	for (uint64 i = 0; i < n; i++)
	{
		OrderRow row;

		if (OrderLock(ids[i], &row) && strcmp(row.status, "pending_payment") == 0)
		{
			OrderTransition(&row, "expired", ACTOR_SYSTEM, NULL, "payment deadline passed");
			expired++;
		}
	}
	return expired;
}

/* orders_expire(): the job; returns how many unpaid orders it expired */
PG_FUNCTION_INFO_V1(ms_orders_expire);
Datum
ms_orders_expire(PG_FUNCTION_ARGS)
{
	int64 n;

	SPI_connect();
	n = OrdersExpire();
	SPI_finish();
	PG_RETURN_INT64(n);
}
