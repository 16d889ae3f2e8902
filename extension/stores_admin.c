/*-------------------------------------------------------------------------
 *
 * stores_admin.c
 *	  Writing stores: create and update (admins), and the deterministic
 *	  generator of synthetic stores for benchmarks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "accounts.h"
#include "errors.h"
#include "json_build.h"
#include "jsonb_read.h"
#include "multistore.h"
#include "stores.h"

#define STORE_NAME_MAX	  200
#define STORE_ADDRESS_MAX 500
#define STORE_PHONE_MAX	  32

/* A store body as the client sent it; "given" flags tell absent from present */
typedef struct StoreInput
{
	char  *id;
	char  *name;
	char  *address;
	bool   phone_given;
	char  *phone; /* NULL clears it */
	bool   location_given;
	double latitude;
	double longitude;
	char  *time_zone; /* canonical zone name */
	bool   radius_given;
	double delivery_radius_km;
	bool   accepting_given;
	bool   accepting_orders;
} StoreInput;

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr update_plan = NULL;
static SPIPlanPtr generate_plan = NULL;

/*
 * ReadStoreInput validates a store body; for create every required field
 * must be there, for update any subset may be.
 */
static void
ReadStoreInput(JsonbContainer *root, bool create, StoreInput *in)
{
	static const char *const allowed[] = {"id",
										  "name",
										  "address",
										  "phone",
										  "location",
										  "timeZone",
										  "openingHours",
										  "hoursExceptions",
										  "deliveryRadiusKm",
										  "acceptingOrders",
										  NULL};
	JsonbContainer			*location = NULL;
	JsonbContainer			*weekly = NULL;
	JsonbContainer			*exceptions = NULL;
	JsonbValue				 phone;
	MsValidation			 v;
	StoreHours				 hours;

	memset(in, 0, sizeof(*in));
	MsValidationInit(&v);
	JrRejectUnknown(&v, root, NULL, allowed);

	if (JrText(&v, root, "id", "id", false, MS_ID_MAX_LENGTH, &in->id) && !MsIdIsValid(in->id))
		MsValidationAdd(&v, "id", "must be 1 to %d characters from A-Z, a-z, 0-9 and _.:-", MS_ID_MAX_LENGTH);
	/* on update too: a store keeps a name and an address, never an empty one */
	if (JrText(&v, root, "name", "name", create, STORE_NAME_MAX, &in->name) && in->name[0] == '\0')
		MsValidationAdd(&v, "name", "must not be empty");
	if (JrText(&v, root, "address", "address", create, STORE_ADDRESS_MAX, &in->address) &&
		in->address[0] == '\0')
		MsValidationAdd(&v, "address", "must not be empty");

	if (JrGet(root, "phone", &phone))
	{
		in->phone_given = true;
		if (phone.type != jbvNull)
			JrText(&v, root, "phone", "phone", false, STORE_PHONE_MAX, &in->phone);
	}

	if (JrContainer(&v, root, "location", "location", create, true, &location))
	{
		static const char *const location_fields[] = {"latitude", "longitude", NULL};

		in->location_given = true;
		JrRejectUnknown(&v, location, "location", location_fields);
		if (JrNumber(&v, location, "latitude", "location.latitude", true, &in->latitude) &&
			!(in->latitude >= -90 && in->latitude <= 90))
			MsValidationAdd(&v, "location.latitude", "must be between -90 and 90");
		if (JrNumber(&v, location, "longitude", "location.longitude", true, &in->longitude) &&
			!(in->longitude >= -180 && in->longitude <= 180))
			MsValidationAdd(&v, "location.longitude", "must be between -180 and 180");
	}

	if (JrText(&v, root, "timeZone", "timeZone", create, 64, &in->time_zone))
	{
		pg_tz *tz = HoursTimeZone(in->time_zone);

		if (tz == NULL)
			MsValidationAdd(&v, "timeZone", "must be an IANA time zone such as \"America/New_York\"");
		else
			in->time_zone = pstrdup(pg_get_timezone_name(tz));
	}

	JrContainer(&v, root, "openingHours", "openingHours", create, true, &weekly);
	JrContainer(&v, root, "hoursExceptions", "hoursExceptions", false, true, &exceptions);
	HoursParse(weekly, exceptions, &hours, &v);

	if (JrNumber(&v, root, "deliveryRadiusKm", "deliveryRadiusKm", false, &in->delivery_radius_km))
	{
		in->radius_given = true;
		if (!(in->delivery_radius_km >= 0 && in->delivery_radius_km <= STORES_MAX_DELIVERY_KM))
			MsValidationAdd(&v, "deliveryRadiusKm", "must be between 0 and %g", STORES_MAX_DELIVERY_KM);
	}
	in->accepting_given =
		JrBool(&v, root, "acceptingOrders", "acceptingOrders", false, &in->accepting_orders);

	MsValidationCheck(&v);
}

/* Renders {"store":{...}} for a store written in this transaction */
static Datum
StoreResponse(const char *store_id)
{
	StoreRow   row;
	JsonWriter w;

	if (!StoreLoad(store_id, STORE_READ_OWN_WRITES, &row))
		elog(ERROR, "store \"%s\" vanished", store_id);
	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwObjectStart(&w, "store");
	StoreWrite(&w, &row, GetCurrentTransactionStartTimestamp());
	JwObjectEnd(&w);
	JwObjectEnd(&w);
	return JwFinish(&w);
}

/* Copies a json Datum made inside SPI out to the caller's context, and leaves SPI */
static Datum
SpiReturn(Datum json)
{
	Datum copy = MsSpiCopy(json);

	SPI_finish();
	return copy;
}

/*
 * store_create(session_id, store) creates a store (admin).  Without "id",
 * one is generated; an id in use is already_exists.
 */
PG_FUNCTION_INFO_V1(ms_store_create);
Datum
ms_store_create(PG_FUNCTION_ARGS)
{
	MsCaller   caller;
	StoreInput in;
	Oid		   types[10] = {TEXTOID,   TEXTOID, TEXTOID,  TEXTOID,	 FLOAT8OID,
							FLOAT8OID, TEXTOID, JSONBOID, FLOAT8OID, BOOLOID};
	Datum	   values[10];
	char	   nulls[10];

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	AccountsRequireAdmin(&caller);
	ReadStoreInput(JrBody(fcinfo, 1), true, &in);

	if (in.id == NULL)
	{
		pg_uuid_t *uuid = DatumGetUUIDP(DirectFunctionCall1(gen_random_uuid, (Datum) 0));

		in.id = psprintf("store_%02x%02x%02x%02x%02x%02x", uuid->data[0], uuid->data[1], uuid->data[2],
						 uuid->data[3], uuid->data[4], uuid->data[5]);
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(in.id);
	values[1] = CStringGetTextDatum(in.name);
	values[2] = CStringGetTextDatum(in.address);
	if (in.phone)
		values[3] = CStringGetTextDatum(in.phone);
	else
		nulls[3] = 'n';
	values[4] = Float8GetDatum(in.latitude);
	values[5] = Float8GetDatum(in.longitude);
	values[6] = CStringGetTextDatum(in.time_zone);
	values[7] = PG_GETARG_DATUM(1);
	values[8] = Float8GetDatum(in.radius_given ? in.delivery_radius_km : STORES_DEFAULT_DELIVERY_KM);
	values[9] = BoolGetDatum(in.accepting_given ? in.accepting_orders : true);

	if (MsExecute(MsPlan(&insert_plan,
						 "INSERT INTO multistore.stores (id, name, address, phone, location, time_zone, "
						 "       opening_hours, hours_exceptions, delivery_radius_km, accepting_orders) "
						 "VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($6, $5), 4326)::geography, $7, "
						 "        $8->'openingHours', COALESCE(NULLIF($8->'hoursExceptions', 'null'), '{}'), "
						 "        $9, $10) "
						 "ON CONFLICT (id) DO NOTHING",
						 10, types),
				  values, nulls, false, 0) == 0)
		MsErrorDetail(ERRCODE_MS_CONFLICT, "already_exists", "\"resource\":\"store\"",
					  "store \"%s\" already exists", in.id);

	PG_RETURN_DATUM(SpiReturn(StoreResponse(in.id)));
}

/*
 * store_update(session_id, store_id, store) changes the fields given
 * (admin); absent fields keep their value, "phone": null clears the phone.
 */
PG_FUNCTION_INFO_V1(ms_store_update);
Datum
ms_store_update(PG_FUNCTION_ARGS)
{
	MsCaller   caller;
	StoreInput in;
	char	  *store_id;
	Oid		   types[11] = {TEXTOID,   TEXTOID, TEXTOID,  BOOLOID,	 TEXTOID, FLOAT8OID,
							FLOAT8OID, TEXTOID, JSONBOID, FLOAT8OID, BOOLOID};
	Datum	   values[11];
	char	   nulls[11];

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	AccountsRequireAdmin(&caller);
	if (PG_ARGISNULL(1))
		MsInvalidArgument("storeId", "is required");
	store_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ReadStoreInput(JrBody(fcinfo, 2), false, &in);
	if (in.id != NULL && strcmp(in.id, store_id) != 0)
		MsInvalidArgument("id", "cannot be changed (it is \"%s\")", store_id);
	if (!MsIdIsValid(store_id))
		StoreNotFound(store_id);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(store_id);
	values[1] = in.name ? CStringGetTextDatum(in.name) : (nulls[1] = 'n', (Datum) 0);
	values[2] = in.address ? CStringGetTextDatum(in.address) : (nulls[2] = 'n', (Datum) 0);
	values[3] = BoolGetDatum(in.phone_given);
	values[4] = in.phone ? CStringGetTextDatum(in.phone) : (nulls[4] = 'n', (Datum) 0);
	values[5] = Float8GetDatum(in.latitude);
	values[6] = Float8GetDatum(in.longitude);
	if (!in.location_given)
		nulls[5] = nulls[6] = 'n';
	values[7] = in.time_zone ? CStringGetTextDatum(in.time_zone) : (nulls[7] = 'n', (Datum) 0);
	values[8] = PG_GETARG_DATUM(2);
	values[9] = Float8GetDatum(in.delivery_radius_km);
	if (!in.radius_given)
		nulls[9] = 'n';
	values[10] = BoolGetDatum(in.accepting_orders);
	if (!in.accepting_given)
		nulls[10] = 'n';

	if (MsExecute(MsPlan(&update_plan,
						 "UPDATE multistore.stores SET "
						 "  name = COALESCE($2, name), "
						 "  address = COALESCE($3, address), "
						 "  phone = CASE WHEN $4 THEN $5 ELSE phone END, "
						 "  location = CASE WHEN $6 IS NULL THEN location "
						 "             ELSE ST_SetSRID(ST_MakePoint($7, $6), 4326)::geography END, "
						 "  time_zone = COALESCE($8, time_zone), "
						 "  opening_hours = CASE WHEN jsonb_typeof($9->'openingHours') = 'object' "
						 "                  THEN $9->'openingHours' ELSE opening_hours END, "
						 "  hours_exceptions = CASE WHEN jsonb_typeof($9->'hoursExceptions') = 'object' "
						 "                  THEN $9->'hoursExceptions' ELSE hours_exceptions END, "
						 "  delivery_radius_km = COALESCE($10, delivery_radius_km), "
						 "  accepting_orders = COALESCE($11, accepting_orders), "
						 "  updated_at = now() "
						 "WHERE id = $1",
						 11, types),
				  values, nulls, false, 0) == 0)
		StoreNotFound(store_id);

	PG_RETURN_DATUM(SpiReturn(StoreResponse(store_id)));
}

/*
 * stores_generate(count, seed) adds "count" synthetic stores gen_1 ...
 * spread uniformly over the continental United States, the same for the
 * same seed, for benchmarks.  Existing ids are left alone; returns how many
 * were added.
 */
PG_FUNCTION_INFO_V1(ms_stores_generate);
Datum
ms_stores_generate(PG_FUNCTION_ARGS)
{
	int32  count = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0);
	int64  seed = PG_ARGISNULL(1) ? 1 : PG_GETARG_INT32(1);
	Oid	   types[2] = {INT4OID, INT8OID};
	Datum  values[2];
	uint64 added;

	if (count < 0 || count > 10000000)
		MsInvalidArgument("count", "must be between 0 and 10000000");

	SPI_connect();
	values[0] = Int32GetDatum(count);
	values[1] = Int64GetDatum(seed);
	/* hashint4extended gives each store two independent uniform coordinates */
	added = MsExecute(
		MsPlan(&generate_plan,
			   "INSERT INTO multistore.stores (id, name, address, location, time_zone, "
			   "       opening_hours, delivery_radius_km, accepting_orders) "
			   "SELECT 'gen_' || g, 'Generated store ' || g, g || ' Synthetic Avenue', "
			   "       ST_SetSRID(ST_MakePoint("
			   "         -125 + 58 * ((hashint4extended(g, $2) & 140737488355327) / 140737488355328.0), "
			   "         25 + 24 * ((hashint4extended(g, $2 + 1) & 140737488355327) / 140737488355328.0)), "
			   "         4326)::geography, "
			   "       'America/Chicago', "
			   "       CASE WHEN g % 7 = 0 THEN "
			   "         '{\"monday\":[{\"opens\":\"00:00\",\"closes\":\"24:00\"}],"
			   "\"tuesday\":[{\"opens\":\"00:00\",\"closes\":\"24:00\"}],"
			   "\"wednesday\":[{\"opens\":\"00:00\",\"closes\":\"24:00\"}],"
			   "\"thursday\":[{\"opens\":\"00:00\",\"closes\":\"24:00\"}],"
			   "\"friday\":[{\"opens\":\"00:00\",\"closes\":\"24:00\"}],"
			   "\"saturday\":[{\"opens\":\"00:00\",\"closes\":\"24:00\"}],"
			   "\"sunday\":[{\"opens\":\"00:00\",\"closes\":\"24:00\"}]}'::jsonb "
			   "       ELSE "
			   "         '{\"monday\":[{\"opens\":\"08:00\",\"closes\":\"22:00\"}],"
			   "\"tuesday\":[{\"opens\":\"08:00\",\"closes\":\"22:00\"}],"
			   "\"wednesday\":[{\"opens\":\"08:00\",\"closes\":\"22:00\"}],"
			   "\"thursday\":[{\"opens\":\"08:00\",\"closes\":\"22:00\"}],"
			   "\"friday\":[{\"opens\":\"08:00\",\"closes\":\"23:00\"}],"
			   "\"saturday\":[{\"opens\":\"09:00\",\"closes\":\"23:00\"}],"
			   "\"sunday\":[{\"opens\":\"10:00\",\"closes\":\"20:00\"}]}'::jsonb "
			   "       END, "
			   "       5, true "
			   "  FROM generate_series(1, $1) g "
			   "ON CONFLICT (id) DO NOTHING",
			   2, types),
		values, NULL, false, 0);
	SPI_finish();
	PG_RETURN_INT64((int64) added);
}
