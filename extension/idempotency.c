/*-------------------------------------------------------------------------
 *
 * idempotency.c
 *	  Claiming, replaying and recording idempotency keys.
 *
 * "In flight" is a transaction-scoped advisory lock on (user, key): the
 * first request holds it until it commits, so a second one with the same
 * key learns at once that the first is running, instead of waiting for it
 * on the key's unique index.  The key row and the order are written in the
 * same transaction, so there is never an order without its key or a key
 * claimed by an order that was rolled back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "utils/builtins.h"

#include "errors.h"
#include "idempotency.h"
#include "multistore.h"

/* The advisory lock class of idempotency keys ("idem") */
#define IDEMPOTENCY_LOCK_CLASS 0x6964656d

static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr find_plan = NULL;
static SPIPlanPtr record_plan = NULL;

void
IdempotencyCheckKey(const char *key)
{
	size_t len;

	if (key == NULL)
		MsError(ERRCODE_MS_BAD_REQUEST, "idempotency_key_required",
				"an Idempotency-Key header is required to place an order");
	len = strlen(key);
	if (len < 1 || len > IDEMPOTENCY_KEY_MAX)
		MsInvalidArgument("Idempotency-Key", "must be 1 to %d characters", IDEMPOTENCY_KEY_MAX);
	for (const char *p = key; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			MsInvalidArgument("Idempotency-Key", "must be visible ASCII characters");
}

bytea *
IdempotencyHash(const char *request)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea			  *out = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) request, strlen(request)) < 0 ||
		pg_cryptohash_final(ctx, (uint8 *) VARDATA(out), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute SHA-256");
	pg_cryptohash_free(ctx);
	SET_VARSIZE(out, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return out;
}

bool
IdempotencyBegin(pg_uuid_t user_id, const char *key, bytea *hash, IdempotentOutcome *stored)
{
	Oid	   types[3] = {UUIDOID, TEXTOID, INT4OID};
	Datum  values[3] = {UUIDPGetDatum(&user_id), CStringGetTextDatum(key),
						Int32GetDatum(IDEMPOTENCY_LOCK_CLASS)};
	bool   isnull;
	bytea *stored_hash;

	MsExecute(
		MsPlan(&lock_plan, "SELECT pg_try_advisory_xact_lock($3, hashtext($1::text || '/' || $2))", 3, types),
		values, NULL, false, 1);
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		MsError(ERRCODE_MS_CONFLICT, "idempotency_key_in_use",
				"a request with this Idempotency-Key is still being processed; retry shortly");

	if (MsExecute(
			MsPlan(&find_plan,
				   "SELECT request_hash, status, response::text FROM multistore.idempotency_keys "
				   " WHERE user_id = $1 AND key = $2 AND created_at > now() - make_interval(hours => $3)",
				   3, types),
			(Datum[]){values[0], values[1], Int32GetDatum(IDEMPOTENCY_HOURS)}, NULL, false, 1) == 0)
		return false;

	stored_hash = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (VARSIZE_ANY_EXHDR(stored_hash) != VARSIZE_ANY_EXHDR(hash) ||
		memcmp(VARDATA_ANY(stored_hash), VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash)) != 0)
		MsError(ERRCODE_MS_UNPROCESSABLE, "idempotency_key_reused",
				"this Idempotency-Key was used for a different request");
	stored->status = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	stored->body = MsColumnText(0, 3);
	return true;
}

void
IdempotencyRecord(pg_uuid_t user_id, const char *key, bytea *hash, int status, const char *body,
				  pg_uuid_t *order_id)
{
	Oid	  types[6] = {UUIDOID, TEXTOID, BYTEAOID, INT4OID, TEXTOID, UUIDOID};
	Datum values[6];
	char  nulls[6] = "      ";

	values[0] = UUIDPGetDatum(&user_id);
	values[1] = CStringGetTextDatum(key);
	values[2] = PointerGetDatum(hash);
	values[3] = Int32GetDatum(status);
	values[4] = CStringGetTextDatum(body);
	if (order_id)
		values[5] = UUIDPGetDatum(order_id);
	else
		nulls[5] = 'n';
	/* a row older than 24 hours is gone for all purposes: replace it */
	MsExecute(MsPlan(&record_plan,
					 "INSERT INTO multistore.idempotency_keys (user_id, key, request_hash, status, response, "
					 "order_id) "
					 "VALUES ($1, $2, $3, $4, $5::json, $6) "
					 "ON CONFLICT (user_id, key) DO UPDATE "
					 "   SET request_hash = excluded.request_hash, status = excluded.status, "
					 "       response = excluded.response, order_id = excluded.order_id, created_at = now()",
					 6, types),
			  values, nulls, false, 0);
}
