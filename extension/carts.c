/*-------------------------------------------------------------------------
 *
 * carts.c
 *	  cart_get, cart_add_item, cart_set_item, cart_remove_item, cart_clear.
 *
 * Every call locks the caller's cart row first, so two requests of one user
 * change the cart one after the other.  Only published products with a
 * price go in; the cart takes the currency of its first line.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "accounts.h"
#include "carts.h"
#include "errors.h"
#include "jsonb_read.h"
#include "multistore.h"
#include "pricing.h"
#include "stores.h"

static SPIPlanPtr of_plan = NULL;
static SPIPlanPtr read_plan = NULL;
static SPIPlanPtr product_plan = NULL;
static SPIPlanPtr add_plan = NULL;
static SPIPlanPtr set_plan = NULL;
static SPIPlanPtr remove_plan = NULL;
static SPIPlanPtr empty_plan = NULL;
static SPIPlanPtr touch_plan = NULL;
static SPIPlanPtr store_plan = NULL;

pg_uuid_t
CartOf(pg_uuid_t user_id)
{
	Oid		  types[1] = {UUIDOID};
	Datum	  values[1] = {UUIDPGetDatum(&user_id)};
	bool	  isnull;
	pg_uuid_t id;

	/* the upsert takes the row lock: one user's cart calls go one at a time */
	MsExecute(MsPlan(&of_plan,
					 "INSERT INTO multistore.carts (user_id) VALUES ($1) "
					 "ON CONFLICT (user_id) DO UPDATE SET updated_at = multistore.carts.updated_at "
					 "RETURNING id",
					 1, types),
			  values, NULL, false, 1);
	id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return id;
}

void
CartWrite(JsonWriter *w, pg_uuid_t cart_id)
{
	Oid			types[1] = {UUIDOID};
	Datum		values[1] = {UUIDPGetDatum(&cart_id)};
	char	   *store_id;
	TimestampTz updated;
	bool		isnull;
	PricedCart	priced;

	MsExecute(MsPlan(&read_plan, "SELECT store_id, updated_at FROM multistore.carts WHERE id = $1", 1, types),
			  values, NULL, false, 1);
	store_id = MsColumnText(0, 1);
	updated = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	PricingCart(values[0], NULL, &priced);

	JwObjectStart(w, "cart");
	JwString(w, "id", DatumGetCString(DirectFunctionCall1(uuid_out, values[0])));
	JwStringOrNull(w, "storeId", store_id);
	PricingWrite(w, &priced);
	JwTimestamp(w, "updatedAt", updated);
	JwObjectEnd(w);
}

void
CartEmpty(pg_uuid_t cart_id)
{
	Oid	  types[1] = {UUIDOID};
	Datum values[1] = {UUIDPGetDatum(&cart_id)};

	MsExecute(MsPlan(&empty_plan,
					 "WITH gone AS (DELETE FROM multistore.cart_items WHERE cart_id = $1) "
					 "UPDATE multistore.carts SET currency = NULL, updated_at = now() WHERE id = $1",
					 1, types),
			  values, NULL, false, 0);
}

/* Answers {"cart":{...}} and leaves SPI */
static Datum
Answer(pg_uuid_t cart_id)
{
	JsonWriter w;
	Datum	   result;

	JwInit(&w);
	JwObjectStart(&w, NULL);
	CartWrite(&w, cart_id);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	return result;
}

static void
Touch(pg_uuid_t cart_id)
{
	Oid	  types[1] = {UUIDOID};
	Datum values[1] = {UUIDPGetDatum(&cart_id)};

	MsExecute(MsPlan(&touch_plan,
					 "UPDATE multistore.carts c SET updated_at = now(), "
					 "       currency = CASE WHEN EXISTS (SELECT 1 FROM multistore.cart_items i WHERE "
					 "i.cart_id = c.id) "
					 "                       THEN c.currency END "
					 " WHERE id = $1",
					 1, types),
			  values, NULL, false, 0);
}

/* cart_get(session_id) -> {"cart":{...}} */
PG_FUNCTION_INFO_V1(ms_cart_get);
Datum
ms_cart_get(PG_FUNCTION_ARGS)
{
	MsCaller caller;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	PG_RETURN_DATUM(Answer(CartOf(caller.user_id)));
}

/* Reads a quantity field: a whole number from min to CARTS_MAX_QUANTITY */
static int32
ReadQuantity(MsValidation *v, JsonbContainer *body, int32 min)
{
	double q = 0;

	if (JrNumber(v, body, "quantity", "quantity", true, &q) &&
		(q != (int32) q || q < min || q > CARTS_MAX_QUANTITY))
		MsValidationAdd(v, "quantity", "must be a whole number from %d to %d", min, CARTS_MAX_QUANTITY);
	return (int32) q;
}

/*
 * cart_add_item(session_id, item) adds {productId, quantity, storeId?} to
 * the caller's cart; a product already there gets the quantities added.
 * Returns {"cart":{...}}.
 */
PG_FUNCTION_INFO_V1(ms_cart_add_item);
Datum
ms_cart_add_item(PG_FUNCTION_ARGS)
{
	static const char *const allowed[] = {"productId", "quantity", "storeId", NULL};
	MsCaller				 caller;
	JsonbContainer			*body;
	MsValidation			 v;
	char					*product_id = NULL;
	char					*store_id = NULL;
	int32					 quantity;
	pg_uuid_t				 cart;
	Oid						 types[3] = {UUIDOID, TEXTOID, INT4OID};
	Datum					 values[3];
	bool					 isnull;
	bool					 published, priced, same_currency, in_cart;
	int64					 lines;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	body = JrBody(fcinfo, 1);
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	if (JrText(&v, body, "productId", "productId", true, MS_ID_MAX_LENGTH, &product_id) &&
		!MsIdIsValid(product_id))
		MsValidationAdd(&v, "productId", "must be a product id");
	if (JrText(&v, body, "storeId", "storeId", false, MS_ID_MAX_LENGTH, &store_id) && !MsIdIsValid(store_id))
		MsValidationAdd(&v, "storeId", "must be a store id");
	quantity = ReadQuantity(&v, body, 1);
	MsValidationCheck(&v);

	cart = CartOf(caller.user_id);
	values[0] = UUIDPGetDatum(&cart);
	values[1] = CStringGetTextDatum(product_id);
	if (MsExecute(MsPlan(&product_plan,
						 "SELECT p.published, p.price IS NOT NULL, "
						 "       c.currency IS NULL OR c.currency = p.currency, "
						 "       EXISTS (SELECT 1 FROM multistore.cart_items i "
						 "                WHERE i.cart_id = $1 AND i.product_id = $2), "
						 "       (SELECT count(*) FROM multistore.cart_items i WHERE i.cart_id = $1) "
						 "  FROM multistore.products p, multistore.carts c WHERE p.id = $2 AND c.id = $1",
						 2, types),
				  values, NULL, false, 1) == 0)
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"product\"",
					  "product \"%s\" not found", product_id);
	published = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	priced = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	same_currency = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	in_cart = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	lines = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull));
	if (!published || !priced)
		MsErrorDetail(ERRCODE_MS_CONFLICT, "product_unavailable",
					  psprintf("\"productIds\":[%s]", MsJsonQuote(product_id)),
					  "product \"%s\" is not for sale", product_id);
	if (!same_currency)
		MsInvalidArgument("productId", "is priced in another currency than the cart's");
	/* the cart row is locked (CartOf): the count cannot change under us */
	if (!in_cart && lines >= CARTS_MAX_LINES)
		MsInvalidArgument("productId", "would be line %d of a cart that holds at most %d", (int) lines + 1,
						  CARTS_MAX_LINES);
	if (store_id)
	{
		Oid	  store_types[2] = {UUIDOID, TEXTOID};
		Datum store_values[2] = {UUIDPGetDatum(&cart), CStringGetTextDatum(store_id)};

		if (MsExecute(MsPlan(&store_plan,
							 "UPDATE multistore.carts SET store_id = s.id FROM multistore.stores s "
							 " WHERE carts.id = $1 AND s.id = $2",
							 2, store_types),
					  store_values, NULL, false, 0) == 0)
			StoreNotFound(store_id);
	}

	values[2] = Int32GetDatum(quantity);
	/*
	 * The sum may not pass the line limit; nothing is silently capped.
	 * added_at is the clock, not the transaction's start, so lines added in
	 * one transaction keep the order they were added in.
	 */
	if (MsExecute(
			MsPlan(&add_plan,
				   "WITH line AS ( "
				   "  INSERT INTO multistore.cart_items (cart_id, product_id, quantity, added_at) "
				   "  VALUES ($1, $2, $3, clock_timestamp()) "
				   "  ON CONFLICT (cart_id, product_id) DO UPDATE "
				   "     SET quantity = multistore.cart_items.quantity + excluded.quantity "
				   "   WHERE multistore.cart_items.quantity + excluded.quantity <= " CppAsString2(
					   CARTS_MAX_QUANTITY) " "
										   "  RETURNING 1) "
										   "UPDATE multistore.carts c SET currency = p.currency, updated_at "
										   "= now() "
										   "  FROM multistore.products p, line WHERE c.id = $1 AND p.id = $2 "
										   "RETURNING 1",
				   3, types),
			values, NULL, false, 0) == 0)
		MsInvalidArgument("quantity", "would make the line more than %d", CARTS_MAX_QUANTITY);
	PG_RETURN_DATUM(Answer(cart));
}

/* The caller's line: not_found when the item is not in their cart */
static Datum
ItemArgument(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		MsInvalidArgument("itemId", "is required");
	return PG_GETARG_DATUM(argno);
}

static void
ItemNotFound(void)
{
	MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"cart_item\"",
				  "no such item in your cart");
}

/* cart_set_item(session_id, item_id, {quantity}): 0 removes the line */
PG_FUNCTION_INFO_V1(ms_cart_set_item);
Datum
ms_cart_set_item(PG_FUNCTION_ARGS)
{
	static const char *const allowed[] = {"quantity", NULL};
	MsCaller				 caller;
	JsonbContainer			*body;
	MsValidation			 v;
	int32					 quantity;
	pg_uuid_t				 cart;
	Oid						 types[3] = {UUIDOID, UUIDOID, INT4OID};
	Datum					 values[3];

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	values[1] = ItemArgument(fcinfo, 1);
	body = JrBody(fcinfo, 2);
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	quantity = ReadQuantity(&v, body, 0);
	MsValidationCheck(&v);

	cart = CartOf(caller.user_id);
	values[0] = UUIDPGetDatum(&cart);
	values[2] = Int32GetDatum(quantity);
	if (MsExecute(MsPlan(&set_plan,
						 "WITH changed AS (UPDATE multistore.cart_items SET quantity = $3 "
						 "                  WHERE id = $2 AND cart_id = $1 AND $3 > 0 RETURNING 1), "
						 "     removed AS (DELETE FROM multistore.cart_items "
						 "                  WHERE id = $2 AND cart_id = $1 AND $3 = 0 RETURNING 1) "
						 "SELECT 1 FROM changed UNION ALL SELECT 1 FROM removed",
						 3, types),
				  values, NULL, false, 0) == 0)
		ItemNotFound();
	Touch(cart);
	PG_RETURN_DATUM(Answer(cart));
}

/* cart_remove_item(session_id, item_id) */
PG_FUNCTION_INFO_V1(ms_cart_remove_item);
Datum
ms_cart_remove_item(PG_FUNCTION_ARGS)
{
	MsCaller  caller;
	pg_uuid_t cart;
	Oid		  types[2] = {UUIDOID, UUIDOID};
	Datum	  values[2];

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	values[1] = ItemArgument(fcinfo, 1);
	cart = CartOf(caller.user_id);
	values[0] = UUIDPGetDatum(&cart);
	if (MsExecute(MsPlan(&remove_plan,
						 "DELETE FROM multistore.cart_items WHERE id = $2 AND cart_id = $1 RETURNING 1", 2,
						 types),
				  values, NULL, false, 0) == 0)
		ItemNotFound();
	Touch(cart);
	PG_RETURN_DATUM(Answer(cart));
}

/* cart_clear(session_id) -> the empty cart */
PG_FUNCTION_INFO_V1(ms_cart_clear);
Datum
ms_cart_clear(PG_FUNCTION_ARGS)
{
	MsCaller  caller;
	pg_uuid_t cart;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	cart = CartOf(caller.user_id);
	CartEmpty(cart);
	PG_RETURN_DATUM(Answer(cart));
}
