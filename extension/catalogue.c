/*-------------------------------------------------------------------------
 *
 * catalogue.c
 *	  The catalogue a storefront reads: published products with their
 *	  effective price (the best promotion, through the pricing rule the cart
 *	  uses) and, at a store, the stock available there.
 *
 * Pages are in product id order; the cursor is the last id of a page.  The
 * q search matches a substring of the name or the SKU, case-insensitively,
 * through the trigram index products_search_idx.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "errors.h"
#include "inventory.h"
#include "json_build.h"
#include "multistore.h"
#include "pricing.h"
#include "stores.h"

#define CATALOGUE_PAGE_DEFAULT 20
#define CATALOGUE_PAGE_MAX	   100
#define CATALOGUE_Q_MAX		   100

/* $1 store (or NULL), then the filters of each caller */
#define CATALOGUE_COLUMNS                                                                                    \
	"SELECT p.id, p.sku, p.name, p.description, p.price::text, p.currency, p.image_url, "                    \
	"       coalesce(promo.unit_discount, 0)::numeric(12, 2)::text, "                                        \
	"       (p.price - coalesce(promo.unit_discount, 0))::numeric(12, 2)::text, "                            \
	"       promo.promotion_id, promo.promotion_code, "                                                      \
	"       CASE WHEN $1::text IS NOT NULL THEN (SELECT l.available FROM " INVENTORY_LEVEL_SQL(              \
		"$1", "p.id") " l) END "                                                                             \
					  "  FROM multistore.products p " PRICING_PROMOTION_JOIN("p.id", "p.price",              \
																			 "p.currency", "$1::text")

/* Writes one product from row i of a catalogue query */
static void
WriteProduct(JsonWriter *w, const char *key, uint64 i, bool at_store)
{
	bool isnull;

	JwObjectStart(w, key);
	JwString(w, "id", MsColumnText(i, 1));
	JwString(w, "sku", MsColumnText(i, 2));
	JwString(w, "name", MsColumnText(i, 3));
	JwString(w, "description", MsColumnText(i, 4));
	JwString(w, "price", MsColumnText(i, 5));
	JwString(w, "currency", MsColumnText(i, 6));
	JwStringOrNull(w, "imageUrl", MsColumnText(i, 7));
	JwString(w, "discount", MsColumnText(i, 8));
	JwString(w, "effectivePrice", MsColumnText(i, 9));
	PricingWritePromotion(w, MsColumnText(i, 10), MsColumnText(i, 11));
	if (at_store)
		JwInt(w, "available",
			  DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 12, &isnull)));
	JwObjectEnd(w);
}

/* The storeId argument: NULL, or a store that exists */
static char *
StoreArgument(FunctionCallInfo fcinfo, int argno)
{
	StoreRow store;
	char	*id;

	if (PG_ARGISNULL(argno))
		return NULL;
	id = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!MsIdIsValid(id))
		MsInvalidArgument("storeId", "must be 1 to %d characters from A-Z, a-z, 0-9 and _.:-",
						  MS_ID_MAX_LENGTH);
	if (!StoreLoad(id, STORE_READ, &store))
		StoreNotFound(id);
	return id;
}

/* q as a LIKE pattern matching it anywhere, its wildcards escaped */
static char *
SearchPattern(const char *q)
{
	StringInfoData buf;
	int			   chars = pg_mbstrlen(q);

	if (chars == 0 || chars > CATALOGUE_Q_MAX)
		MsInvalidArgument("q", "must be 1 to %d characters", CATALOGUE_Q_MAX);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '%');
	for (const char *p = q; *p; p++)
	{
		if (*p == '%' || *p == '_' || *p == '\\')
			appendStringInfoChar(&buf, '\\');
		appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '%');
	return buf.data;
}

/*
 * products_list(store_id, ids, q, cursor, max_results):
 * {"products":[...],"nextCursor":id|null}
 */
PG_FUNCTION_INFO_V1(ms_products_list);
Datum
ms_products_list(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr list_plan = NULL;
	static SPIPlanPtr search_plan = NULL;
	Oid				  types[5] = {TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID, INT4OID};
	Datum			  values[5];
	char			  nulls[5] = "     ";
	char			 *store_id;
	int32			  limit;
	uint64			  n;
	JsonWriter		  w;
	Datum			  result;

	SPI_connect();
	store_id = StoreArgument(fcinfo, 0);
	limit = PG_ARGISNULL(4) ? CATALOGUE_PAGE_DEFAULT : PG_GETARG_INT32(4);
	if (limit < 1 || limit > CATALOGUE_PAGE_MAX)
		MsInvalidArgument("limit", "must be between 1 and %d", CATALOGUE_PAGE_MAX);
	if (store_id)
		values[0] = CStringGetTextDatum(store_id);
	else
		nulls[0] = 'n';
	if (PG_ARGISNULL(1))
		nulls[1] = 'n';
	else
		values[1] = PointerGetDatum(StoresProductIdList(PG_GETARG_ARRAYTYPE_P(1), "ids"));
	if (PG_ARGISNULL(2))
		nulls[2] = 'n';
	else
		values[2] = CStringGetTextDatum(SearchPattern(text_to_cstring(PG_GETARG_TEXT_PP(2))));
	if (PG_ARGISNULL(3))
		nulls[3] = 'n';
	else
	{
		char *cursor = text_to_cstring(PG_GETARG_TEXT_PP(3));

		if (!MsIdIsValid(cursor))
			MsInvalidArgument("cursor", "is not a cursor this API gave out");
		values[3] = CStringGetTextDatum(cursor);
	}
	values[4] = Int32GetDatum(limit + 1);
	/*
	 * Two statements, so that the search's plan is the trigram index's even
	 * when it is the generic one (an "IS NULL OR" would hide the index)
	 */
	if (nulls[2] == 'n')
		n = MsExecute(MsPlan(&list_plan,
							 CATALOGUE_COLUMNS
							 " WHERE p.published "
							 "   AND ($2::text[] IS NULL OR p.id = ANY ($2)) AND $3::text IS NULL "
							 "   AND ($4::text IS NULL OR p.id > $4) "
							 " ORDER BY p.id LIMIT $5",
							 5, types),
					  values, nulls, true, 0);
	else
		n = MsExecute(MsPlan(&search_plan,
							 CATALOGUE_COLUMNS " WHERE (p.name || ' ' || p.sku) ILIKE $3 AND p.published "
											   "   AND ($2::text[] IS NULL OR p.id = ANY ($2)) "
											   "   AND ($4::text IS NULL OR p.id > $4) "
											   " ORDER BY p.id LIMIT $5",
							 5, types),
					  values, nulls, true, 0);

	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwArrayStart(&w, "products");
	for (uint64 i = 0; i < n && i < (uint64) limit; i++)
		WriteProduct(&w, NULL, i, store_id != NULL);
	JwArrayEnd(&w);
	if (n > (uint64) limit)
		JwString(&w, "nextCursor", MsColumnText(limit - 1, 1));
	else
		JwNull(&w, "nextCursor");
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* product_get(product_id, store_id): {"product":{...}}; 404 unless published */
PG_FUNCTION_INFO_V1(ms_product_get);
Datum
ms_product_get(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr get_plan = NULL;
	Oid				  types[2] = {TEXTOID, TEXTOID};
	Datum			  values[2];
	char			  nulls[2] = "  ";
	char			 *product_id;
	char			 *store_id;
	JsonWriter		  w;
	Datum			  result;

	SPI_connect();
	if (PG_ARGISNULL(0))
		MsInvalidArgument("productId", "is required");
	product_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	store_id = StoreArgument(fcinfo, 1);
	if (store_id)
		values[0] = CStringGetTextDatum(store_id);
	else
		nulls[0] = 'n';
	values[1] = CStringGetTextDatum(product_id);
	if (MsExecute(MsPlan(&get_plan, CATALOGUE_COLUMNS " WHERE p.id = $2 AND p.published", 2, types), values,
				  nulls, true, 1) == 0)
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"product\"",
					  "product \"%s\" not found", product_id);
	JwInit(&w);
	JwObjectStart(&w, NULL);
	WriteProduct(&w, "product", 0, store_id != NULL);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
