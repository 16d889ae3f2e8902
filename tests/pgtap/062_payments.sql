-- Payments: a success with the right amount and currency confirms and sells,
-- a mismatch is refused and recorded, an event id is applied once, a failure
-- cancels and releases, a late success is a refund to make and resurrects
-- nothing, an unknown order is ignored, bad bodies are validation errors.
\ir helpers.psql
BEGIN;
SELECT plan(69);

SELECT pg_temp.add_store('t_pay', -62, 0);
SELECT pg_temp.add_product(p, 2.50) FROM unnest(ARRAY['t_p1','t_p2','t_p3','t_p4','t_p5','t_p6','t_p7','t_p8']) p;
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('customer') AS alice;
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_pay', p, '{"onHand":10}')
  FROM unnest(ARRAY['t_p1','t_p2','t_p3','t_p4','t_p5','t_p6','t_p7','t_p8']) p;

-- an unpaid order of 2 x 2.50 = 5.00 USD for a product
CREATE FUNCTION pg_temp.order_of(product text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
	PERFORM multistore.cart_add_item((SELECT alice FROM sess), jsonb_build_object('productId', product, 'quantity', 2));
	SELECT status, body::jsonb AS body INTO r
	  FROM multistore.order_place((SELECT alice FROM sess), gen_random_uuid()::text, '{"storeId":"t_pay","deliveryType":"pickup"}');
	IF r.status <> 201 THEN
		RAISE EXCEPTION 'placing failed: % %', r.status, r.body;
	END IF;
	RETURN (r.body->'order'->>'id')::uuid;
END $$;
CREATE FUNCTION pg_temp.event(id text, type text, o uuid, amount numeric, currency text DEFAULT 'USD') RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('id', id, 'type', 'payment.' || type, 'orderId', o, 'amount', amount, 'currency', currency) $$;
CREATE FUNCTION pg_temp.apply(event jsonb) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('status', p.status, 'body', p.body::jsonb, 'replayed', p.replayed) FROM multistore.payment_apply(event) p $$;
CREATE FUNCTION pg_temp.outcome(status text, o uuid) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('status', 200, 'body', jsonb_build_object('status', status, 'orderId', o), 'replayed', false) $$;
CREATE FUNCTION pg_temp.get(o uuid) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (multistore.order_get((SELECT alice FROM sess), o)::jsonb)->'order' $$;
CREATE FUNCTION pg_temp.state(o uuid) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('status', status, 'refundRequired', refund_required, 'paid', paid_at IS NOT NULL,
                             'changes', (SELECT count(*) FROM multistore.order_status_history h WHERE h.order_id = o.id))
     FROM multistore.orders o WHERE id = $1 $$;
CREATE FUNCTION pg_temp.reservation_status(o uuid) RETURNS text LANGUAGE sql AS
$$ SELECT r.status FROM multistore.orders o JOIN multistore.reservations r ON r.id = o.reservation_id WHERE o.id = $1 $$;
CREATE FUNCTION pg_temp.recorded(id text) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('type', type, 'orderId', order_id, 'amount', amount, 'currency', currency, 'outcome', outcome)
     FROM multistore.payment_events e WHERE e.id = $1 $$;
CREATE FUNCTION pg_temp.refusal(sql text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	got_state text;
	got_detail text;
BEGIN
	EXECUTE sql;
	RETURN '{"error":"none was raised"}'::jsonb;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS got_state = RETURNED_SQLSTATE, got_detail = PG_EXCEPTION_DETAIL;
	RETURN jsonb_build_object('sqlstate', got_state) || coalesce(got_detail::jsonb, '{}');
END $$;

-- success: the order is confirmed and its holds become a sale
CREATE TEMP TABLE o1 AS SELECT pg_temp.order_of('t_p1') AS id;
SELECT is(pg_temp.stock('t_pay', 't_p1') - 'buckets', '{"onHand":10,"held":2}'::jsonb, 'an unpaid order holds 2');
SELECT is(pg_temp.apply(pg_temp.event('evt_1', 'succeeded', (SELECT id FROM o1), 5.00)), pg_temp.outcome('confirmed', (SELECT id FROM o1)),
          'a success with the order''s amount and currency: 200 confirmed');
SELECT is(pg_temp.state((SELECT id FROM o1)), '{"status":"confirmed","refundRequired":false,"paid":true,"changes":2}'::jsonb,
          'the order is confirmed and paid');
SELECT is((SELECT (o->>'paidAt')::timestamptz FROM pg_temp.get((SELECT id FROM o1)) o), date_trunc('milliseconds', now()), 'paidAt is when');
SELECT is((pg_temp.get((SELECT id FROM o1))->'history'->-1) - 'at',
          '{"from":"pending_payment","to":"confirmed","actor":"payment","actorId":null,"note":"payment evt_1"}'::jsonb,
          'the history names the payment and its event');
SELECT is(pg_temp.stock('t_pay', 't_p1') - 'buckets', '{"onHand":8,"held":0}'::jsonb, 'the reservation is consumed: on hand 10 -> 8, nothing held');
SELECT is(pg_temp.reservation_status((SELECT id FROM o1)), 'consumed', 'its reservation is consumed');
SELECT is(pg_temp.recorded('evt_1'),
          jsonb_build_object('type', 'payment.succeeded', 'orderId', (SELECT id FROM o1), 'amount', 5.00, 'currency', 'USD', 'outcome', 'confirmed'),
          'the event is recorded with what it did');
SELECT is((SELECT payload FROM multistore.payment_events WHERE id = 'evt_1'), pg_temp.event('evt_1', 'succeeded', (SELECT id FROM o1), 5.00),
          'with the payload as received');

-- each event id once
SELECT is(pg_temp.apply(pg_temp.event('evt_1', 'succeeded', (SELECT id FROM o1), 5.00)),
          jsonb_build_object('status', 200, 'body', jsonb_build_object('status', 'duplicate', 'orderId', (SELECT id FROM o1)), 'replayed', true),
          'the same event again: 200, replayed, naming its order');
SELECT is(pg_temp.apply(pg_temp.event('evt_1', 'failed', gen_random_uuid(), 5.00)),
          jsonb_build_object('status', 200, 'body', jsonb_build_object('status', 'duplicate', 'orderId', (SELECT id FROM o1)), 'replayed', true),
          'an event id seen before, whatever it now says (the order it was recorded for)');
SELECT is(pg_temp.state((SELECT id FROM o1)), '{"status":"confirmed","refundRequired":false,"paid":true,"changes":2}'::jsonb,
          'changes nothing on the order');
SELECT is(pg_temp.stock('t_pay', 't_p1') - 'buckets', '{"onHand":8,"held":0}'::jsonb, 'nor on the stock');
SELECT is((SELECT count(*)::int FROM multistore.payment_events WHERE id = 'evt_1'), 1, 'and is recorded once');
SELECT is((SELECT outcome FROM multistore.payment_events WHERE id = 'evt_1'), 'confirmed', 'as what it did the first time');

-- the amount may be written with fewer decimals
CREATE TEMP TABLE o2 AS SELECT pg_temp.order_of('t_p2') AS id;
SELECT is(pg_temp.apply(jsonb_build_object('id', 'evt_2', 'type', 'payment.succeeded', 'orderId', (SELECT id FROM o2), 'amount', 5, 'currency', 'USD')),
          pg_temp.outcome('confirmed', (SELECT id FROM o2)), 'an amount of 5 is 5.00: numbers are compared as numbers');

-- mismatches: refused, recorded, the order unchanged
CREATE TEMP TABLE o3 AS SELECT pg_temp.order_of('t_p3') AS id;
CREATE TEMP TABLE m1 AS SELECT pg_temp.apply(pg_temp.event('evt_3a', 'succeeded', (SELECT id FROM o3), 4.99)) AS r;
SELECT is((SELECT jsonb_build_array(r->'status', r->'replayed', r->'body'->'error'->'code') FROM m1), '[422, false, "payment_mismatch"]'::jsonb,
          'a success for another amount: 422 payment_mismatch');
SELECT is((SELECT r->'body'->'error'->'details' FROM m1),
          '{"expected":{"amount":"5.00","currency":"USD"},"received":{"amount":"4.99","currency":"USD"}}'::jsonb,
          'naming what was expected and what was received');
SELECT is(pg_temp.recorded('evt_3a'),
          jsonb_build_object('type', 'payment.succeeded', 'orderId', (SELECT id FROM o3), 'amount', 4.99, 'currency', 'USD', 'outcome', 'mismatch'),
          'the mismatch is recorded');
SELECT is(pg_temp.state((SELECT id FROM o3)), '{"status":"pending_payment","refundRequired":false,"paid":false,"changes":1}'::jsonb,
          'the order is unchanged');
SELECT is(pg_temp.stock('t_pay', 't_p3') - 'buckets', '{"onHand":10,"held":2}'::jsonb, 'and its stock still held, not sold');
SELECT is(pg_temp.apply(pg_temp.event('evt_3b', 'succeeded', (SELECT id FROM o3), 5.00, 'EUR'))->'body'->'error'->'details',
          '{"expected":{"amount":"5.00","currency":"USD"},"received":{"amount":"5.00","currency":"EUR"}}'::jsonb,
          'the right amount in another currency is a mismatch too');
SELECT is(pg_temp.recorded('evt_3b')->>'outcome', 'mismatch', 'recorded as such');
SELECT is(pg_temp.apply(pg_temp.event('evt_3c', 'succeeded', (SELECT id FROM o3), 50.00))->'status', '422'::jsonb, 'so is paying too much');
SELECT is(pg_temp.state((SELECT id FROM o3)), '{"status":"pending_payment","refundRequired":false,"paid":false,"changes":1}'::jsonb,
          'none of the mismatches touched the order');
SELECT is(pg_temp.apply(pg_temp.event('evt_3a', 'succeeded', (SELECT id FROM o3), 4.99)),
          jsonb_build_object('status', 200, 'body', jsonb_build_object('status', 'duplicate', 'orderId', (SELECT id FROM o3)), 'replayed', true),
          'a repeated mismatch event is a duplicate, applied once');
SELECT is(pg_temp.apply(pg_temp.event('evt_3d', 'succeeded', (SELECT id FROM o3), 5.00)), pg_temp.outcome('confirmed', (SELECT id FROM o3)),
          'the right payment afterwards confirms the order');
SELECT is(pg_temp.stock('t_pay', 't_p3') - 'buckets', '{"onHand":8,"held":0}'::jsonb, 'and sells its stock');

-- failure: the order is cancelled and its stock released
CREATE TEMP TABLE o4 AS SELECT pg_temp.order_of('t_p4') AS id;
SELECT is(pg_temp.apply(pg_temp.event('evt_4', 'failed', (SELECT id FROM o4), 5.00)), pg_temp.outcome('cancelled', (SELECT id FROM o4)),
          'a failed payment: 200 cancelled');
SELECT is(pg_temp.state((SELECT id FROM o4)), '{"status":"cancelled","refundRequired":false,"paid":false,"changes":2}'::jsonb,
          'the order is cancelled');
SELECT is((pg_temp.get((SELECT id FROM o4))->'history'->-1) - 'at',
          '{"from":"pending_payment","to":"cancelled","actor":"payment","actorId":null,"note":"payment evt_4 failed"}'::jsonb,
          'by the payment, in the history');
SELECT is(pg_temp.stock('t_pay', 't_p4') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'its hold is released');
SELECT is(pg_temp.reservation_status((SELECT id FROM o4)), 'released', 'its reservation is released');
SELECT is(pg_temp.recorded('evt_4')->>'outcome', 'cancelled', 'recorded');
SELECT is(pg_temp.apply(pg_temp.event('evt_1f', 'failed', (SELECT id FROM o1), 5.00)), pg_temp.outcome('ignored', (SELECT id FROM o1)),
          'a failure for an order already paid is ignored');
SELECT is(pg_temp.state((SELECT id FROM o1)), '{"status":"confirmed","refundRequired":false,"paid":true,"changes":2}'::jsonb,
          'the paid order stays confirmed');
SELECT is(pg_temp.recorded('evt_1f')->>'outcome', 'ignored', 'and the event is recorded as ignored');

-- late successes: a refund to make, nothing resurrected
CREATE TEMP TABLE o5 AS SELECT pg_temp.order_of('t_p5') AS id;
UPDATE multistore.orders SET payment_due_at = now() - interval '1 second' WHERE id = (SELECT id FROM o5);
UPDATE multistore.reservations SET expires_at = now() - interval '1 second'
 WHERE id = (SELECT reservation_id FROM multistore.orders WHERE id = (SELECT id FROM o5));
UPDATE multistore.reservation_holds SET expires_at = now() - interval '1 second'
 WHERE reservation_id = (SELECT reservation_id FROM multistore.orders WHERE id = (SELECT id FROM o5));
SELECT cmp_ok(multistore.orders_expire(), '>=', 1::bigint, 'the job expires the unpaid order');
SELECT is(pg_temp.apply(pg_temp.event('evt_5', 'succeeded', (SELECT id FROM o5), 5.00)), pg_temp.outcome('refund_required', (SELECT id FROM o5)),
          'a success for an expired order: 200 refund_required');
SELECT is(pg_temp.state((SELECT id FROM o5)), '{"status":"expired","refundRequired":true,"paid":false,"changes":2}'::jsonb,
          'the order stays expired, marked as needing a refund');
SELECT is(pg_temp.get((SELECT id FROM o5))->'refundRequired', 'true'::jsonb, 'which the order shows');
SELECT is(pg_temp.stock('t_pay', 't_p5') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'nothing is sold or held');
SELECT is(pg_temp.recorded('evt_5')->>'outcome', 'refund_required', 'the event is recorded as a refund to make');

CREATE TEMP TABLE o6 AS SELECT pg_temp.order_of('t_p6') AS id;
SELECT multistore.order_cancel((SELECT alice FROM sess), (SELECT id FROM o6));
SELECT is(pg_temp.apply(pg_temp.event('evt_6', 'succeeded', (SELECT id FROM o6), 5.00)), pg_temp.outcome('refund_required', (SELECT id FROM o6)),
          'a success for a cancelled order: refund_required');
SELECT is(pg_temp.state((SELECT id FROM o6)), '{"status":"cancelled","refundRequired":true,"paid":false,"changes":2}'::jsonb,
          'the order stays cancelled');
SELECT is(pg_temp.stock('t_pay', 't_p6') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'and its stock stays released');

-- past its deadline but not yet swept by the job: expired there and then
CREATE TEMP TABLE o7 AS SELECT pg_temp.order_of('t_p7') AS id;
UPDATE multistore.orders SET payment_due_at = now() - interval '1 second' WHERE id = (SELECT id FROM o7);
UPDATE multistore.reservations SET expires_at = now() - interval '1 second'
 WHERE id = (SELECT reservation_id FROM multistore.orders WHERE id = (SELECT id FROM o7));
UPDATE multistore.reservation_holds SET expires_at = now() - interval '1 second'
 WHERE reservation_id = (SELECT reservation_id FROM multistore.orders WHERE id = (SELECT id FROM o7));
SELECT is(pg_temp.apply(pg_temp.event('evt_7', 'succeeded', (SELECT id FROM o7), 5.00)), pg_temp.outcome('refund_required', (SELECT id FROM o7)),
          'a success after the deadline, before the job ran: refund_required');
SELECT is(pg_temp.state((SELECT id FROM o7)), '{"status":"expired","refundRequired":true,"paid":false,"changes":2}'::jsonb,
          'the order is written down as expired, not confirmed');
SELECT is((pg_temp.get((SELECT id FROM o7))->'history'->-1) - 'at',
          '{"from":"pending_payment","to":"expired","actor":"system","actorId":null,"note":"payment deadline passed"}'::jsonb,
          'by the deadline, in the history');
SELECT is(pg_temp.stock('t_pay', 't_p7') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'its hold is released, nothing sold');
SELECT is(pg_temp.apply(pg_temp.event('evt_7f', 'failed', (SELECT id FROM o7), 5.00))->'body'->>'status', 'ignored',
          'a failure for an expired order is ignored');

-- a second, different success for a paid order is a refund to make too
SELECT is(pg_temp.apply(pg_temp.event('evt_1b', 'succeeded', (SELECT id FROM o1), 5.00)), pg_temp.outcome('refund_required', (SELECT id FROM o1)),
          'a second payment of a confirmed order: refund_required');
SELECT is(pg_temp.state((SELECT id FROM o1)), '{"status":"confirmed","refundRequired":true,"paid":true,"changes":2}'::jsonb,
          'the order stays confirmed, marked for a refund');
SELECT is(pg_temp.stock('t_pay', 't_p1') - 'buckets', '{"onHand":8,"held":0}'::jsonb, 'and nothing more is sold');

-- an order that does not exist
CREATE TEMP TABLE ghost AS SELECT gen_random_uuid() AS id;
SELECT is(pg_temp.apply(pg_temp.event('evt_8', 'succeeded', (SELECT id FROM ghost), 5.00)), pg_temp.outcome('ignored', (SELECT id FROM ghost)),
          'an unknown order: 200 ignored');
SELECT is(pg_temp.recorded('evt_8'),
          jsonb_build_object('type', 'payment.succeeded', 'orderId', (SELECT id FROM ghost), 'amount', 5.00, 'currency', 'USD', 'outcome', 'ignored'),
          'recorded as ignored');

-- a success for an order the shelf no longer covers (stock set below its
-- holds): recorded, the order cancelled and its holds released, a refund due
SELECT pg_temp.add_product('t_p9', 2.50);
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_pay', 't_p9', '{"onHand":10}');
CREATE TEMP TABLE short_o AS SELECT pg_temp.order_of('t_p9') AS id;
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_pay', 't_p9', '{"onHand":1}');
SELECT is(pg_temp.apply(pg_temp.event('evt_short', 'succeeded', (SELECT id FROM short_o), 5.00)),
          pg_temp.outcome('refund_required', (SELECT id FROM short_o)),
          'a success the shelf cannot cover: 200 refund_required, not an error the provider retries forever');
SELECT is(pg_temp.state((SELECT id FROM short_o)), '{"status":"cancelled","refundRequired":true,"paid":false,"changes":2}'::jsonb,
          'the order is cancelled with a refund due');
SELECT is((pg_temp.get((SELECT id FROM short_o))->'history'->-1) - 'at',
          '{"from":"pending_payment","to":"cancelled","actor":"payment","actorId":null,"note":"payment evt_short arrived but stock on hand no longer covers the order"}'::jsonb,
          'the history says why');
SELECT is(pg_temp.stock('t_pay', 't_p9') - 'buckets', '{"onHand":1,"held":0}'::jsonb, 'its holds are released, nothing was sold');
SELECT is(pg_temp.recorded('evt_short')->>'outcome', 'refund_required', 'the event is recorded as a refund to make');

-- bad bodies: validation errors, nothing recorded
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM multistore.payment_events;
SELECT is(pg_temp.refusal($$SELECT multistore.payment_apply('{}')$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"id":"is required","type":"is required","orderId":"is required","amount":"must be a number such as 12.30","currency":"is required"}}'::jsonb,
          'an empty event: every field is named');
SELECT is(pg_temp.refusal($$SELECT multistore.payment_apply('{"id":"evt_x","type":"payment.refunded","orderId":"order-1","amount":"5.00","currency":"usd","livemode":true}')$$)->'fields',
          '{"livemode":"is not a known field","type":"must be \"payment.succeeded\" or \"payment.failed\"","orderId":"must be an order id (a UUID)","amount":"must be a number such as 12.30","currency":"must be a three-letter code such as USD"}'::jsonb,
          'an unknown type, a bad order id, an amount in a string, a lower-case currency, an unknown field');
SELECT is(pg_temp.refusal(format('SELECT multistore.payment_apply(%L)', pg_temp.event('evt_y', 'succeeded', (SELECT id FROM o2), -5.00))),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"amount":"must be from 0 to 9999999999.99"}}'::jsonb, 'a negative amount');
SELECT is(pg_temp.refusal(format('SELECT multistore.payment_apply(%L)', pg_temp.event('evt_y', 'succeeded', (SELECT id FROM o2), 1e20))),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"amount":"must be from 0 to 9999999999.99"}}'::jsonb,
          'an amount too large to record is a validation error, not an overflow');
SELECT is(pg_temp.refusal($$SELECT multistore.payment_apply(NULL)$$), '{"sqlstate":"M4400","code":"validation_failed","fields":{"body":"is required"}}'::jsonb,
          'no body');
SELECT is(pg_temp.refusal($$SELECT multistore.payment_apply('[]')$$), '{"sqlstate":"M4400","code":"validation_failed","fields":{"body":"must be a JSON object"}}'::jsonb,
          'a body that is not an object');
SELECT is((SELECT count(*) FROM multistore.payment_events), (SELECT n FROM before), 'no bad event was recorded');

-- only the webhook's role may apply payments
SELECT ok((SELECT proacl IS NOT NULL AND NOT EXISTS (SELECT 1 FROM aclexplode(proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
             FROM pg_proc WHERE oid = 'multistore.payment_apply(jsonb)'::regprocedure),
          'payment_apply is not executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
