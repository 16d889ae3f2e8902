/*-------------------------------------------------------------------------
 *
 * realtime.c
 *	  Who may open a realtime stream (/ws, /api/events): tickets for
 *	  browsers, and the check the proxy makes before it upgrades.
 *
 * A browser's WebSocket and EventSource cannot send an Authorization
 * header, and an access token must never be put in a URL (it ends up in
 * logs and histories).  So a signed-in page asks for a ticket: 256 random
 * bits, stored only as SHA-256, bound to the session, valid 30 seconds,
 * redeemed once.  A stream may also be opened with no one signed in, to
 * watch the stock of named stores (a kiosk): stock is public.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/json.h"

#include "accounts.h"
#include "errors.h"
#include "events.h"
#include "json_build.h"
#include "multistore.h"
#include "sessions.h"

/*
 * realtime_ticket_issue(session_id) answers
 * {"ticket":...,"expiresIn":30,"expiresAt":...} for the caller's session.
 */
PG_FUNCTION_INFO_V1(ms_realtime_ticket_issue);
Datum
ms_realtime_ticket_issue(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[3] = {BYTEAOID, UUIDOID, INT4OID};
	Datum			  values[3];
	MsCaller		  caller;
	char			 *ticket;
	bool			  isnull;
	JsonWriter		  w;
	Datum			  result;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	ticket = SessionsNewToken();
	values[0] = PointerGetDatum(SessionsTokenHash(ticket));
	values[1] = UUIDPGetDatum(&caller.session_id);
	values[2] = Int32GetDatum(EVENTS_TICKET_TTL);
	MsExecute(MsPlan(&plan,
					 "INSERT INTO multistore.realtime_tickets (ticket_hash, session_id, expires_at) "
					 "VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at",
					 3, types),
			  values, NULL, false, 1);
	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwString(&w, "ticket", ticket);
	JwInt(&w, "expiresIn", EVENTS_TICKET_TTL);
	JwTimestamp(&w, "expiresAt",
				DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)));
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* Redeems a ticket: its session, or invalid_token when unknown, used or expired */
static Datum
RedeemTicket(const char *ticket)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[1] = {BYTEAOID};
	Datum			  values[1];
	bool			  isnull;

	values[0] = PointerGetDatum(SessionsTokenHash(ticket));
	/* one UPDATE: two redemptions racing for one ticket cannot both win */
	if (MsExecute(MsPlan(&plan,
						 "UPDATE multistore.realtime_tickets SET used_at = now() "
						 " WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now() "
						 "RETURNING session_id",
						 1, types),
				  values, NULL, false, 1) == 0)
		MsError(ERRCODE_MS_UNAUTHORIZED, "invalid_token",
				"the ticket is not valid, was used already or has expired");
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
}

/*
 * realtime_authorize(session_id, ticket, since, stores) decides whether a
 * stream may open, and for whom: the session of a verified access token,
 * or the session a ticket was issued for (the ticket is used up), or
 * nobody when stores are named.  Answers
 * {"user":{id,role,sessionId,managedStores}|null,"stores":[...],"since":n|null};
 * unauthorized when there is neither a session, a ticket nor a store,
 * not_found for a store that does not exist.
 */
PG_FUNCTION_INFO_V1(ms_realtime_authorize);
Datum
ms_realtime_authorize(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr user_plan = NULL;
	static SPIPlanPtr stores_plan = NULL;
	bool			  has_session = !PG_ARGISNULL(0);
	bool			  has_ticket = !PG_ARGISNULL(1);
	bool			  has_stores = !PG_ARGISNULL(3);
	Datum			  session = (Datum) 0;
	JsonWriter		  w;
	Datum			  result;

	if (!PG_ARGISNULL(2) && PG_GETARG_INT64(2) < 0)
		MsInvalidArgument("since", "must be an event id (0 or more)");
	if (has_stores)
	{
		ArrayType *stores = PG_GETARG_ARRAYTYPE_P(3);

		if (ArrayGetNItems(ARR_NDIM(stores), ARR_DIMS(stores)) > EVENTS_MAX_STORES)
			MsInvalidArgument("stores", "may name at most %d stores", EVENTS_MAX_STORES);
	}
	if (!has_session && !has_ticket && !has_stores)
		MsError(ERRCODE_MS_UNAUTHORIZED, "unauthorized",
				"a realtime stream needs an access token, a ticket, or stores to watch");

	SPI_connect();
	if (has_ticket)
		session = RedeemTicket(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	else if (has_session)
		session = PG_GETARG_DATUM(0);

	JwInit(&w);
	JwObjectStart(&w, NULL);
	if (has_ticket || has_session)
	{
		Oid types[1] = {UUIDOID};

		if (MsExecute(MsPlan(&user_plan,
							 "SELECT u.id::text, u.role, s.id::text, "
							 "       coalesce((SELECT json_agg(m.store_id ORDER BY m.store_id) "
							 "                   FROM multistore.store_managers m WHERE m.user_id = u.id), "
							 "                '[]')::text "
							 "  FROM multistore.sessions s JOIN multistore.users u ON u.id = s.user_id "
							 " WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()",
							 1, types),
					  &session, NULL, false, 1) == 0)
			MsError(ERRCODE_MS_UNAUTHORIZED, "invalid_token", "the session has ended; log in again");
		JwObjectStart(&w, "user");
		JwString(&w, "id", MsColumnText(0, 1));
		JwString(&w, "role", MsColumnText(0, 2));
		JwString(&w, "sessionId", MsColumnText(0, 3));
		JwRaw(&w, "managedStores", MsColumnText(0, 4));
		JwObjectEnd(&w);
	}
	else
		JwNull(&w, "user");

	if (has_stores)
	{
		Oid	  types[1] = {TEXTARRAYOID};
		Datum values[1] = {PG_GETARG_DATUM(3)};
		char *unknown;

		MsExecute(
			MsPlan(&stores_plan,
				   "SELECT coalesce((SELECT json_agg(DISTINCT s) FROM unnest($1) s "
				   "                  WHERE NOT EXISTS (SELECT 1 FROM multistore.stores t WHERE t.id = s)), "
				   "                '[]')::text, "
				   "       coalesce((SELECT json_agg(DISTINCT s) FROM unnest($1) s), '[]')::text",
				   1, types),
			values, NULL, false, 1);
		unknown = MsColumnText(0, 1);
		if (strcmp(unknown, "[]") != 0)
			MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found",
						  psprintf("\"resource\":\"store\",\"storeIds\":%s", unknown), "unknown stores: %s",
						  unknown);
		JwRaw(&w, "stores", MsColumnText(0, 2));
	}
	else
		JwRaw(&w, "stores", "[]");
	if (PG_ARGISNULL(2))
		JwNull(&w, "since");
	else
		JwInt(&w, "since", PG_GETARG_INT64(2));
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
