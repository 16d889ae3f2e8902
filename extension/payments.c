/*-------------------------------------------------------------------------
 *
 * payments.c
 *	  payment_apply: what the payment provider says happened to an order.
 *
 * The proxy checks the webhook's signature; this applies the event, once:
 *	  {id, type: "payment.succeeded"|"payment.failed", orderId, amount, currency}
 * A success with the order's amount and currency confirms it and turns its
 * holds into a sale; a mismatch is recorded and refused (422); a failure
 * cancels the order and releases its stock; a success for an order that
 * expired, was cancelled or was already paid is recorded as needing a
 * refund and changes nothing else.  The order's row is locked first, as on
 * every other path (orders.h), so a payment racing the customer's cancel or
 * the expiry job ends in one consistent state.  Returns (status, body,
 * replayed) because a refusal must be recorded, and raising it would roll
 * the record back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "errors.h"
#include "events.h"
#include "json_build.h"
#include "jsonb_read.h"
#include "multistore.h"
#include "orders.h"
#include "reservations.h"

static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr refund_plan = NULL;
static SPIPlanPtr outcome_plan = NULL;
static SPIPlanPtr seen_plan = NULL;

/* Records the event once; false when it was already applied */
static bool
Record(const char *id, const char *type, pg_uuid_t *order_id, Numeric amount, const char *currency,
	   const char *outcome, Jsonb *payload)
{
	Oid	  types[7] = {TEXTOID, TEXTOID, UUIDOID, NUMERICOID, TEXTOID, TEXTOID, JSONBOID};
	Datum values[7];

	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(type);
	values[2] = UUIDPGetDatum(order_id);
	values[3] = NumericGetDatum(amount);
	values[4] = CStringGetTextDatum(currency);
	values[5] = CStringGetTextDatum(outcome);
	values[6] = JsonbPGetDatum(payload);
	return MsExecute(MsPlan(&record_plan,
							"INSERT INTO multistore.payment_events (id, type, order_id, amount, currency, "
							"outcome, payload) "
							"VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING 1",
							7, types),
					 values, NULL, false, 0) == 1;
}

/* Can the amount be recorded: from 0 to the largest numeric(12, 2)? */
static bool
AmountInRange(Numeric amount)
{
	Datum value = NumericGetDatum(amount);
	Datum zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	Datum limit = DirectFunctionCall3(numeric_in, CStringGetDatum("9999999999.995"),
									  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));

	return DatumGetBool(DirectFunctionCall2(numeric_ge, value, zero)) &&
		   DatumGetBool(DirectFunctionCall2(numeric_lt, value, limit));
}

static char *
Outcome(const char *status, pg_uuid_t *order_id)
{
	return psprintf("{\"status\":\"%s\",\"orderId\":\"%s\"}", status,
					DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(order_id))));
}

/* Announces what a payment did to an order: succeeded, or failed (reason) */
static void
PaymentEvent(const char *type, OrderRow *row, const char *payment_id, Numeric amount, const char *currency,
			 const char *reason)
{
	EventsEmit(
		type, row->store_id, &row->user_id,
		psprintf("{\"orderId\":\"%s\",\"storeId\":%s,\"paymentId\":%s,\"amount\":\"%s\",\"currency\":%s,"
				 "\"reason\":%s}",
				 DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&row->id))),
				 MsJsonQuote(row->store_id), MsJsonQuote(payment_id),
				 DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(amount))),
				 MsJsonQuote(currency), reason ? MsJsonQuote(reason) : "null"));
}

/* payment_apply(event jsonb) -> (status, body, replayed) */
PG_FUNCTION_INFO_V1(ms_payment_apply);
Datum
ms_payment_apply(PG_FUNCTION_ARGS)
{
	static const char *const allowed[] = {"id", "type", "orderId", "amount", "currency", NULL};
	JsonbContainer			*body;
	MsValidation			 v;
	char					*id = NULL, *type = NULL, *order_text = NULL, *currency = NULL;
	JsonbValue				 amount_value;
	Numeric					 amount = NULL;
	pg_uuid_t				 order_id = {{0}};
	OrderRow				 row;
	bool					 found;
	const char				*outcome;
	bool					 short_of_stock = false;
	int						 status = 200;
	char					*answer;
	Datum					 result;

	SPI_connect();
	body = JrBody(fcinfo, 0);
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	JrText(&v, body, "id", "id", true, 200, &id);
	if (JrText(&v, body, "type", "type", true, 40, &type) && strcmp(type, "payment.succeeded") != 0 &&
		strcmp(type, "payment.failed") != 0)
		MsValidationAdd(&v, "type", "must be \"payment.succeeded\" or \"payment.failed\"");
	if (JrText(&v, body, "orderId", "orderId", true, 36, &order_text))
	{
		bool ok = strlen(order_text) == 36;

		for (int i = 0; ok && i < 36; i++)
			ok = (i == 8 || i == 13 || i == 18 || i == 23) ? order_text[i] == '-'
														   : isxdigit((unsigned char) order_text[i]);
		if (!ok)
			MsValidationAdd(&v, "orderId", "must be an order id (a UUID)");
		else
			order_id = *DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(order_text)));
	}
	if (!JrGet(body, "amount", &amount_value) || amount_value.type != jbvNumeric)
		MsValidationAdd(&v, "amount", "must be a number such as 12.30");
	else if (!AmountInRange(amount_value.val.numeric))
		MsValidationAdd(&v, "amount", "must be from 0 to 9999999999.99");
	else
		amount = amount_value.val.numeric;
	if (JrText(&v, body, "currency", "currency", true, 3, &currency) &&
		(strlen(currency) != 3 || !isupper((unsigned char) currency[0]) ||
		 !isupper((unsigned char) currency[1]) || !isupper((unsigned char) currency[2])))
		MsValidationAdd(&v, "currency", "must be a three-letter code such as USD");
	MsValidationCheck(&v);

	found = OrderLock(order_id, &row);
	if (!found)
		outcome = "ignored";
	else if (strcmp(type, "payment.failed") == 0)
		outcome = strcmp(row.status, "pending_payment") == 0 && !row.overdue ? "cancelled" : "ignored";
	else if (strcmp(row.status, "pending_payment") != 0 || row.overdue)
		outcome = "refund_required";
	else if (strcmp(row.currency, currency) != 0 ||
			 !DatumGetBool(
				 DirectFunctionCall2(numeric_eq, NumericGetDatum(amount),
									 DirectFunctionCall3(numeric_in, CStringGetDatum(row.total),
														 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)))))
		outcome = "mismatch";
	else
		outcome = "confirmed";

	if (!Record(id, type, &order_id, amount, currency, outcome,
				JsonbValueToJsonb(&(JsonbValue){.type = jbvBinary,
												.val.binary.data = body,
												.val.binary.len = VARSIZE(PG_GETARG_JSONB_P(0)) - VARHDRSZ})))
	{
		/* the order the event was first recorded for, whatever this delivery says */
		Oid	  seen_types[1] = {TEXTOID};
		Datum seen_values[1] = {CStringGetTextDatum(id)};

		MsExecute(
			MsPlan(&seen_plan, "SELECT order_id FROM multistore.payment_events WHERE id = $1", 1, seen_types),
			seen_values, NULL, true, 1);
		result = MsDecidedRow(
			fcinfo, 200,
			psprintf("{\"status\":\"duplicate\",\"orderId\":%s}",
					 SPI_processed == 1 && MsColumnText(0, 1) ? MsJsonQuote(MsColumnText(0, 1)) : "null"),
			true);
		SPI_finish();
		return result;
	}

	/*
	 * The order was locked before its deadline, but the hold may have run out
	 * since (the sweep may even have expired it while we waited for its
	 * lock), or the shelf may no longer cover it: the reservation decides,
	 * under its own lock, and a payment it refuses is one to refund.
	 */
	if (strcmp(outcome, "confirmed") == 0 && row.has_reservation)
	{
		ConsumeResult sold = ReservationTryConsume(row.reservation_id);

		if (sold != CONSUME_DONE)
		{
			Oid	  types[2] = {TEXTOID, TEXTOID};
			Datum values[2] = {CStringGetTextDatum(id), CStringGetTextDatum("refund_required")};

			MsExecute(MsPlan(&outcome_plan, "UPDATE multistore.payment_events SET outcome = $2 WHERE id = $1",
							 2, types),
					  values, NULL, false, 0);
			outcome = "refund_required";
			short_of_stock = sold == CONSUME_SHORT;
		}
	}

	if (strcmp(outcome, "confirmed") == 0)
	{
		OrderTransition(&row, "confirmed", ACTOR_PAYMENT, NULL, psprintf("payment %s", id));
		PaymentEvent("order.payment_succeeded", &row, id, amount, currency, NULL);
		answer = Outcome("confirmed", &order_id);
	}
	else if (strcmp(outcome, "cancelled") == 0)
	{
		OrderTransition(&row, "cancelled", ACTOR_PAYMENT, NULL, psprintf("payment %s failed", id));
		PaymentEvent("order.payment_failed", &row, id, amount, currency, "declined");
		answer = Outcome("cancelled", &order_id);
	}
	else if (strcmp(outcome, "refund_required") == 0)
	{
		Oid	  types[1] = {UUIDOID};
		Datum values[1] = {UUIDPGetDatum(&order_id)};

		/* an unpaid order ends first: past its deadline it expired, short of stock it is cancelled */
		if (strcmp(row.status, "pending_payment") == 0 && short_of_stock)
			OrderTransition(&row, "cancelled", ACTOR_PAYMENT, NULL,
							psprintf("payment %s arrived but stock on hand no longer covers the order", id));
		else if (strcmp(row.status, "pending_payment") == 0)
			OrderTransition(&row, "expired", ACTOR_SYSTEM, NULL, "payment deadline passed");
		MsExecute(
			MsPlan(&refund_plan,
				   "UPDATE multistore.orders SET refund_required = true, updated_at = now() WHERE id = $1", 1,
				   types),
			values, NULL, false, 0);
		answer = Outcome("refund_required", &order_id);
	}
	else if (strcmp(outcome, "mismatch") == 0)
	{
		status = 422;
		PaymentEvent("order.payment_failed", &row, id, amount, currency, "mismatch");
		answer =
			psprintf("{\"error\":{\"code\":\"payment_mismatch\",\"message\":%s,"
					 "\"details\":{\"expected\":{\"amount\":\"%s\",\"currency\":\"%s\"},"
					 "\"received\":{\"amount\":\"%s\",\"currency\":%s}}}}",
					 MsJsonQuote("the payment's amount or currency is not the order's"), row.total,
					 row.currency, DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(amount))),
					 MsJsonQuote(currency));
	}
	else
		answer = psprintf("{\"status\":\"ignored\",\"orderId\":%s}", MsJsonQuote(order_text));

	result = MsDecidedRow(fcinfo, status, answer, false);
	SPI_finish();
	return result;
}
