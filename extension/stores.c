/*-------------------------------------------------------------------------
 *
 * stores.c
 *	  Reading stores: the nearby search, one store, and a store's
 *	  availability at a given time.
 *
 * The nearby search is a KNN scan of the GiST index on stores.location
 * (ORDER BY location <-> point), cut off by ST_DWithin, so it reads about as
 * many index entries as it returns, whatever the number of stores.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "inventory.h"
#include "json_build.h"
#include "multistore.h"
#include "stores.h"

double multistore_nearby_max_radius_km = STORES_MAX_RADIUS_KM;
int	   multistore_nearby_max_results = STORES_MAX_RESULTS;

/*
 * The nearby query: a KNN scan of the GiST index on location, nearest first
 * by the sphere, bounded by the radius (ST_DWithin, on the spheroid, the
 * same figure as the distances a client can check against ST_Distance).
 * ms_stores_nearby reads it through a cursor and fetches only max_results
 * rows, so the scan stops there.  The LIMIT is a constant (the largest
 * max_results allowed) so that the generic plan stays this index scan:
 * LIMIT $n makes the planner expect a tenth of the table and sort it.
 */
#define NEARBY_SQL                                                                                           \
	"SELECT s.id, s.name, s.address, ST_Y(s.location::geometry), ST_X(s.location::geometry), "               \
	"       ST_Distance(s.location, q.p), s.time_zone, s.opening_hours, s.hours_exceptions, "                \
	"       s.accepting_orders "                                                                             \
	"  FROM multistore.stores s, "                                                                           \
	"       (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography AS p) q "                              \
	" WHERE ST_DWithin(s.location, q.p, $3 * 1000.0) "                                                       \
	" ORDER BY s.location <-> q.p "                                                                          \
	" LIMIT " CppAsString2(STORES_RESULTS_CEILING)

/*
 * The nearby query with a basket: only stores where every product is
 * available now in the quantity asked.  The check is a filter on the same
 * index scan, which keeps walking outwards until enough stores pass.
 */
#define NEARBY_BASKET_SQL                                                                                    \
	"SELECT s.id, s.name, s.address, ST_Y(s.location::geometry), ST_X(s.location::geometry), "               \
	"       ST_Distance(s.location, q.p), s.time_zone, s.opening_hours, s.hours_exceptions, "                \
	"       s.accepting_orders "                                                                             \
	"  FROM multistore.stores s, "                                                                           \
	"       (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography AS p) q "                              \
	" WHERE ST_DWithin(s.location, q.p, $3 * 1000.0) "                                                       \
	"   AND NOT EXISTS (SELECT 1 FROM unnest($4::text[], $5::int4[]) AS b(product_id, quantity) "            \
	"                    CROSS JOIN LATERAL " INVENTORY_LEVEL_SQL(                                           \
		"s.id", "b.product_id") " l "                                                                        \
								"                   WHERE l.available < b.quantity) "                        \
								" ORDER BY s.location <-> q.p "                                              \
								" LIMIT " CppAsString2(STORES_RESULTS_CEILING)

#define STORE_SQL                                                                                            \
	"SELECT id, name, address, phone, ST_Y(location::geometry), ST_X(location::geometry), "                  \
	"       time_zone, opening_hours, hours_exceptions, delivery_radius_km::float8, "                        \
	"       accepting_orders, created_at, updated_at "                                                       \
	"  FROM multistore.stores WHERE id = $1"

static SPIPlanPtr nearby_plan = NULL;
static SPIPlanPtr nearby_basket_plan = NULL;
static SPIPlanPtr basket_unknown_plan = NULL;
static SPIPlanPtr store_plan = NULL;
static SPIPlanPtr store_for_update_plan = NULL;
static SPIPlanPtr availability_plan = NULL;

void
StoresInit(void)
{
	DefineCustomRealVariable(
		"multistore.nearby_max_radius_km", "Sets the largest radius a nearby-stores search may ask for.",
		"In kilometres, from 1 to 20000; searches beyond it are refused with validation_failed.",
		&multistore_nearby_max_radius_km, STORES_MAX_RADIUS_KM, 1.0, 20000.0, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"multistore.nearby_max_results", "Sets the most stores a nearby-stores search may return.",
		"From 1 to 1000; a larger limit is refused with validation_failed.", &multistore_nearby_max_results,
		STORES_MAX_RESULTS, 1, STORES_RESULTS_CEILING, PGC_SUSET, 0, NULL, NULL, NULL);
}

void
StoreNotFound(const char *store_id)
{
	MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"store\"", "store \"%s\" not found",
				  store_id);
	pg_unreachable();
}

/* Reads the store hours of a row's jsonb columns; they were validated on write */
static void
LoadHours(HeapTuple tuple, TupleDesc desc, int weekly_col, int exceptions_col, StoreHours *hours)
{
	bool		 isnull;
	Datum		 weekly = SPI_getbinval(tuple, desc, weekly_col, &isnull);
	Datum		 exceptions = SPI_getbinval(tuple, desc, exceptions_col, &isnull);
	MsValidation v;

	MsValidationInit(&v);
	HoursParse(&DatumGetJsonbP(weekly)->root, &DatumGetJsonbP(exceptions)->root, hours, &v);
	if (v.count > 0)
		elog(ERROR, "stored opening hours are invalid: %s", v.first);
}

static pg_tz *
LoadTimeZone(const char *name)
{
	pg_tz *tz = HoursTimeZone(name);

	if (tz == NULL)
		elog(ERROR, "stored time zone \"%s\" is unknown", name);
	return tz;
}

bool
StoreLoad(const char *store_id, StoreLoadMode mode, StoreRow *row)
{
	Oid		   types[1] = {TEXTOID};
	Datum	   values[1];
	SPIPlanPtr plan;
	HeapTuple  tuple;
	TupleDesc  desc;
	bool	   isnull;

	if (!MsIdIsValid(store_id))
		return false;
	plan = mode == STORE_FOR_UPDATE ? MsPlan(&store_for_update_plan, STORE_SQL " FOR UPDATE", 1, types)
									: MsPlan(&store_plan, STORE_SQL, 1, types);
	values[0] = CStringGetTextDatum(store_id);
	/* a read-only execution keeps the caller's snapshot, which misses our own writes */
	if (MsExecute(plan, values, NULL, mode == STORE_READ, 1) == 0)
		return false;

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row->id = MsColumnText(0, 1);
	row->name = MsColumnText(0, 2);
	row->address = MsColumnText(0, 3);
	row->phone = MsColumnText(0, 4);
	row->latitude = DatumGetFloat8(SPI_getbinval(tuple, desc, 5, &isnull));
	row->longitude = DatumGetFloat8(SPI_getbinval(tuple, desc, 6, &isnull));
	row->time_zone = MsColumnText(0, 7);
	row->tz = LoadTimeZone(row->time_zone);
	LoadHours(tuple, desc, 8, 9, &row->hours);
	row->delivery_radius_km = DatumGetFloat8(SPI_getbinval(tuple, desc, 10, &isnull));
	row->accepting_orders = DatumGetBool(SPI_getbinval(tuple, desc, 11, &isnull));
	row->created_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 12, &isnull));
	row->updated_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 13, &isnull));
	return true;
}

static void
WriteLocation(JsonWriter *w, double latitude, double longitude)
{
	JwObjectStart(w, "location");
	JwFloat(w, "latitude", latitude);
	JwFloat(w, "longitude", longitude);
	JwObjectEnd(w);
}

void
StoreWrite(JsonWriter *w, const StoreRow *row, TimestampTz now)
{
	TimestampTz opens_at;

	JwString(w, "id", row->id);
	JwString(w, "name", row->name);
	JwString(w, "address", row->address);
	JwStringOrNull(w, "phone", row->phone);
	WriteLocation(w, row->latitude, row->longitude);
	JwString(w, "timeZone", row->time_zone);
	HoursWrite(w, &row->hours);
	JwFloat(w, "deliveryRadiusKm", row->delivery_radius_km);
	JwBool(w, "acceptingOrders", row->accepting_orders);
	JwBool(w, "isOpen", HoursIsOpen(&row->hours, row->tz, now));
	if (HoursNextOpening(&row->hours, row->tz, now, &opens_at))
		JwTimestamp(w, "nextOpensAt", opens_at);
	else
		JwNull(w, "nextOpensAt");
	JwTimestamp(w, "createdAt", row->created_at);
	JwTimestamp(w, "updatedAt", row->updated_at);
}

/* A basket for the nearby search: products and quantities, as two arrays */
typedef struct Basket
{
	int	  n;
	Datum products;	  /* text[] */
	Datum quantities; /* int4[] */
} Basket;

/*
 * ReadBasket parses "prod_1:2" / "prod_7" items (quantity 1), summing a
 * product named twice; problems go into v under "productIds".
 */
static void
ReadBasket(ArrayType *items, Basket *basket, MsValidation *v)
{
	Datum *elems;
	bool  *nulls;
	int	   n;
	Datum *products;
	Datum *quantities;
	char **ids;
	int	   kept = 0;

	deconstruct_array(items, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	basket->n = 0;
	if (n > STORES_MAX_BASKET)
	{
		MsValidationAdd(v, "productIds", "may name at most %d products", STORES_MAX_BASKET);
		return;
	}
	products = palloc(sizeof(Datum) * Max(n, 1));
	quantities = palloc(sizeof(Datum) * Max(n, 1));
	ids = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		char *item = nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]);
		char *colon = strchr(item, ':');
		long  qty = 1;
		int	  k;

		if (colon)
		{
			char *end;

			*colon = '\0';
			qty = strtol(colon + 1, &end, 10);
			if (*end != '\0' || end == colon + 1 || qty < 1 || qty > 999)
			{
				MsValidationAdd(v, "productIds",
								"quantities must be whole numbers from 1 to 999 (\"prod_1:2\")");
				return;
			}
		}
		if (!MsIdIsValid(item))
		{
			MsValidationAdd(v, "productIds",
							"must be product ids, each optionally with a quantity (\"prod_1:2,prod_7\")");
			return;
		}
		for (k = 0; k < kept && strcmp(ids[k], item) != 0; k++)
			;
		if (k < kept)
			quantities[k] = Int32GetDatum(DatumGetInt32(quantities[k]) + (int32) qty);
		else
		{
			ids[kept] = item;
			products[kept] = CStringGetTextDatum(item);
			quantities[kept++] = Int32GetDatum((int32) qty);
		}
	}
	basket->n = kept;
	basket->products = PointerGetDatum(construct_array(products, kept, TEXTOID, -1, false, TYPALIGN_INT));
	basket->quantities = PointerGetDatum(construct_array(quantities, kept, INT4OID, 4, true, TYPALIGN_INT));
}

/* Reads the nearby arguments, applying defaults for NULLs, and validates them */
static void
NearbyArguments(FunctionCallInfo fcinfo, double *latitude, double *longitude, double *radius_km,
				int32 *max_results, Basket *basket)
{
	MsValidation v;

	MsValidationInit(&v);
	if (PG_ARGISNULL(0))
		MsValidationAdd(&v, "latitude", "is required");
	else
	{
		*latitude = PG_GETARG_FLOAT8(0);
		if (!(*latitude >= -90.0 && *latitude <= 90.0))
			MsValidationAdd(&v, "latitude", "must be between -90 and 90");
	}
	if (PG_ARGISNULL(1))
		MsValidationAdd(&v, "longitude", "is required");
	else
	{
		*longitude = PG_GETARG_FLOAT8(1);
		if (!(*longitude >= -180.0 && *longitude <= 180.0))
			MsValidationAdd(&v, "longitude", "must be between -180 and 180");
	}
	*radius_km = PG_ARGISNULL(2) ? STORES_DEFAULT_RADIUS_KM : PG_GETARG_FLOAT8(2);
	if (!(*radius_km > 0.0 && *radius_km <= multistore_nearby_max_radius_km))
		MsValidationAdd(&v, "radius", "must be greater than 0 and at most %g km",
						multistore_nearby_max_radius_km);
	*max_results = PG_ARGISNULL(3) ? STORES_DEFAULT_RESULTS : PG_GETARG_INT32(3);
	if (*max_results < 1 || *max_results > multistore_nearby_max_results)
		MsValidationAdd(&v, "limit", "must be between 1 and %d", multistore_nearby_max_results);
	basket->n = 0;
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		ReadBasket(PG_GETARG_ARRAYTYPE_P(4), basket, &v);
	MsValidationCheck(&v);
}

/* Raises not_found naming the basket's products the catalogue does not know */
static void
CheckBasketProducts(Basket *basket)
{
	Oid	  types[1] = {TEXTARRAYOID};
	Datum values[1] = {basket->products};
	char *unknown;

	MsExecute(MsPlan(&basket_unknown_plan,
					 "SELECT coalesce(json_agg(u.id ORDER BY u.id), '[]')::text FROM unnest($1) AS u(id) "
					 " WHERE NOT EXISTS (SELECT 1 FROM multistore.products p WHERE p.id = u.id)",
					 1, types),
			  values, NULL, true, 1);
	unknown = MsColumnText(0, 1);
	if (strcmp(unknown, "[]") != 0)
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found",
					  psprintf("\"resource\":\"product\",\"productIds\":%s", unknown), "unknown products: %s",
					  unknown);
}

/* A row of the nearby scan kept for the answer */
typedef struct NearbyHit
{
	uint64		row; /* in SPI_tuptable */
	double		metres;
	const char *id;
} NearbyHit;

static int
CompareHits(const void *a, const void *b)
{
	const NearbyHit *x = a;
	const NearbyHit *y = b;

	if (x->metres != y->metres)
		return x->metres < y->metres ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * stores_nearby(latitude, longitude, radius_km, max_results) returns
 * {"stores":[{id,name,address,location,distanceKm,isOpen,acceptingOrders}]},
 * nearest first by distanceKm (the index's sphere order, re-sorted by the
 * spheroid distance among the rows read).
 */
PG_FUNCTION_INFO_V1(ms_stores_nearby);
Datum
ms_stores_nearby(PG_FUNCTION_ARGS)
{
	double		latitude = 0, longitude = 0, radius_km;
	int32		max_results;
	Oid			types[5] = {FLOAT8OID, FLOAT8OID, FLOAT8OID, TEXTARRAYOID, INT4ARRAYOID};
	Datum		values[5];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	JsonWriter	w;
	Portal		portal;
	NearbyHit  *hits;
	int			nhits = 0;
	Basket		basket;

	NearbyArguments(fcinfo, &latitude, &longitude, &radius_km, &max_results, &basket);

	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwArrayStart(&w, "stores");

	SPI_connect();
	values[0] = Float8GetDatum(latitude);
	values[1] = Float8GetDatum(longitude);
	values[2] = Float8GetDatum(radius_km);
	if (basket.n == 0)
		portal = SPI_cursor_open(NULL, MsPlan(&nearby_plan, NEARBY_SQL, 3, types), values, NULL, true);
	else
	{
		CheckBasketProducts(&basket);
		values[3] = basket.products;
		values[4] = basket.quantities;
		portal = SPI_cursor_open(NULL, MsPlan(&nearby_basket_plan, NEARBY_BASKET_SQL, 5, types), values, NULL,
								 true);
	}
	/* the index scan runs only as far as these rows */
	SPI_cursor_fetch(portal, true, max_results);

	hits = palloc(sizeof(NearbyHit) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool   isnull;
		double metres =
			DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 6, &isnull));

		hits[nhits].row = i;
		hits[nhits].metres = metres;
		hits[nhits].id = MsColumnText(i, 1);
		nhits++;
	}
	qsort(hits, nhits, sizeof(NearbyHit), CompareHits);

	for (int h = 0; h < nhits; h++)
	{
		uint64	  i = hits[h].row;
		HeapTuple tuple = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool	  isnull;
		Jsonb	 *weekly = DatumGetJsonbP(SPI_getbinval(tuple, desc, 8, &isnull));
		Jsonb	 *exceptions = DatumGetJsonbP(SPI_getbinval(tuple, desc, 9, &isnull));

		JwObjectStart(&w, NULL);
		JwString(&w, "id", hits[h].id);
		JwString(&w, "name", MsColumnText(i, 2));
		JwString(&w, "address", MsColumnText(i, 3));
		WriteLocation(&w, DatumGetFloat8(SPI_getbinval(tuple, desc, 4, &isnull)),
					  DatumGetFloat8(SPI_getbinval(tuple, desc, 5, &isnull)));
		/* kilometres to the metre */
		JwFloat(&w, "distanceKm", rint(hits[h].metres) / 1000.0);
		JwBool(&w, "isOpen",
			   HoursIsOpenStored(&weekly->root, &exceptions->root, LoadTimeZone(MsColumnText(i, 7)), now));
		JwBool(&w, "acceptingOrders", DatumGetBool(SPI_getbinval(tuple, desc, 10, &isnull)));
		JwObjectEnd(&w);
	}
	SPI_cursor_close(portal);
	SPI_finish();

	JwArrayEnd(&w);
	JwObjectEnd(&w);
	PG_RETURN_DATUM(JwFinish(&w));
}

/*
 * stores_nearby_explain shows the generic plan the nearby search runs, so
 * tests and DBAs can see that it stays an index scan.
 */
PG_FUNCTION_INFO_V1(ms_stores_nearby_explain);
Datum
ms_stores_nearby_explain(PG_FUNCTION_ARGS)
{
	double		   latitude = 0, longitude = 0, radius_km;
	int32		   max_results;
	StringInfoData plan;
	char		  *execute;
	Basket		   basket;

	NearbyArguments(fcinfo, &latitude, &longitude, &radius_km, &max_results, &basket);
	/* the basket's contents do not change a generic plan: a one-item basket stands for any */
	execute = psprintf("EXPLAIN (COSTS OFF) EXECUTE multistore_nearby%s_explain(%s, %s, %s%s)",
					   basket.n ? "_basket" : "", float8out_internal(latitude), float8out_internal(longitude),
					   float8out_internal(radius_km), basket.n ? ", '{x}', '{1}'" : "");

	initStringInfo(&plan);
	SPI_connect();
	if (SPI_execute("SELECT 1 FROM pg_prepared_statements WHERE name = 'multistore_nearby_explain'", true,
					1) == SPI_OK_SELECT &&
		SPI_processed == 0)
	{
		SPI_execute("PREPARE multistore_nearby_explain(float8, float8, float8) AS " NEARBY_SQL, false, 0);
		SPI_execute("PREPARE multistore_nearby_basket_explain(float8, float8, float8, text[], int4[]) "
					"AS " NEARBY_BASKET_SQL,
					false, 0);
	}
	SPI_execute("SET LOCAL plan_cache_mode = force_generic_plan", false, 0);
	if (SPI_execute(execute, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "EXPLAIN of the nearby query failed");
	for (uint64 i = 0; i < SPI_processed; i++)
		appendStringInfo(&plan, "%s\n", MsColumnText(i, 1));
	appendStringInfo(&plan, "(the search reads the first %d rows of this plan)\n", max_results);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(plan.data));
}

/*
 * store_get(store_id) returns {"store":{...}} with hours, time zone and
 * whether it is open now.
 */
PG_FUNCTION_INFO_V1(ms_store_get);
Datum
ms_store_get(PG_FUNCTION_ARGS)
{
	char	  *store_id;
	StoreRow   row;
	JsonWriter w;

	if (PG_ARGISNULL(0))
		MsInvalidArgument("storeId", "is required");
	store_id = text_to_cstring(PG_GETARG_TEXT_PP(0));

	JwInit(&w);
	SPI_connect();
	if (!StoreLoad(store_id, STORE_READ, &row))
		StoreNotFound(store_id);
	JwObjectStart(&w, NULL);
	JwObjectStart(&w, "store");
	StoreWrite(&w, &row, GetCurrentTransactionStartTimestamp());
	JwObjectEnd(&w);
	JwObjectEnd(&w);
	SPI_finish();
	PG_RETURN_DATUM(JwFinish(&w));
}

ArrayType *
StoresProductIdList(ArrayType *ids, const char *field)
{
	Datum *elems;
	bool  *nulls;
	int	   n, kept = 0;

	deconstruct_array(ids, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (ARR_NDIM(ids) > 1)
		MsInvalidArgument(field, "must be a list of product ids");
	if (n > STORES_MAX_PRODUCT_IDS)
		MsInvalidArgument(field, "may list at most %d products", STORES_MAX_PRODUCT_IDS);
	for (int i = 0; i < n; i++)
	{
		char *id;
		bool  seen = false;

		if (nulls[i] || !MsIdIsValid(id = TextDatumGetCString(elems[i])))
			MsInvalidArgument(field, "must be product ids of 1 to %d characters from A-Z, a-z, 0-9 and _.:-",
							  MS_ID_MAX_LENGTH);
		for (int j = 0; j < kept && !seen; j++)
			seen = strcmp(TextDatumGetCString(elems[j]), id) == 0;
		if (!seen)
			elems[kept++] = elems[i];
	}
	return construct_array(elems, kept, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * store_availability(store_id, product_ids, at) returns whether the store is
 * open at "at" (default now) in its own time zone, when it next opens,
 * whether it takes orders, and how many of each product are available there.
 * A product the catalogue does not know is not_found.
 */
PG_FUNCTION_INFO_V1(ms_store_availability);
Datum
ms_store_availability(PG_FUNCTION_ARGS)
{
	char		  *store_id;
	ArrayType	  *product_ids;
	TimestampTz	   at;
	StoreRow	   row;
	JsonWriter	   w;
	TimestampTz	   opens_at;
	Oid			   types[2] = {TEXTOID, TEXTARRAYOID};
	Datum		   values[2];
	uint64		   n;
	StringInfoData unknown;

	if (PG_ARGISNULL(0))
		MsInvalidArgument("storeId", "is required");
	store_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	product_ids = PG_ARGISNULL(1) ? construct_empty_array(TEXTOID)
								  : StoresProductIdList(PG_GETARG_ARRAYTYPE_P(1), "productIds");
	at = PG_ARGISNULL(2) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(at))
		MsInvalidArgument("at", "must be a finite time");

	JwInit(&w);
	SPI_connect();
	if (!StoreLoad(store_id, STORE_READ, &row))
		StoreNotFound(store_id);

	JwObjectStart(&w, NULL);
	JwString(&w, "storeId", row.id);
	JwBool(&w, "isOpen", HoursIsOpen(&row.hours, row.tz, at));
	JwBool(&w, "acceptingOrders", row.accepting_orders);
	if (HoursNextOpening(&row.hours, row.tz, at, &opens_at))
		JwTimestamp(&w, "nextOpensAt", opens_at);
	else
		JwNull(&w, "nextOpensAt");
	JwArrayStart(&w, "products");

	values[0] = CStringGetTextDatum(store_id);
	values[1] = PointerGetDatum(product_ids);
	n = MsExecute(MsPlan(&availability_plan,
						 "SELECT q.id, p.id IS NOT NULL, l.available "
						 "  FROM unnest($2) WITH ORDINALITY AS q(id, ord) "
						 "  LEFT JOIN multistore.products p ON p.id = q.id "
						 "  CROSS JOIN LATERAL " INVENTORY_LEVEL_SQL("$1", "q.id") " l "
																				   " ORDER BY q.ord",
						 2, types),
				  values, NULL, true, 0);
	initStringInfo(&unknown);
	for (uint64 i = 0; i < n; i++)
	{
		bool	  isnull;
		HeapTuple tuple = SPI_tuptable->vals[i];
		char	 *id = MsColumnText(i, 1);

		if (!DatumGetBool(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull)))
		{
			if (unknown.len > 0)
				appendStringInfoChar(&unknown, ',');
			escape_json(&unknown, id);
			continue;
		}
		JwObjectStart(&w, NULL);
		JwString(&w, "productId", id);
		JwInt(&w, "available", DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull)));
		JwObjectEnd(&w);
	}
	if (unknown.len > 0)
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found",
					  psprintf("\"resource\":\"product\",\"productIds\":[%s]", unknown.data),
					  "unknown product ids: %s", unknown.data);
	SPI_finish();

	JwArrayEnd(&w);
	JwObjectEnd(&w);
	PG_RETURN_DATUM(JwFinish(&w));
}
