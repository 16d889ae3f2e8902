/*-------------------------------------------------------------------------
 *
 * orders.c
 *	  Placing orders (idempotently), reading and listing them.
 *
 * order_place turns the caller's cart into an order at one store in one
 * transaction: check the store and the delivery, price the cart, hold every
 * line through the reservation engine, write the order (pending_payment,
 * with name and price snapshots), empty the cart.  The reservation's expiry
 * is the payment deadline.  The work runs in a subtransaction so that a
 * refusal met along the way (out_of_stock, store_closed ...) can be stored
 * with its key and replayed: order_place returns (status, body, replayed)
 * rather than raising those.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "accounts.h"
#include "carts.h"
#include "errors.h"
#include "events.h"
#include "idempotency.h"
#include "jsonb_read.h"
#include "multistore.h"
#include "orders.h"
#include "pricing.h"
#include "reservations.h"
#include "stores.h"

/* What a client asked for in POST /api/orders */
typedef struct OrderRequest
{
	char  *store_id;
	char  *delivery_type;
	Jsonb *address; /* NULL for pickup */
	bool   has_point;
	double latitude;
	double longitude;
	char  *notes;
} OrderRequest;

static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr distance_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr items_plan = NULL;
static SPIPlanPtr history_plan = NULL;
static SPIPlanPtr read_plan = NULL;
static SPIPlanPtr read_items_plan = NULL;
static SPIPlanPtr read_history_plan = NULL;
static SPIPlanPtr owner_plan = NULL;
static SPIPlanPtr mine_plan = NULL;
static SPIPlanPtr store_list_plan = NULL;

bool
OrderLock(pg_uuid_t id, OrderRow *row)
{
	Oid		  types[1] = {UUIDOID};
	Datum	  values[1] = {UUIDPGetDatum(&id)};
	HeapTuple t;
	TupleDesc d;
	bool	  isnull;
	Datum	  reservation;

	if (MsExecute(
			MsPlan(&lock_plan,
				   "SELECT store_id, user_id, status, delivery_type, reservation_id, total::text, currency, "
				   "       status = 'pending_payment' AND payment_due_at <= clock_timestamp() "
				   "  FROM multistore.orders WHERE id = $1 FOR UPDATE",
				   1, types),
			values, NULL, false, 1) == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	row->id = id;
	row->store_id = MsColumnText(0, 1);
	row->user_id = *DatumGetUUIDP(SPI_getbinval(t, d, 2, &isnull));
	row->status = MsColumnText(0, 3);
	row->delivery_type = MsColumnText(0, 4);
	reservation = SPI_getbinval(t, d, 5, &isnull);
	row->has_reservation = !isnull;
	if (!isnull)
		row->reservation_id = *DatumGetUUIDP(reservation);
	row->total = MsColumnText(0, 6);
	row->currency = MsColumnText(0, 7);
	row->overdue = DatumGetBool(SPI_getbinval(t, d, 8, &isnull));
	return true;
}

bool
OrderVisibleTo(const MsCaller *caller, pg_uuid_t owner, const char *store_id)
{
	return memcmp(&caller->user_id, &owner, sizeof(pg_uuid_t)) == 0 || AccountsManages(caller, store_id);
}

void
OrderWrite(JsonWriter *w, pg_uuid_t id)
{
	Oid		  types[1] = {UUIDOID};
	Datum	  values[1] = {UUIDPGetDatum(&id)};
	HeapTuple t;
	TupleDesc d;
	bool	  isnull;
	char	 *fields[14];
	uint64	  n;

	if (MsExecute(
			MsPlan(&read_plan,
				   "SELECT store_id, user_id::text, status, delivery_type, delivery_address::text, notes, "
				   "       subtotal::text, discount::text, total::text, currency, "
				   "       payment_due_at, paid_at, refund_required, created_at, updated_at "
				   "  FROM multistore.orders WHERE id = $1",
				   1, types),
			values, NULL, false, 1) == 0)
		elog(ERROR, "order vanished");
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	for (int i = 0; i < 10; i++)
		fields[i] = MsColumnText(0, i + 1);

	JwObjectStart(w, "order");
	JwString(w, "id", DatumGetCString(DirectFunctionCall1(uuid_out, values[0])));
	JwString(w, "storeId", fields[0]);
	JwString(w, "userId", fields[1]);
	JwString(w, "status", fields[2]);
	JwString(w, "deliveryType", fields[3]);
	if (fields[4])
		JwRaw(w, "deliveryAddress", fields[4]);
	else
		JwNull(w, "deliveryAddress");
	JwStringOrNull(w, "notes", fields[5]);
	JwString(w, "subtotal", fields[6]);
	JwString(w, "discount", fields[7]);
	JwString(w, "total", fields[8]);
	JwString(w, "currency", fields[9]);
	JwTimestamp(w, "paymentDueAt", DatumGetTimestampTz(SPI_getbinval(t, d, 11, &isnull)));
	{
		Datum paid = SPI_getbinval(t, d, 12, &isnull);

		if (isnull)
			JwNull(w, "paidAt");
		else
			JwTimestamp(w, "paidAt", DatumGetTimestampTz(paid));
	}
	JwBool(w, "refundRequired", DatumGetBool(SPI_getbinval(t, d, 13, &isnull)));
	JwTimestamp(w, "createdAt", DatumGetTimestampTz(SPI_getbinval(t, d, 14, &isnull)));
	JwTimestamp(w, "updatedAt", DatumGetTimestampTz(SPI_getbinval(t, d, 15, &isnull)));

	JwArrayStart(w, "items");
	n = MsExecute(
		MsPlan(&read_items_plan,
			   "SELECT product_id, name, quantity, unit_price::text, discount::text, line_total::text, "
			   "       promotion_id, promotion_code "
			   "  FROM multistore.order_items WHERE order_id = $1 ORDER BY line",
			   1, types),
		values, NULL, false, 0);
	for (uint64 i = 0; i < n; i++)
	{
		JwObjectStart(w, NULL);
		JwString(w, "productId", MsColumnText(i, 1));
		JwString(w, "name", MsColumnText(i, 2));
		JwInt(w, "quantity",
			  DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull)));
		JwString(w, "unitPrice", MsColumnText(i, 4));
		JwString(w, "discount", MsColumnText(i, 5));
		JwString(w, "lineTotal", MsColumnText(i, 6));
		PricingWritePromotion(w, MsColumnText(i, 7), MsColumnText(i, 8));
		JwObjectEnd(w);
	}
	JwArrayEnd(w);

	JwArrayStart(w, "history");
	n = MsExecute(MsPlan(&read_history_plan,
						 "SELECT from_status, to_status, actor, actor_id::text, note, at "
						 "  FROM multistore.order_status_history WHERE order_id = $1 ORDER BY seq",
						 1, types),
				  values, NULL, false, 0);
	for (uint64 i = 0; i < n; i++)
	{
		JwObjectStart(w, NULL);
		JwStringOrNull(w, "from", MsColumnText(i, 1));
		JwString(w, "to", MsColumnText(i, 2));
		JwString(w, "actor", MsColumnText(i, 3));
		JwStringOrNull(w, "actorId", MsColumnText(i, 4));
		JwStringOrNull(w, "note", MsColumnText(i, 5));
		JwTimestamp(
			w, "at",
			DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 6, &isnull)));
		JwObjectEnd(w);
	}
	JwArrayEnd(w);
	JwObjectEnd(w);
}

/* Reads {storeId, deliveryType, deliveryAddress?, notes?}; raises validation_failed */
static void
ReadOrderRequest(JsonbContainer *body, OrderRequest *req)
{
	static const char *const allowed[] = {"storeId", "deliveryType", "deliveryAddress", "notes", NULL};
	static const char *const address_fields[] = {"line1",	"line2",	"city",		 "region", "postalCode",
												 "country", "latitude", "longitude", NULL};
	MsValidation			 v;
	JsonbContainer			*address = NULL;
	JsonbValue				 address_value;

	memset(req, 0, sizeof(*req));
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	if (JrText(&v, body, "storeId", "storeId", true, MS_ID_MAX_LENGTH, &req->store_id) &&
		!MsIdIsValid(req->store_id))
		MsValidationAdd(&v, "storeId", "must be a store id");
	if (JrText(&v, body, "deliveryType", "deliveryType", true, 16, &req->delivery_type) &&
		strcmp(req->delivery_type, "delivery") != 0 && strcmp(req->delivery_type, "pickup") != 0)
		MsValidationAdd(&v, "deliveryType", "must be \"delivery\" or \"pickup\"");
	JrText(&v, body, "notes", "notes", false, ORDERS_NOTES_MAX, &req->notes);
	if (JrContainer(&v, body, "deliveryAddress", "deliveryAddress", false, true, &address))
	{
		char  *ignored;
		double lat, lon;
		bool   has_lat, has_lon;

		JrRejectUnknown(&v, address, "deliveryAddress", address_fields);
		JrText(&v, address, "line1", "deliveryAddress.line1", true, 200, &ignored);
		JrText(&v, address, "line2", "deliveryAddress.line2", false, 200, &ignored);
		JrText(&v, address, "city", "deliveryAddress.city", true, 100, &ignored);
		JrText(&v, address, "region", "deliveryAddress.region", false, 100, &ignored);
		JrText(&v, address, "postalCode", "deliveryAddress.postalCode", true, 20, &ignored);
		JrText(&v, address, "country", "deliveryAddress.country", false, 60, &ignored);
		has_lat = JrNumber(&v, address, "latitude", "deliveryAddress.latitude", false, &lat);
		has_lon = JrNumber(&v, address, "longitude", "deliveryAddress.longitude", false, &lon);
		if (has_lat && !(lat >= -90 && lat <= 90))
			MsValidationAdd(&v, "deliveryAddress.latitude", "must be between -90 and 90");
		if (has_lon && !(lon >= -180 && lon <= 180))
			MsValidationAdd(&v, "deliveryAddress.longitude", "must be between -180 and 180");
		if (has_lat != has_lon)
			MsValidationAdd(&v, has_lat ? "deliveryAddress.longitude" : "deliveryAddress.latitude",
							"is required with the other coordinate");
		req->has_point = has_lat && has_lon;
		req->latitude = lat;
		req->longitude = lon;
		JrGet(body, "deliveryAddress", &address_value);
		req->address = JsonbValueToJsonb(&address_value);
	}
	if (req->delivery_type && strcmp(req->delivery_type, "delivery") == 0 && address == NULL &&
		!MsValidationHas(&v, "deliveryAddress"))
		MsValidationAdd(&v, "deliveryAddress", "is required for delivery");
	MsValidationCheck(&v);
}

/* The work of placing an order; raises what refuses it.  Returns the order id. */
static pg_uuid_t
PlaceOrder(const MsCaller *caller, const OrderRequest *req)
{
	StoreRow		   store;
	TimestampTz		   now = GetCurrentTransactionStartTimestamp();
	pg_uuid_t		   cart;
	PricedCart		   priced;
	ReservationLine	  *lines;
	ReservationRequest rreq = {0};
	ReservationCreated created;
	TimestampTz		   due;
	pg_uuid_t		   order_id = *DatumGetUUIDP(DirectFunctionCall1(gen_random_uuid, (Datum) 0));
	char			  *order_text = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&order_id)));
	StringInfoData	   unavailable;

	if (!StoreLoad(req->store_id, STORE_READ_OWN_WRITES, &store))
		StoreNotFound(req->store_id);
	if (!store.accepting_orders)
		MsErrorDetail(ERRCODE_MS_CONFLICT, "store_not_accepting_orders",
					  psprintf("\"storeId\":%s", MsJsonQuote(store.id)),
					  "store \"%s\" is not taking orders now", store.id);
	if (strcmp(req->delivery_type, "pickup") == 0 && !HoursIsOpen(&store.hours, store.tz, now))
	{
		TimestampTz opens;

		MsErrorDetail(ERRCODE_MS_CONFLICT, "store_closed",
					  HoursNextOpening(&store.hours, store.tz, now, &opens)
						  ? psprintf("\"storeId\":%s,\"nextOpensAt\":\"%s\"", MsJsonQuote(store.id),
									 MsTimestampText(opens))
						  : psprintf("\"storeId\":%s,\"nextOpensAt\":null", MsJsonQuote(store.id)),
					  "store \"%s\" is closed for pickup now", store.id);
	}
	if (strcmp(req->delivery_type, "delivery") == 0 && req->has_point)
	{
		Oid	   types[3] = {TEXTOID, FLOAT8OID, FLOAT8OID};
		Datum  values[3] = {CStringGetTextDatum(store.id), Float8GetDatum(req->latitude),
							Float8GetDatum(req->longitude)};
		bool   isnull;
		double metres;

		MsExecute(MsPlan(&distance_plan,
						 "SELECT ST_Distance(location, ST_SetSRID(ST_MakePoint($3, $2), 4326)::geography) "
						 "  FROM multistore.stores WHERE id = $1",
						 3, types),
				  values, NULL, false, 1);
		metres = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (metres > store.delivery_radius_km * 1000.0)
			MsErrorDetail(ERRCODE_MS_UNPROCESSABLE, "outside_delivery_area",
						  psprintf("\"distanceKm\":%.3f,\"deliveryRadiusKm\":%g", rint(metres) / 1000.0,
								   store.delivery_radius_km),
						  "the delivery address is %.1f km from the store, which delivers within %g km",
						  metres / 1000.0, store.delivery_radius_km);
	}

	cart = CartOf(caller->user_id);
	PricingCart(UUIDPGetDatum(&cart), store.id, &priced);
	if (priced.nlines == 0)
		MsError(ERRCODE_MS_BAD_REQUEST, "cart_empty", "the cart is empty");
	initStringInfo(&unavailable);
	for (int i = 0; i < priced.nlines; i++)
		if (!priced.lines[i].available)
			appendStringInfo(&unavailable, "%s%s", unavailable.len ? "," : "",
							 MsJsonQuote(priced.lines[i].product_id));
	if (unavailable.len)
		MsErrorDetail(ERRCODE_MS_CONFLICT, "product_unavailable",
					  psprintf("\"productIds\":[%s]", unavailable.data),
					  "some products in the cart are not for sale any more");

	/* hold every line at the store: out_of_stock names the short ones */
	lines = palloc(sizeof(ReservationLine) * priced.nlines);
	for (int i = 0; i < priced.nlines; i++)
	{
		lines[i].product_id = priced.lines[i].product_id;
		lines[i].quantity = priced.lines[i].quantity;
	}
	rreq.store_id = store.id;
	rreq.lines = lines;
	rreq.nlines = priced.nlines;
	rreq.owner_type = "order";
	rreq.owner_ref = order_text;
	rreq.created_by = (pg_uuid_t *) &caller->user_id;
	ReservationCreate(&rreq, &due, &created);

	{
		Oid	  types[12] = {UUIDOID, TEXTOID,	UUIDOID,	TEXTOID,	JSONBOID, TEXTOID,
						   TEXTOID, NUMERICOID, NUMERICOID, NUMERICOID, UUIDOID,  TIMESTAMPTZOID};
		Datum values[12];
		char  nulls[12] = "            ";

		values[0] = UUIDPGetDatum(&order_id);
		values[1] = CStringGetTextDatum(store.id);
		values[2] = UUIDPGetDatum(&caller->user_id);
		values[3] = CStringGetTextDatum(req->delivery_type);
		if (req->address)
			values[4] = JsonbPGetDatum(req->address);
		else
			nulls[4] = 'n';
		if (req->notes)
			values[5] = CStringGetTextDatum(req->notes);
		else
			nulls[5] = 'n';
		values[6] = CStringGetTextDatum(priced.currency);
		values[7] = DirectFunctionCall3(numeric_in, CStringGetDatum(priced.subtotal),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[8] = DirectFunctionCall3(numeric_in, CStringGetDatum(priced.discount),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[9] = DirectFunctionCall3(numeric_in, CStringGetDatum(priced.total),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[10] = UUIDPGetDatum(&created.id);
		values[11] = TimestampTzGetDatum(due);
		MsExecute(MsPlan(&insert_plan,
						 "INSERT INTO multistore.orders (id, store_id, user_id, delivery_type, "
						 "delivery_address, notes, "
						 "       currency, subtotal, discount, total, reservation_id, payment_due_at) "
						 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
						 12, types),
				  values, nulls, false, 0);
	}
	{
		/* the lines as they were priced: name and price snapshots */
		Oid	   types[9] = {UUIDOID,		 TEXTOID,	   TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
						   INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum  values[9];
		Datum *products = palloc(sizeof(Datum) * priced.nlines);
		Datum *names = palloc(sizeof(Datum) * priced.nlines);
		Datum *prices = palloc(sizeof(Datum) * priced.nlines);
		Datum *quantities = palloc(sizeof(Datum) * priced.nlines);
		Datum *discounts = palloc(sizeof(Datum) * priced.nlines);
		Datum *promotion_ids = palloc(sizeof(Datum) * priced.nlines);
		Datum *promotion_codes = palloc(sizeof(Datum) * priced.nlines);
		bool  *no_promotion = palloc(sizeof(bool) * priced.nlines);
		int	   dims[1] = {priced.nlines};
		int	   lbs[1] = {1};

		for (int i = 0; i < priced.nlines; i++)
		{
			products[i] = CStringGetTextDatum(priced.lines[i].product_id);
			names[i] = CStringGetTextDatum(priced.lines[i].name);
			prices[i] = CStringGetTextDatum(priced.lines[i].unit_price);
			quantities[i] = Int32GetDatum(priced.lines[i].quantity);
			discounts[i] = CStringGetTextDatum(priced.lines[i].discount);
			no_promotion[i] = priced.lines[i].promotion_id == NULL;
			promotion_ids[i] =
				no_promotion[i] ? (Datum) 0 : CStringGetTextDatum(priced.lines[i].promotion_id);
			promotion_codes[i] =
				no_promotion[i] ? (Datum) 0 : CStringGetTextDatum(priced.lines[i].promotion_code);
		}
		values[0] = UUIDPGetDatum(&order_id);
		values[1] = CStringGetTextDatum(store.id);
		values[2] =
			PointerGetDatum(construct_array(products, priced.nlines, TEXTOID, -1, false, TYPALIGN_INT));
		values[3] = PointerGetDatum(construct_array(names, priced.nlines, TEXTOID, -1, false, TYPALIGN_INT));
		values[4] = PointerGetDatum(construct_array(prices, priced.nlines, TEXTOID, -1, false, TYPALIGN_INT));
		values[5] =
			PointerGetDatum(construct_array(quantities, priced.nlines, INT4OID, 4, true, TYPALIGN_INT));
		values[6] =
			PointerGetDatum(construct_array(discounts, priced.nlines, TEXTOID, -1, false, TYPALIGN_INT));
		values[7] = PointerGetDatum(
			construct_md_array(promotion_ids, no_promotion, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
		values[8] = PointerGetDatum(construct_md_array(promotion_codes, no_promotion, 1, dims, lbs, TEXTOID,
													   -1, false, TYPALIGN_INT));
		MsExecute(
			MsPlan(
				&items_plan,
				"INSERT INTO multistore.order_items (order_id, store_id, line, product_id, name, unit_price, "
				"       quantity, discount, line_total, promotion_id, promotion_code) "
				"SELECT $1, $2, l.ord, l.product_id, l.name, l.price::numeric, l.quantity, "
				"       l.discount::numeric, l.price::numeric * l.quantity - l.discount::numeric, "
				"       l.promotion_id, l.promotion_code "
				"  FROM unnest($3, $4, $5, $6, $7, $8, $9) WITH ORDINALITY "
				"       AS l(product_id, name, price, quantity, discount, promotion_id, promotion_code, ord)",
				9, types),
			values, NULL, false, 0);
	}
	{
		Oid	  types[3] = {UUIDOID, TEXTOID, UUIDOID};
		Datum values[3] = {UUIDPGetDatum(&order_id), CStringGetTextDatum(store.id),
						   UUIDPGetDatum(&caller->user_id)};

		MsExecute(MsPlan(&history_plan,
						 "INSERT INTO multistore.order_status_history "
						 "       (order_id, store_id, seq, from_status, to_status, actor, actor_id) "
						 "VALUES ($1, $2, 1, NULL, 'pending_payment', 'customer', $3)",
						 3, types),
				  values, NULL, false, 0);
	}
	EventsEmit("order.created", store.id, &caller->user_id,
			   psprintf("{\"orderId\":\"%s\",\"storeId\":%s,\"status\":\"pending_payment\",\"total\":\"%s\","
						"\"currency\":\"%s\",\"deliveryType\":\"%s\"}",
						DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&order_id))),
						MsJsonQuote(store.id), priced.total, priced.currency, req->delivery_type));
	CartEmpty(cart);
	return order_id;
}

/*
 * ErrorBodyOf turns a caught multistore error into the body a client gets,
 * without requestId (the proxy adds it): {"error":{code,message,details}}.
 * DETAIL is ours, {"code":"..."} or {"code":"...",members}.
 */
static char *
ErrorBodyOf(ErrorData *e, int *status)
{
	const char	  *state = unpack_sql_state(e->sqlerrcode);
	const char	  *detail = e->detail ? e->detail : "{\"code\":\"internal\"}";
	const char	  *code_start = strstr(detail, "\"code\":\"");
	const char	  *code_end;
	const char	  *members = "";
	StringInfoData buf;

	*status = atoi(state + 2);
	code_start = code_start ? code_start + 8 : "internal\"}";
	code_end = strchr(code_start, '"');
	if (code_end[1] == ',')
		members = pnstrdup(code_end + 2, strlen(code_end + 2) - 1);
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"error\":{\"code\":\"%.*s\",\"message\":", (int) (code_end - code_start),
					 code_start);
	escape_json(&buf, e->message ? e->message : "");
	appendStringInfo(&buf, ",\"details\":{%s}}}", members);
	return buf.data;
}

/* Does a caught error come from the rules (M4nnn), as opposed to a failure? */
static bool
IsRefusal(ErrorData *e)
{
	const char *state = unpack_sql_state(e->sqlerrcode);

	return state[0] == 'M' && state[1] == '4';
}

/*
 * order_place(session_id, idempotency_key, order_request) places an order
 * from the caller's cart: {storeId, deliveryType, deliveryAddress?, notes?}
 * -> (status 201, {"order":{...}}, replayed false), or a stored refusal
 * (409 out_of_stock ...), or the first outcome again for a retry.
 */
PG_FUNCTION_INFO_V1(ms_order_place);
Datum
ms_order_place(PG_FUNCTION_ARGS)
{
	MsCaller		  caller;
	char			 *key;
	JsonbContainer	 *body;
	OrderRequest	  req;
	bytea			 *hash;
	IdempotentOutcome stored;
	MemoryContext	  context;
	ResourceOwner	  owner;
	volatile int	  status = 201;
	char *volatile answer = NULL;
	pg_uuid_t *volatile placed = NULL;
	Datum result;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	key = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	IdempotencyCheckKey(key);
	body = JrBody(fcinfo, 2);
	ReadOrderRequest(body, &req);
	hash = IdempotencyHash(JsonbToCString(NULL, body, VARSIZE(PG_GETARG_JSONB_P(2))));

	if (IdempotencyBegin(caller.user_id, key, hash, &stored))
	{
		result = MsDecidedRow(fcinfo, stored.status, stored.body, true);
		SPI_finish();
		return result;
	}

	/* the work, in a subtransaction: a refusal is stored and answered, not raised */
	context = CurrentMemoryContext;
	owner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		JsonWriter w;
		pg_uuid_t *id = palloc(sizeof(pg_uuid_t));

		*id = PlaceOrder(&caller, &req);
		JwInit(&w);
		JwObjectStart(&w, NULL);
		OrderWrite(&w, *id);
		JwObjectEnd(&w);
		answer = w.buf.data;
		placed = id;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData *e;

		MemoryContextSwitchTo(context);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		if (!IsRefusal(e))
			ReThrowError(e);
		{
			int refused;

			answer = ErrorBodyOf(e, &refused);
			status = refused;
		}
	}
	PG_END_TRY();

	IdempotencyRecord(caller.user_id, key, hash, status, answer, placed);
	result = MsDecidedRow(fcinfo, status, answer, false);
	SPI_finish();
	return result;
}

/* order_get(session_id, order_id): its owner, managers of its store, admins; others not_found */
PG_FUNCTION_INFO_V1(ms_order_get);
Datum
ms_order_get(PG_FUNCTION_ARGS)
{
	MsCaller   caller;
	Oid		   types[1] = {UUIDOID};
	Datum	   values[1];
	pg_uuid_t  owner;
	pg_uuid_t  id;
	bool	   isnull;
	char	  *store_id;
	JsonWriter w;
	Datum	   result;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	if (PG_ARGISNULL(1))
		MsInvalidArgument("orderId", "is required");
	values[0] = PG_GETARG_DATUM(1);
	id = *DatumGetUUIDP(values[0]);
	if (MsExecute(
			MsPlan(&owner_plan, "SELECT user_id, store_id FROM multistore.orders WHERE id = $1", 1, types),
			values, NULL, false, 1) == 0)
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"order\"", "order not found");
	owner = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	store_id = MsColumnText(0, 2);
	if (!OrderVisibleTo(&caller, owner, store_id))
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"order\"", "order not found");
	JwInit(&w);
	JwObjectStart(&w, NULL);
	OrderWrite(&w, id);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * A page cursor is "<created_at in microseconds since 2000>.<order id>" of
 * the last order shown; the next page starts below it.
 */
static void
ReadCursor(FunctionCallInfo fcinfo, int argno, Datum *at, Datum *id, bool *has)
{
	char	 *raw;
	char	 *dot;
	char	 *end;
	long long micros;

	*has = false;
	if (PG_ARGISNULL(argno))
		return;
	raw = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	dot = strchr(raw, '.');
	if (dot == NULL || strlen(dot + 1) != 36)
		MsInvalidArgument("cursor", "is not a cursor this API gave out");
	/* the id must be a UUID, or uuid_in would raise an error of its own */
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? dot[1 + i] != '-'
													  : !isxdigit((unsigned char) dot[1 + i]))
			MsInvalidArgument("cursor", "is not a cursor this API gave out");
	*dot = '\0';
	errno = 0;
	micros = strtoll(raw, &end, 10);
	/* out of range (ERANGE) or outside timestamptz's own range: not ours either */
	if (*end != '\0' || end == raw || errno == ERANGE || !IS_VALID_TIMESTAMP((TimestampTz) micros))
		MsInvalidArgument("cursor", "is not a cursor this API gave out");
	*at = TimestampTzGetDatum((TimestampTz) micros);
	*id = DirectFunctionCall1(uuid_in, CStringGetDatum(dot + 1));
	*has = true;
}

static int32
PageSize(FunctionCallInfo fcinfo, int argno)
{
	int32 n = PG_ARGISNULL(argno) ? ORDERS_PAGE_DEFAULT : PG_GETARG_INT32(argno);

	if (n < 1 || n > ORDERS_PAGE_MAX)
		MsInvalidArgument("limit", "must be between 1 and %d", ORDERS_PAGE_MAX);
	return n;
}

/* Writes {"orders":[summaries],"nextCursor":...} from the rows of a list query */
static Datum
ListAnswer(uint64 n, int32 limit)
{
	JsonWriter w;
	Datum	   result;
	bool	   isnull;

	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwArrayStart(&w, "orders");
	for (uint64 i = 0; i < n && i < (uint64) limit; i++)
	{
		JwObjectStart(&w, NULL);
		JwString(&w, "id", MsColumnText(i, 1));
		JwString(&w, "storeId", MsColumnText(i, 2));
		JwString(&w, "status", MsColumnText(i, 3));
		JwString(&w, "deliveryType", MsColumnText(i, 4));
		JwString(&w, "total", MsColumnText(i, 5));
		JwString(&w, "currency", MsColumnText(i, 6));
		JwInt(&w, "itemCount",
			  DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 7, &isnull)));
		JwTimestamp(
			&w, "createdAt",
			DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 8, &isnull)));
		JwObjectEnd(&w);
	}
	JwArrayEnd(&w);
	if (n > (uint64) limit)
	{
		uint64 last = (uint64) limit - 1;

		JwString(&w, "nextCursor",
				 psprintf(INT64_FORMAT ".%s",
						  (int64) DatumGetTimestampTz(
							  SPI_getbinval(SPI_tuptable->vals[last], SPI_tuptable->tupdesc, 8, &isnull)),
						  MsColumnText(last, 1)));
	}
	else
		JwNull(&w, "nextCursor");
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	return result;
}

#define LIST_COLUMNS                                                                                         \
	"SELECT o.id::text, o.store_id, o.status, o.delivery_type, o.total::text, o.currency, "                  \
	"       (SELECT coalesce(sum(quantity), 0) FROM multistore.order_items i WHERE i.order_id = "            \
	"o.id)::int8, "                                                                                          \
	"       o.created_at "

/* orders_list(session_id, cursor, max_results): the caller's orders, newest first */
PG_FUNCTION_INFO_V1(ms_orders_list);
Datum
ms_orders_list(PG_FUNCTION_ARGS)
{
	MsCaller caller;
	Oid		 types[5] = {UUIDOID, BOOLOID, TIMESTAMPTZOID, UUIDOID, INT4OID};
	Datum	 values[5];
	char	 nulls[5] = "     ";
	bool	 has;
	int32	 limit;
	uint64	 n;
	Datum	 result;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	ReadCursor(fcinfo, 1, &values[2], &values[3], &has);
	limit = PageSize(fcinfo, 2);
	values[0] = UUIDPGetDatum(&caller.user_id);
	values[1] = BoolGetDatum(has);
	if (!has)
		nulls[2] = nulls[3] = 'n';
	values[4] = Int32GetDatum(limit + 1);
	n = MsExecute(MsPlan(&mine_plan,
						 LIST_COLUMNS "  FROM multistore.orders o WHERE o.user_id = $1 "
									  "   AND (NOT $2 OR (o.created_at, o.id) < ($3, $4)) "
									  " ORDER BY o.created_at DESC, o.id DESC LIMIT $5",
						 5, types),
				  values, nulls, false, 0);
	result = ListAnswer(n, limit);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * store_orders(session_id, store_id, status, cursor, max_results): a
 * store's orders, newest first, for its managers and admins.
 */
PG_FUNCTION_INFO_V1(ms_store_orders);
Datum
ms_store_orders(PG_FUNCTION_ARGS)
{
	static const char *const statuses[] = {"pending_payment",  "confirmed", "preparing", "ready_for_pickup",
										   "out_for_delivery", "completed", "delivered", "cancelled",
										   "expired",		   NULL};
	MsCaller				 caller;
	char					*store_id;
	Oid						 types[6] = {TEXTOID, TEXTOID, BOOLOID, TIMESTAMPTZOID, UUIDOID, INT4OID};
	Datum					 values[6];
	char					 nulls[6] = "      ";
	bool					 has;
	int32					 limit;
	uint64					 n;
	Datum					 result;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	if (PG_ARGISNULL(1))
		MsInvalidArgument("storeId", "is required");
	store_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	{
		StoreRow row;

		if (!StoreLoad(store_id, STORE_READ_OWN_WRITES, &row))
			StoreNotFound(store_id);
	}
	AccountsRequireManagerOf(&caller, store_id);
	if (!PG_ARGISNULL(2))
	{
		char *status = text_to_cstring(PG_GETARG_TEXT_PP(2));
		bool  known = false;

		for (const char *const *s = statuses; *s; s++)
			known |= strcmp(*s, status) == 0;
		if (!known)
			MsInvalidArgument("status", "is not an order status");
		values[1] = PG_GETARG_DATUM(2);
	}
	else
		nulls[1] = 'n';
	ReadCursor(fcinfo, 3, &values[3], &values[4], &has);
	limit = PageSize(fcinfo, 4);
	values[0] = CStringGetTextDatum(store_id);
	values[2] = BoolGetDatum(has);
	if (!has)
		nulls[3] = nulls[4] = 'n';
	values[5] = Int32GetDatum(limit + 1);
	n = MsExecute(MsPlan(&store_list_plan,
						 LIST_COLUMNS "  FROM multistore.orders o WHERE o.store_id = $1 "
									  "   AND ($2::text IS NULL OR o.status = $2) "
									  "   AND (NOT $3 OR (o.created_at, o.id) < ($4, $5)) "
									  " ORDER BY o.created_at DESC, o.id DESC LIMIT $6",
						 6, types),
				  values, nulls, false, 0);
	result = ListAnswer(n, limit);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
