-- Orders: placing one from the cart (checks, snapshots, holds, the cart
-- emptied), idempotency keys (replay, stored refusals, validation errors not
-- stored, reuse with another request, per user, 24 hours), every transition
-- of the state machine with its stock effect and each forbidden one from
-- every state, who may do what, history, lists.
\ir helpers.psql
BEGIN;
SELECT plan(268);

-- stores: t_o (open every day, delivers within 5 km), t_o2 (another store),
-- t_shut (not taking orders), t_closed (closed today by an exception)
SELECT pg_temp.add_store('t_o', -60, 0);
SELECT pg_temp.add_store('t_o2', -60, 0.2);
SELECT pg_temp.add_store('t_shut', -60, 0.4);
UPDATE multistore.stores SET accepting_orders = false WHERE id = 't_shut';
SELECT pg_temp.add_store('t_closed', -60, 0.6, 'UTC', NULL,
                         jsonb_build_object(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '[]'::jsonb));
SELECT pg_temp.add_product('t_a', 1.10);
SELECT pg_temp.add_product('t_b', 2.50);
SELECT pg_temp.add_product('t_gone', 4.00);
SELECT pg_temp.add_product('t_short1', 1.00);
SELECT pg_temp.add_product('t_short2', 1.00);
SELECT pg_temp.add_product(p, 10.00) FROM unnest(ARRAY['t_x1','t_x2','t_x3','t_x4','t_x5','t_x6','t_x7','t_x8']) p;
CREATE TEMP TABLE sess AS
SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('customer') AS alice, pg_temp.session_for('customer') AS bob,
       pg_temp.session_for('customer') AS carol, pg_temp.session_for('store_manager') AS manager,
       pg_temp.session_for('store_manager') AS manager2;
CREATE FUNCTION pg_temp.s(who text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE s uuid;
BEGIN
	EXECUTE format('SELECT %I FROM sess', who) INTO s;
	RETURN s;
END $$;
CREATE FUNCTION pg_temp.uid(who text) RETURNS text LANGUAGE sql AS
$$ SELECT user_id::text FROM multistore.sessions WHERE id = pg_temp.s(who) $$;
INSERT INTO multistore.store_managers (store_id, user_id)
VALUES ('t_o', pg_temp.uid('manager')::uuid), ('t_o2', pg_temp.uid('manager2')::uuid);
SELECT multistore.inventory_set(pg_temp.s('admin'), 't_o', p, jsonb_build_object('onHand', n))
  FROM (VALUES ('t_a', 100), ('t_b', 5), ('t_gone', 10), ('t_short1', 1), ('t_x1', 10), ('t_x2', 10), ('t_x3', 10),
               ('t_x4', 10), ('t_x5', 10), ('t_x6', 10), ('t_x7', 10), ('t_x8', 10)) s(p, n);
SELECT multistore.inventory_set(pg_temp.s('admin'), 't_closed', 't_a', '{"onHand":10}');

-- fill(who, product, quantity, ...): lines into a cart
CREATE FUNCTION pg_temp.fill(who text, VARIADIC pairs text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. array_length(pairs, 1) BY 2 LOOP
		PERFORM multistore.cart_add_item(pg_temp.s(who), jsonb_build_object('productId', pairs[i], 'quantity', pairs[i + 1]::int));
	END LOOP;
END $$;
CREATE FUNCTION pg_temp.place(who text, idem_key text, req jsonb)
RETURNS TABLE (status int, body jsonb, replayed boolean) LANGUAGE sql AS
$$ SELECT p.status, p.body::jsonb, p.replayed FROM multistore.order_place(pg_temp.s(who), idem_key, req) p $$;
CREATE FUNCTION pg_temp.pickup(store text DEFAULT 't_o') RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('storeId', store, 'deliveryType', 'pickup') $$;
-- a delivery address about 1.1 km south of t_o, or at a given latitude
CREATE FUNCTION pg_temp.delivery(lat float8 DEFAULT -60.01) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('storeId', 't_o', 'deliveryType', 'delivery',
                             'deliveryAddress', jsonb_build_object('line1', '1 Test Street', 'city', 'Testville',
                                                                   'postalCode', '12345', 'latitude', lat, 'longitude', 0)) $$;
-- an order placed from a fresh cart, with a fresh key: its id
CREATE FUNCTION pg_temp.order_for(who text, req jsonb, VARIADIC pairs text[]) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
	PERFORM pg_temp.fill(who, VARIADIC pairs);
	SELECT * INTO r FROM pg_temp.place(who, gen_random_uuid()::text, req);
	IF r.status <> 201 THEN
		RAISE EXCEPTION 'placing failed: % %', r.status, r.body;
	END IF;
	RETURN (r.body->'order'->>'id')::uuid;
END $$;
CREATE FUNCTION pg_temp.get(who text, o uuid) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (multistore.order_get(pg_temp.s(who), o)::jsonb)->'order' $$;
CREATE FUNCTION pg_temp.move(who text, o uuid, status text, note text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (multistore.order_set_status(pg_temp.s(who), o, jsonb_strip_nulls(jsonb_build_object('status', status, 'note', note)))::jsonb)->'order' $$;
CREATE FUNCTION pg_temp.cancel(who text, o uuid) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (multistore.order_cancel(pg_temp.s(who), o)::jsonb)->'order' $$;
-- a payment of the order's own amount and currency: the outcome
CREATE FUNCTION pg_temp.pay(o uuid) RETURNS text LANGUAGE sql AS
$$ SELECT p.body->>'status' FROM multistore.orders, multistore.payment_apply(jsonb_build_object(
       'id', 'evt_' || gen_random_uuid(), 'type', 'payment.succeeded', 'orderId', id, 'amount', total, 'currency', currency)) p
    WHERE id = o $$;
CREATE FUNCTION pg_temp.status(o uuid) RETURNS text LANGUAGE sql AS $$ SELECT status FROM multistore.orders WHERE id = o $$;
CREATE FUNCTION pg_temp.reservation_status(o uuid) RETURNS text LANGUAGE sql AS
$$ SELECT r.status FROM multistore.orders o JOIN multistore.reservations r ON r.id = o.reservation_id WHERE o.id = $1 $$;
-- the last history entry of an order, without its time
CREATE FUNCTION pg_temp.last_change(o uuid) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (pg_temp.get('admin', o)->'history'->-1) - 'at' $$;
-- {sqlstate, code, ...details} of the error a statement raises
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
CREATE FUNCTION pg_temp.cart_lines(who text) RETURNS text LANGUAGE sql AS
$$ SELECT coalesce(string_agg((i->>'productId') || ' x' || (i->>'quantity'), ', ' ORDER BY n), '')
     FROM jsonb_array_elements((multistore.cart_get(pg_temp.s(who))::jsonb)->'cart'->'items') WITH ORDINALITY AS l(i, n) $$;

------------------------------------------------------------------------------
-- placing an order
------------------------------------------------------------------------------
SELECT pg_temp.fill('alice', 't_a', '3', 't_b', '2');
CREATE TEMP TABLE p1 AS SELECT * FROM pg_temp.place('alice', 'key-1', '{"storeId":"t_o","deliveryType":"pickup","notes":"ring twice"}');
CREATE TEMP TABLE o1 AS SELECT (body->'order'->>'id')::uuid AS id, body->'order' AS o FROM p1;
SELECT is((SELECT status FROM p1), 201, 'an order is placed: 201');
SELECT is((SELECT replayed FROM p1), false, 'not a replay');
SELECT is((SELECT jsonb_build_object('status', o->'status', 'storeId', o->'storeId', 'userId', o->'userId', 'deliveryType', o->'deliveryType',
                                     'deliveryAddress', o->'deliveryAddress', 'notes', o->'notes', 'paidAt', o->'paidAt', 'refundRequired', o->'refundRequired')
             FROM o1),
          jsonb_build_object('status', 'pending_payment', 'storeId', 't_o', 'userId', pg_temp.uid('alice'), 'deliveryType', 'pickup',
                             'deliveryAddress', null, 'notes', 'ring twice', 'paidAt', null, 'refundRequired', false),
          'it waits for payment, at the store, for the caller, with the delivery type and notes asked for');
SELECT is((SELECT o->'items' FROM o1),
          '[{"productId":"t_a","name":"Product t_a","quantity":3,"unitPrice":"1.10","discount":"0.00","lineTotal":"3.30","promotion":null},
            {"productId":"t_b","name":"Product t_b","quantity":2,"unitPrice":"2.50","discount":"0.00","lineTotal":"5.00","promotion":null}]'::jsonb,
          'its items are the cart''s lines with name, unit price and line total');
SELECT is((SELECT jsonb_build_array(o->'subtotal', o->'discount', o->'total', o->'currency') FROM o1), '["8.30","0.00","8.30","USD"]'::jsonb,
          'its totals are the cart''s, as strings, with the currency');
SELECT is((SELECT jsonb_build_array(status, subtotal, total, currency) FROM multistore.orders WHERE id = (SELECT id FROM o1)),
          '["pending_payment", 8.30, 8.30, "USD"]'::jsonb, 'the order row is written pending_payment with numeric totals');
SELECT is((SELECT count(*)::int FROM multistore.order_items WHERE order_id = (SELECT id FROM o1)), 2, 'with one item row per line');
SELECT is((SELECT (o->>'paymentDueAt')::timestamptz FROM o1),
          (SELECT date_trunc('milliseconds', r.expires_at) FROM multistore.reservations r JOIN multistore.orders o ON r.id = o.reservation_id WHERE o.id = (SELECT id FROM o1)),
          'paymentDueAt is the expiry of the order''s reservation');
SELECT is((SELECT (o->>'paymentDueAt')::timestamptz FROM o1), date_trunc('milliseconds', now() + interval '15 minutes'),
          'which is multistore.reservation_ttl away (timestamps are given to the millisecond)');
SELECT is((SELECT jsonb_build_array(r.status, r.owner_type, r.owner_ref = o.id::text)
             FROM multistore.reservations r JOIN multistore.orders o ON r.id = o.reservation_id WHERE o.id = (SELECT id FROM o1)),
          '["active","order",true]'::jsonb, 'the reservation is active and belongs to the order');
SELECT is(pg_temp.stock('t_o', 't_a') - 'buckets', '{"onHand":100,"held":3}'::jsonb, 'the stock of every line is held: 3 of t_a');
SELECT is(pg_temp.stock('t_o', 't_b') - 'buckets', '{"onHand":5,"held":2}'::jsonb, 'and 2 of t_b');
SELECT is(pg_temp.cart_lines('alice'), '', 'the cart is emptied');
SELECT is((SELECT (o->'history') #- '{0,at}' FROM o1),
          jsonb_build_array(jsonb_build_object('from', null, 'to', 'pending_payment', 'actor', 'customer', 'actorId', pg_temp.uid('alice'), 'note', null)),
          'the history starts with the customer placing it');
SELECT is((SELECT (o->'history'->0->>'at')::timestamptz FROM o1), date_trunc('milliseconds', now()), 'with when');
SELECT is((SELECT jsonb_build_array(status, order_id = (SELECT id FROM o1)) FROM multistore.idempotency_keys
            WHERE user_id = pg_temp.uid('alice')::uuid AND key = 'key-1'), '[201, true]'::jsonb,
          'the key is stored with the outcome and the order, in the same transaction');
-- snapshots
UPDATE multistore.products SET name = 'Renamed', price = 9.99 WHERE id = 't_a';
SELECT is((SELECT jsonb_build_array(o->'items'->0->'name', o->'items'->0->'unitPrice', o->'total') FROM pg_temp.get('alice', (SELECT id FROM o1)) o),
          '["Product t_a","1.10","8.30"]'::jsonb, 'items are snapshots: renaming or repricing the product later changes nothing');
UPDATE multistore.products SET name = 'Product t_a', price = 1.10 WHERE id = 't_a';

------------------------------------------------------------------------------
-- idempotency
------------------------------------------------------------------------------
CREATE TEMP TABLE p1again AS SELECT * FROM pg_temp.place('alice', 'key-1', '{"storeId":"t_o","deliveryType":"pickup","notes":"ring twice"}');
SELECT is((SELECT status FROM p1again), 201, 'a retry with the same key and request replays the status');
SELECT is((SELECT body FROM p1again), (SELECT body FROM p1), 'and the body, byte for byte the first order');
SELECT is((SELECT replayed FROM p1again), true, 'marked replayed');
SELECT is((SELECT count(*)::int FROM multistore.orders WHERE user_id = pg_temp.uid('alice')::uuid), 1, 'no second order was made');
SELECT is(pg_temp.stock('t_o', 't_a')->'held', '3'::jsonb, 'nor any more stock held');
SELECT is((SELECT body->'order'->>'id' FROM pg_temp.place('alice', 'key-1', '{ "notes" : "ring twice", "deliveryType":"pickup", "storeId":"t_o"}')),
          (SELECT id::text FROM o1), 'the same request with members in another order and other spacing is the same request');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('alice', 'key-1', '{"storeId":"t_o","deliveryType":"pickup","notes":"ring three times"}')$$),
          '{"sqlstate":"M4422","code":"idempotency_key_reused"}'::jsonb, 'the same key with another request is 422 idempotency_key_reused');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('alice', 'key-1', '{"storeId":"t_o","deliveryType":"pickup"}')$$),
          '{"sqlstate":"M4422","code":"idempotency_key_reused"}'::jsonb, 'also when a field is left out');
-- another user, the same key
SELECT pg_temp.fill('bob', 't_a', '1');
CREATE TEMP TABLE pb AS SELECT * FROM pg_temp.place('bob', 'key-1', '{"storeId":"t_o","deliveryType":"pickup","notes":"ring twice"}');
SELECT is((SELECT jsonb_build_array(status, replayed, body->'order'->'userId', body->'order'->'items'->0->'quantity') FROM pb),
          jsonb_build_array(201, false, pg_temp.uid('bob'), 1), 'the same key from another user is an independent order');
SELECT isnt((SELECT body->'order'->>'id' FROM pb), (SELECT id::text FROM o1), 'with its own id');
SELECT is((SELECT body->'order'->>'id' FROM pg_temp.place('alice', 'key-1', '{"storeId":"t_o","deliveryType":"pickup","notes":"ring twice"}')),
          (SELECT id::text FROM o1), 'and the first user''s key still replays the first user''s order');
-- a refusal after the work began is stored and replayed
SELECT pg_temp.fill('carol', 't_b', '9');
CREATE TEMP TABLE poos AS SELECT * FROM pg_temp.place('carol', 'key-oos', pg_temp.pickup());
SELECT is((SELECT jsonb_build_array(status, replayed) FROM poos), '[409, false]'::jsonb, 'out of stock: 409, returned rather than raised');
SELECT is((SELECT (body->'error') - 'message' FROM poos),
          '{"code":"out_of_stock","details":{"items":[{"productId":"t_b","requested":9,"available":3}]}}'::jsonb,
          'out_of_stock names the short line with what was requested and what is available');
SELECT is(pg_temp.stock('t_o', 't_b')->'held', '2'::jsonb, 'nothing more is held');
SELECT is(pg_temp.cart_lines('carol'), 't_b x9', 'and the cart is kept');
SELECT multistore.inventory_set(pg_temp.s('admin'), 't_o', 't_b', '{"onHand":50}');
CREATE TEMP TABLE poos2 AS SELECT * FROM pg_temp.place('carol', 'key-oos', pg_temp.pickup());
SELECT is((SELECT jsonb_build_array(status, replayed) FROM poos2), '[409, true]'::jsonb,
          'a retry with the same key replays the stored out_of_stock, even now that there is stock');
SELECT is((SELECT body FROM poos2), (SELECT body FROM poos), 'with the same body');
SELECT is((SELECT count(*)::int FROM multistore.orders WHERE user_id = pg_temp.uid('carol')::uuid), 0, 'and still no order');
SELECT is((SELECT jsonb_build_array(status, replayed) FROM pg_temp.place('carol', 'key-oos-2', pg_temp.pickup())), '[201, false]'::jsonb,
          'a new key places the order');
-- a validation error is not stored: the key may be used again
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('bob', 'key-v', '{"storeId":"t_o","deliveryType":"delivery"}')$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"deliveryAddress":"is required for delivery"}}'::jsonb,
          'delivery needs an address: a validation error, raised');
SELECT is((SELECT count(*)::int FROM multistore.idempotency_keys WHERE user_id = pg_temp.uid('bob')::uuid AND key = 'key-v'), 0,
          'a validation error leaves no key behind');
SELECT pg_temp.fill('bob', 't_a', '2');
SELECT is((SELECT jsonb_build_array(status, replayed, body->'order'->'deliveryAddress'->'city') FROM pg_temp.place('bob', 'key-v', pg_temp.delivery())),
          '[201, false, "Testville"]'::jsonb, 'so the corrected request with the same key is placed, with its address');
-- the key itself
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('bob', NULL, pg_temp.pickup())$$),
          '{"sqlstate":"M4400","code":"idempotency_key_required"}'::jsonb, 'no key: 400 idempotency_key_required');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('bob', '', pg_temp.pickup())$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"Idempotency-Key":"must be 1 to 255 characters"}}'::jsonb, 'an empty key');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('bob', repeat('k', 256), pg_temp.pickup())$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"Idempotency-Key":"must be 1 to 255 characters"}}'::jsonb, 'a key of 256 characters');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('bob', 'two words', pg_temp.pickup())$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"Idempotency-Key":"must be visible ASCII characters"}}'::jsonb, 'a key with a space');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('bob', 'clé', pg_temp.pickup())$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"Idempotency-Key":"must be visible ASCII characters"}}'::jsonb, 'a key that is not ASCII');
SELECT pg_temp.fill('bob', 't_a', '1');
SELECT is((SELECT status FROM pg_temp.place('bob', repeat('k', 254) || '~', pg_temp.pickup())), 201, 'a key of 255 visible characters is fine');
SELECT is((SELECT count(*)::int FROM multistore.idempotency_keys WHERE user_id = pg_temp.uid('bob')::uuid AND key = ANY (ARRAY['', 'two words', 'clé', repeat('k', 256)])),
          0, 'bad keys leave nothing behind');
-- keys are kept 24 hours
UPDATE multistore.idempotency_keys SET created_at = now() - interval '24 hours 1 second'
 WHERE user_id = pg_temp.uid('alice')::uuid AND key = 'key-1';
SELECT pg_temp.fill('alice', 't_a', '1');
CREATE TEMP TABLE pold AS SELECT * FROM pg_temp.place('alice', 'key-1', pg_temp.pickup());
SELECT is((SELECT jsonb_build_array(status, replayed) FROM pold), '[201, false]'::jsonb,
          'after 24 hours a key is forgotten: another request with it is a new order, not idempotency_key_reused');
SELECT is((SELECT order_id::text FROM multistore.idempotency_keys WHERE user_id = pg_temp.uid('alice')::uuid AND key = 'key-1'),
          (SELECT body->'order'->>'id' FROM pold), 'and the key now stands for the new order');

------------------------------------------------------------------------------
-- checks that refuse an order (stored with their key, like out_of_stock)
------------------------------------------------------------------------------
SELECT pg_temp.fill('carol', 't_a', '2');
CREATE FUNCTION pg_temp.refused(idem_key text, req jsonb) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_build_object('status', status, 'replayed', replayed) || coalesce((body->'error') - 'message', '{}') FROM pg_temp.place('carol', idem_key, req) $$;
SELECT is(pg_temp.refused('r1', pg_temp.pickup('t_nowhere')),
          '{"status":404,"replayed":false,"code":"not_found","details":{"resource":"store"}}'::jsonb, 'an unknown store: 404');
SELECT is(pg_temp.refused('r2', pg_temp.pickup('t_shut')),
          '{"status":409,"replayed":false,"code":"store_not_accepting_orders","details":{"storeId":"t_shut"}}'::jsonb,
          'a store that does not accept orders: 409 store_not_accepting_orders');
SELECT is(pg_temp.refused('r3', pg_temp.pickup('t_closed')),
          jsonb_build_object('status', 409, 'replayed', false, 'code', 'store_closed',
                             'details', jsonb_build_object('storeId', 't_closed',
                                                           'nextOpensAt', to_char(date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"'))),
          'pickup at a closed store: 409 store_closed, with when it next opens');
SELECT is(pg_temp.refused('r4', pg_temp.delivery(-60.2)) - 'details',
          '{"status":422,"replayed":false,"code":"outside_delivery_area"}'::jsonb, 'a delivery address 22 km away: 422 outside_delivery_area');
SELECT is((SELECT response::jsonb->'error'->'details'->'deliveryRadiusKm' FROM multistore.idempotency_keys WHERE key = 'r4'
            AND user_id = pg_temp.uid('carol')::uuid), '5'::jsonb, 'naming the store''s delivery radius');
SELECT ok((SELECT (response::jsonb->'error'->'details'->>'distanceKm')::numeric BETWEEN 22.2 AND 22.4 FROM multistore.idempotency_keys WHERE key = 'r4'
            AND user_id = pg_temp.uid('carol')::uuid), 'and the distance, 22.3 km');
SELECT is(pg_temp.cart_lines('carol'), 't_a x2', 'the refused orders kept the cart');
SELECT is((SELECT count(*)::int FROM multistore.reservations WHERE created_by = pg_temp.uid('carol')::uuid AND status = 'active'), 1,
          'and held nothing (carol''s one active hold is her earlier order)');
SELECT is(pg_temp.refused('r1', pg_temp.pickup('t_nowhere')), '{"status":404,"replayed":true,"code":"not_found","details":{"resource":"store"}}'::jsonb,
          'such a refusal is replayed for the same key');
SELECT is(pg_temp.refused('r5', (pg_temp.delivery() || '{"storeId":"t_closed"}') #- '{deliveryAddress,latitude}' #- '{deliveryAddress,longitude}') - 'details' - 'code',
          '{"status":201,"replayed":false}'::jsonb, 'delivery from a store closed now is taken (only pickup needs it open)');
SELECT is(pg_temp.refused('r6', pg_temp.pickup()), '{"status":400,"replayed":false,"code":"cart_empty","details":{}}'::jsonb,
          'an empty cart: 400 cart_empty');
SELECT pg_temp.fill('carol', 't_gone', '1', 't_a', '1');
UPDATE multistore.products SET published = false WHERE id = 't_gone';
SELECT is(pg_temp.refused('r7', pg_temp.pickup()),
          '{"status":409,"replayed":false,"code":"product_unavailable","details":{"productIds":["t_gone"]}}'::jsonb,
          'a product unpublished since it went into the cart: 409 product_unavailable naming it');
SELECT multistore.cart_clear(pg_temp.s('carol'));
SELECT pg_temp.fill('carol', 't_a', '1', 't_short2', '1', 't_short1', '2');
SELECT is(pg_temp.refused('r8', pg_temp.pickup()),
          '{"status":409,"replayed":false,"code":"out_of_stock","details":{"items":[{"productId":"t_short1","requested":2,"available":1},{"productId":"t_short2","requested":1,"available":0}]}}'::jsonb,
          'out_of_stock names every short line, and only those');
SELECT is(pg_temp.stock('t_o', 't_short1') - 'buckets', '{"onHand":1,"held":0}'::jsonb, 'all or nothing: the line that fitted is not held');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('carol', 'r9', '{"storeId":"bad id","deliveryType":"boat","notes":7,"coupon":"X"}')$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"coupon":"is not a known field","storeId":"must be a store id","deliveryType":"must be \"delivery\" or \"pickup\"","notes":"must be a string"}}'::jsonb,
          'every bad field of the request is named');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('carol', 'r9', '{"storeId":"t_o","deliveryType":"delivery","deliveryAddress":{"line1":"x","latitude":95,"floor":3}}')$$)->'fields',
          '{"deliveryAddress.floor":"is not a known field","deliveryAddress.city":"is required","deliveryAddress.postalCode":"is required","deliveryAddress.latitude":"must be between -90 and 90","deliveryAddress.longitude":"is required with the other coordinate"}'::jsonb,
          'and every bad field of the address');
SELECT is(pg_temp.refusal($$SELECT * FROM pg_temp.place('carol', 'r9', '{}')$$)->'fields',
          '{"storeId":"is required","deliveryType":"is required"}'::jsonb, 'storeId and deliveryType are required');
SELECT is((SELECT count(*)::int FROM multistore.idempotency_keys WHERE user_id = pg_temp.uid('carol')::uuid AND key = 'r9'), 0,
          'validation errors leave no key');

------------------------------------------------------------------------------
-- the state machine
------------------------------------------------------------------------------
-- what a manager may ask for, from each status (payments and the expiry job have their own ways)
CREATE TEMP TABLE statuses (n int, s text);
INSERT INTO statuses VALUES (1, 'pending_payment'), (2, 'confirmed'), (3, 'preparing'), (4, 'ready_for_pickup'),
                            (5, 'out_for_delivery'), (6, 'completed'), (7, 'delivered'), (8, 'cancelled'), (9, 'expired');
CREATE TEMP TABLE manager_moves (from_status text, to_status text, delivery text);
INSERT INTO manager_moves VALUES ('pending_payment', 'cancelled', NULL), ('confirmed', 'preparing', NULL),
                                 ('confirmed', 'cancelled', NULL), ('preparing', 'ready_for_pickup', 'pickup'),
                                 ('preparing', 'out_for_delivery', 'delivery'), ('preparing', 'cancelled', NULL),
                                 ('ready_for_pickup', 'completed', NULL), ('out_for_delivery', 'delivered', NULL);
-- forbidden_from(order): every status a manager may not move the order to
-- from where it is now is 409 invalid_transition naming the current status;
-- then one test that none of them changed the order or its history
CREATE FUNCTION pg_temp.forbidden_from(o uuid) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	dt text;
	changes bigint;
	target text;
BEGIN
	SELECT status, delivery_type INTO st, dt FROM multistore.orders WHERE id = o;
	SELECT count(*) INTO changes FROM multistore.order_status_history WHERE order_id = o;
	FOR target IN
		SELECT s FROM statuses
		 WHERE NOT EXISTS (SELECT 1 FROM manager_moves m
		                    WHERE m.from_status = st AND m.to_status = s AND coalesce(m.delivery, dt) = dt)
		 ORDER BY n
	LOOP
		RETURN NEXT is(pg_temp.refusal(format('SELECT multistore.order_set_status(%L, %L, %L)', pg_temp.s('manager'), o,
		                                      jsonb_build_object('status', target))),
		               jsonb_build_object('sqlstate', 'M4409', 'code', 'invalid_transition', 'status', st, 'requested', target),
		               format('%s order %s -> %s: 409 invalid_transition naming %s', dt, st, target, st));
	END LOOP;
	RETURN NEXT is((SELECT status || ', ' || (SELECT count(*) FROM multistore.order_status_history WHERE order_id = o)
	                  FROM multistore.orders WHERE id = o),
	               st || ', ' || changes, format('the refused moves left the %s order %s with its history', dt, st));
END $$;
-- the owner may cancel only while pending_payment or confirmed
CREATE FUNCTION pg_temp.owner_cannot_cancel(who text, o uuid) RETURNS text LANGUAGE sql AS $$
	SELECT is(pg_temp.refusal(format('SELECT multistore.order_cancel(%L, %L)', pg_temp.s(who), o)),
	          jsonb_build_object('sqlstate', 'M4409', 'code', 'invalid_transition', 'status', pg_temp.status(o), 'requested', 'cancelled'),
	          format('the owner may not cancel an order that is %s', pg_temp.status(o)))
$$;

-- pickup: pending_payment -> confirmed -> preparing -> ready_for_pickup -> completed
CREATE TEMP TABLE oc AS SELECT pg_temp.order_for('alice', pg_temp.pickup(), 't_x3', '3') AS id;
SELECT pg_temp.forbidden_from((SELECT id FROM oc));
SELECT is(pg_temp.pay((SELECT id FROM oc)), 'confirmed', 'pending_payment -> confirmed by a payment');
SELECT is((SELECT jsonb_build_array(o->'status', o->>'paidAt' IS NOT NULL) FROM pg_temp.get('alice', (SELECT id FROM oc)) o),
          '["confirmed", true]'::jsonb, 'the order is confirmed and paid');
SELECT is(pg_temp.stock('t_o', 't_x3') - 'buckets', '{"onHand":7,"held":0}'::jsonb, 'the holds became a sale: on hand 10 -> 7, nothing held');
SELECT is(pg_temp.reservation_status((SELECT id FROM oc)), 'consumed', 'its reservation is consumed');
SELECT pg_temp.forbidden_from((SELECT id FROM oc));
SELECT is(pg_temp.move('manager', (SELECT id FROM oc), 'preparing', 'packing')->>'status', 'preparing', 'confirmed -> preparing by the store''s manager');
SELECT pg_temp.forbidden_from((SELECT id FROM oc));
SELECT pg_temp.owner_cannot_cancel('alice', (SELECT id FROM oc));
SELECT is(pg_temp.move('manager', (SELECT id FROM oc), 'ready_for_pickup')->>'status', 'ready_for_pickup', 'preparing -> ready_for_pickup for a pickup order');
SELECT pg_temp.forbidden_from((SELECT id FROM oc));
SELECT pg_temp.owner_cannot_cancel('alice', (SELECT id FROM oc));
SELECT is(pg_temp.move('admin', (SELECT id FROM oc), 'completed', 'handed over')->>'status', 'completed', 'ready_for_pickup -> completed (by an admin)');
SELECT pg_temp.forbidden_from((SELECT id FROM oc));
SELECT pg_temp.owner_cannot_cancel('alice', (SELECT id FROM oc));
SELECT is(pg_temp.stock('t_o', 't_x3') - 'buckets', '{"onHand":7,"held":0}'::jsonb, 'preparing and handing over do not touch stock');
SELECT is((SELECT jsonb_agg(h - 'at') FROM jsonb_array_elements(pg_temp.get('alice', (SELECT id FROM oc))->'history') h),
          jsonb_build_array(
              jsonb_build_object('from', null, 'to', 'pending_payment', 'actor', 'customer', 'actorId', pg_temp.uid('alice'), 'note', null),
              jsonb_build_object('from', 'pending_payment', 'to', 'confirmed', 'actor', 'payment', 'actorId', null,
                                 'note', (SELECT 'payment ' || id FROM multistore.payment_events WHERE order_id = (SELECT id FROM oc))),
              jsonb_build_object('from', 'confirmed', 'to', 'preparing', 'actor', 'manager', 'actorId', pg_temp.uid('manager'), 'note', 'packing'),
              jsonb_build_object('from', 'preparing', 'to', 'ready_for_pickup', 'actor', 'manager', 'actorId', pg_temp.uid('manager'), 'note', null),
              jsonb_build_object('from', 'ready_for_pickup', 'to', 'completed', 'actor', 'manager', 'actorId', pg_temp.uid('admin'), 'note', 'handed over')),
          'order_get returns the history: from, to, who (actor and id) and the note of every change, in order');
SELECT ok((SELECT bool_and((h->>'at')::timestamptz = date_trunc('milliseconds', now())) FROM jsonb_array_elements(pg_temp.get('alice', (SELECT id FROM oc))->'history') h),
          'and when each happened');

-- delivery: pending_payment -> confirmed -> preparing -> out_for_delivery -> delivered
CREATE TEMP TABLE od AS SELECT pg_temp.order_for('alice', pg_temp.delivery(), 't_x4', '3') AS id;
SELECT pg_temp.forbidden_from((SELECT id FROM od));
SELECT is(pg_temp.pay((SELECT id FROM od)), 'confirmed', 'a delivery order is confirmed by its payment');
SELECT pg_temp.forbidden_from((SELECT id FROM od));
SELECT is(pg_temp.move('manager', (SELECT id FROM od), 'preparing')->>'status', 'preparing', 'confirmed -> preparing');
SELECT pg_temp.forbidden_from((SELECT id FROM od));
SELECT is(pg_temp.move('manager', (SELECT id FROM od), 'out_for_delivery', 'driver Sam')->>'status', 'out_for_delivery',
          'preparing -> out_for_delivery for a delivery order');
SELECT pg_temp.forbidden_from((SELECT id FROM od));
SELECT pg_temp.owner_cannot_cancel('alice', (SELECT id FROM od));
SELECT is(pg_temp.move('manager', (SELECT id FROM od), 'delivered')->>'status', 'delivered', 'out_for_delivery -> delivered');
SELECT pg_temp.forbidden_from((SELECT id FROM od));
SELECT pg_temp.owner_cannot_cancel('alice', (SELECT id FROM od));
SELECT is(pg_temp.last_change((SELECT id FROM od)),
          jsonb_build_object('from', 'out_for_delivery', 'to', 'delivered', 'actor', 'manager', 'actorId', pg_temp.uid('manager'), 'note', null),
          'each change is in the history');
SELECT is(pg_temp.stock('t_o', 't_x4') - 'buckets', '{"onHand":7,"held":0}'::jsonb, 'a delivered order stays sold');

-- pending_payment -> cancelled by the owner: the hold ends
CREATE TEMP TABLE oa AS SELECT pg_temp.order_for('alice', pg_temp.pickup(), 't_x1', '4') AS id;
SELECT is(pg_temp.stock('t_o', 't_x1') - 'buckets', '{"onHand":10,"held":4}'::jsonb, 'an unpaid order holds its stock');
SELECT is(pg_temp.cancel('alice', (SELECT id FROM oa))->>'status', 'cancelled', 'pending_payment -> cancelled by its owner');
SELECT is(pg_temp.stock('t_o', 't_x1') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'cancelling before payment releases the hold');
SELECT is(pg_temp.reservation_status((SELECT id FROM oa)), 'released', 'its reservation is released');
SELECT is(pg_temp.last_change((SELECT id FROM oa)),
          jsonb_build_object('from', 'pending_payment', 'to', 'cancelled', 'actor', 'customer', 'actorId', pg_temp.uid('alice'), 'note', null),
          'the history says the customer cancelled it');
SELECT pg_temp.forbidden_from((SELECT id FROM oa));
SELECT pg_temp.owner_cannot_cancel('alice', (SELECT id FROM oa));
SELECT is(pg_temp.refusal(format('SELECT pg_temp.cancel(''manager'', %L)', (SELECT id FROM oa))),
          '{"sqlstate":"M4409","code":"invalid_transition","status":"cancelled","requested":"cancelled"}'::jsonb,
          'nor may a manager cancel it twice');

-- confirmed -> cancelled by the owner: the sale is undone, units go back on hand
CREATE TEMP TABLE ob AS SELECT pg_temp.order_for('alice', pg_temp.pickup(), 't_x2', '4') AS id;
SELECT is(pg_temp.pay((SELECT id FROM ob)), 'confirmed', 'paid');
SELECT is(pg_temp.stock('t_o', 't_x2') - 'buckets', '{"onHand":6,"held":0}'::jsonb, 'sold: on hand 10 -> 6');
SELECT is(pg_temp.cancel('alice', (SELECT id FROM ob))->>'status', 'cancelled', 'confirmed -> cancelled by its owner');
SELECT is(pg_temp.stock('t_o', 't_x2') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'cancelling after confirmation restocks: on hand back to 10');
SELECT is(pg_temp.reservation_status((SELECT id FROM ob)), 'consumed', 'the reservation stays what it was, a sale');

-- pending_payment -> cancelled by a manager (order_cancel); by an admin (set status)
CREATE TEMP TABLE oe AS SELECT pg_temp.order_for('bob', pg_temp.pickup(), 't_x5', '2') AS id;
SELECT is(pg_temp.cancel('manager', (SELECT id FROM oe))->>'status', 'cancelled', 'pending_payment -> cancelled by the store''s manager');
SELECT is(pg_temp.last_change((SELECT id FROM oe)),
          jsonb_build_object('from', 'pending_payment', 'to', 'cancelled', 'actor', 'manager', 'actorId', pg_temp.uid('manager'), 'note', null),
          'recorded as the manager''s doing');
SELECT is(pg_temp.stock('t_o', 't_x5') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'and the hold is released');
CREATE TEMP TABLE oh AS SELECT pg_temp.order_for('bob', pg_temp.pickup(), 't_x5', '2') AS id;
SELECT is(pg_temp.move('admin', (SELECT id FROM oh), 'cancelled', 'customer called')->>'status', 'cancelled',
          'pending_payment -> cancelled through a status change by an admin');
SELECT is(pg_temp.stock('t_o', 't_x5') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'releasing the hold as well');

-- confirmed -> cancelled by a manager; preparing -> cancelled by a manager: both restock
CREATE TEMP TABLE of1 AS SELECT pg_temp.order_for('bob', pg_temp.pickup(), 't_x6', '3') AS id;
SELECT pg_temp.pay((SELECT id FROM of1));
SELECT is(pg_temp.cancel('manager', (SELECT id FROM of1))->>'status', 'cancelled', 'confirmed -> cancelled by a manager');
SELECT is(pg_temp.stock('t_o', 't_x6') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'restocks');
CREATE TEMP TABLE of2 AS SELECT pg_temp.order_for('bob', pg_temp.delivery(), 't_x6', '5') AS id;
SELECT pg_temp.pay((SELECT id FROM of2));
SELECT pg_temp.move('manager', (SELECT id FROM of2), 'preparing');
SELECT is(pg_temp.stock('t_o', 't_x6') - 'buckets', '{"onHand":5,"held":0}'::jsonb, 'a paid order in preparation is sold');
SELECT is(pg_temp.move('manager', (SELECT id FROM of2), 'cancelled', 'out of bags')->>'status', 'cancelled', 'preparing -> cancelled by a manager');
SELECT is(pg_temp.stock('t_o', 't_x6') - 'buckets', '{"onHand":10,"held":0}'::jsonb, 'restocks the 5 units');

-- pending_payment -> expired by the job, once the payment deadline has passed
CREATE TEMP TABLE og AS SELECT pg_temp.order_for('bob', pg_temp.pickup(), 't_x7', '4') AS id;
CREATE TEMP TABLE ogi AS SELECT pg_temp.order_for('bob', pg_temp.pickup(), 't_x7', '1') AS id;
CREATE TEMP TABLE ok_ AS SELECT pg_temp.order_for('bob', pg_temp.pickup(), 't_x7', '2') AS id;
SELECT is(pg_temp.stock('t_o', 't_x7') - 'buckets', '{"onHand":10,"held":7}'::jsonb, 'three unpaid orders hold 4 + 1 + 2');
UPDATE multistore.orders SET payment_due_at = now() - interval '1 second' WHERE id IN ((SELECT id FROM og), (SELECT id FROM ogi));
UPDATE multistore.reservations SET expires_at = now() - interval '1 second'
 WHERE id IN (SELECT reservation_id FROM multistore.orders WHERE id IN ((SELECT id FROM og), (SELECT id FROM ogi)));
UPDATE multistore.reservation_holds SET expires_at = now() - interval '1 second'
 WHERE reservation_id IN (SELECT reservation_id FROM multistore.orders WHERE id IN ((SELECT id FROM og), (SELECT id FROM ogi)));
-- the reservation sweep may get to one of them first
SELECT multistore.reservations_expire();
UPDATE multistore.orders SET payment_due_at = now() - interval '1 second' WHERE id = (SELECT id FROM og);
SELECT is(pg_temp.status((SELECT id FROM ogi)), 'pending_payment', 'the reservation sweep leaves the order to the order job');
SELECT cmp_ok(multistore.orders_expire(), '>=', 2::bigint, 'orders_expire expires unpaid orders past their deadline');
SELECT is(pg_temp.status((SELECT id FROM og)), 'expired', 'pending_payment -> expired');
SELECT is(pg_temp.status((SELECT id FROM ogi)), 'expired', 'also when the reservation sweep came first');
SELECT is(pg_temp.status((SELECT id FROM ok_)), 'pending_payment', 'an order still within its deadline is left alone');
SELECT is(pg_temp.stock('t_o', 't_x7') - 'buckets', '{"onHand":10,"held":2}'::jsonb, 'expiry releases the holds; the live order keeps its 2');
SELECT is(pg_temp.reservation_status((SELECT id FROM og)), 'expired', 'the order''s reservation is expired too');
SELECT is(pg_temp.last_change((SELECT id FROM og)),
          '{"from":"pending_payment","to":"expired","actor":"system","actorId":null,"note":"payment deadline passed"}'::jsonb,
          'the history names the job');
SELECT is(multistore.orders_expire(), 0::bigint, 'a second run finds nothing');
SELECT pg_temp.forbidden_from((SELECT id FROM og));
SELECT pg_temp.owner_cannot_cancel('bob', (SELECT id FROM og));

-- who may do what
SELECT is(pg_temp.refusal(format('SELECT pg_temp.move(''alice'', %L, ''cancelled'')', (SELECT id FROM ok_))),
          '{"sqlstate":"M4404","code":"not_found","resource":"order"}'::jsonb, 'another customer may not change an order: not_found');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.cancel(''alice'', %L)', (SELECT id FROM ok_))),
          '{"sqlstate":"M4404","code":"not_found","resource":"order"}'::jsonb, 'nor cancel it: not_found');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.get(''alice'', %L)', (SELECT id FROM ok_))),
          '{"sqlstate":"M4404","code":"not_found","resource":"order"}'::jsonb, 'nor see it: not_found');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.move(''manager2'', %L, ''cancelled'')', (SELECT id FROM ok_))),
          '{"sqlstate":"M4404","code":"not_found","resource":"order"}'::jsonb, 'a manager of another store may not change it');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.cancel(''manager2'', %L)', (SELECT id FROM ok_))),
          '{"sqlstate":"M4404","code":"not_found","resource":"order"}'::jsonb, 'nor cancel it');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.get(''manager2'', %L)', (SELECT id FROM ok_))),
          '{"sqlstate":"M4404","code":"not_found","resource":"order"}'::jsonb, 'nor see it');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.move(''bob'', %L, ''cancelled'')', (SELECT id FROM ok_))),
          '{"sqlstate":"M4403","code":"forbidden"}'::jsonb, 'its owner may not set its status: 403 forbidden');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.get(''bob'', gen_random_uuid())')),
          '{"sqlstate":"M4404","code":"not_found","resource":"order"}'::jsonb, 'an unknown order: not_found');
SELECT is(pg_temp.status((SELECT id FROM ok_)), 'pending_payment', 'none of that changed the order');
SELECT is(pg_temp.get('bob', (SELECT id FROM ok_))->>'id', (SELECT id::text FROM ok_), 'its owner sees it');
SELECT is(pg_temp.get('manager', (SELECT id FROM ok_))->>'id', (SELECT id::text FROM ok_), 'a manager of its store sees it');
SELECT is(pg_temp.get('admin', (SELECT id FROM ok_))->>'id', (SELECT id::text FROM ok_), 'an admin sees it');
SELECT is(pg_temp.refusal(format('SELECT pg_temp.move(''manager'', %L, ''shipped'')', (SELECT id FROM ok_))),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"status":"must be an order status such as \"preparing\""}}'::jsonb,
          'a status that does not exist is a bad field, not a transition');
SELECT is(pg_temp.refusal(format('SELECT multistore.order_set_status(%L, %L, ''{"state":"cancelled"}'')', pg_temp.s('manager'), (SELECT id FROM ok_))),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"state":"is not a known field","status":"is required"}}'::jsonb,
          'a status change needs {status, note?}');

------------------------------------------------------------------------------
-- the purge job: keys past 24 hours, carts untouched for 30 days
------------------------------------------------------------------------------
UPDATE multistore.idempotency_keys SET created_at = now() - interval '24 hours 1 second'
 WHERE user_id = pg_temp.uid('carol')::uuid AND key = 'key-oos';
UPDATE multistore.carts SET updated_at = now() - interval '30 days 1 second' WHERE user_id = pg_temp.uid('carol')::uuid;
SELECT cmp_ok((multistore.maintenance_purge()->>'idempotencyKeys')::int, '>=', 1, 'maintenance_purge removes idempotency keys past 24 hours');
SELECT is((SELECT array_agg(key ORDER BY key) FROM multistore.idempotency_keys WHERE user_id = pg_temp.uid('carol')::uuid AND key LIKE 'key-oos%'),
          ARRAY['key-oos-2'], 'the old key is gone, the recent one stays');
SELECT is((SELECT count(*)::int FROM multistore.carts WHERE user_id IN (pg_temp.uid('carol')::uuid, pg_temp.uid('bob')::uuid)), 1,
          'a cart untouched for 30 days is dropped, a recent one stays');
SELECT is((SELECT count(*)::int FROM multistore.orders WHERE user_id = pg_temp.uid('carol')::uuid), 2, 'orders are kept');

------------------------------------------------------------------------------
-- lists
------------------------------------------------------------------------------
-- alice's orders at distinct times, two of them at the same instant
UPDATE multistore.orders o SET created_at = now() - make_interval(mins => least(r.n, 4)::int)
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM multistore.orders WHERE user_id = pg_temp.uid('alice')::uuid) r
 WHERE o.id = r.id;
CREATE TEMP TABLE alice_expected AS
SELECT array_agg(id::text ORDER BY created_at DESC, id DESC) AS ids FROM multistore.orders WHERE user_id = pg_temp.uid('alice')::uuid;
SELECT is((SELECT array_length(ids, 1) FROM alice_expected), 6, 'alice has placed 6 orders');
CREATE TEMP TABLE alice_all AS SELECT multistore.orders_list(pg_temp.s('alice'), NULL, 100)::jsonb AS l;
SELECT is((SELECT array_agg(o->>'id' ORDER BY n) FROM alice_all, jsonb_array_elements(l->'orders') WITH ORDINALITY AS e(o, n)),
          (SELECT ids FROM alice_expected), 'orders_list: the caller''s orders, newest first');
SELECT is((SELECT l->'nextCursor' FROM alice_all), 'null'::jsonb, 'on one page, no next cursor');
SELECT is((SELECT (o - 'id' - 'createdAt') FROM alice_all, jsonb_array_elements(l->'orders') o WHERE o->>'id' = (SELECT id::text FROM oc)),
          '{"storeId":"t_o","status":"completed","deliveryType":"pickup","total":"30.00","currency":"USD","itemCount":3}'::jsonb,
          'each with its store, status, delivery type, total, currency and number of items');
CREATE FUNCTION pg_temp.pages(who text, size int) RETURNS TABLE (page int, ids text[]) LANGUAGE plpgsql AS $$
DECLARE
	l jsonb;
	cursor text := NULL;
BEGIN
	page := 0;
	LOOP
		l := multistore.orders_list(pg_temp.s(who), cursor, size)::jsonb;
		page := page + 1;
		ids := ARRAY(SELECT o->>'id' FROM jsonb_array_elements(l->'orders') WITH ORDINALITY AS e(o, n) ORDER BY n);
		RETURN NEXT;
		cursor := l->>'nextCursor';
		EXIT WHEN cursor IS NULL OR page > 10;
	END LOOP;
END $$;
SELECT is((SELECT array_agg(array_length(ids, 1) ORDER BY page) FROM pg_temp.pages('alice', 4)), ARRAY[4, 2],
          'pages of 4: 4 then 2, the last without a cursor');
SELECT is((SELECT array_agg(i ORDER BY page, n) FROM pg_temp.pages('alice', 4) p, unnest(p.ids) WITH ORDINALITY AS u(i, n)),
          (SELECT ids FROM alice_expected), 'following the cursor gives every order once, newest first');
SELECT is((SELECT array_agg(i ORDER BY page, n) FROM pg_temp.pages('alice', 1) p, unnest(p.ids) WITH ORDINALITY AS u(i, n)),
          (SELECT ids FROM alice_expected), 'also one at a time, across orders placed at the same instant');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements((multistore.orders_list(pg_temp.s('bob'))::jsonb)->'orders') o
            WHERE o->>'id' = ANY ((SELECT ids FROM alice_expected)::text[])), 0, 'another customer''s list has none of them');
SELECT is(pg_temp.refusal($$SELECT multistore.orders_list(pg_temp.s('alice'), 'nonsense')$$)->'fields',
          '{"cursor":"is not a cursor this API gave out"}'::jsonb, 'a made-up cursor');
SELECT is(pg_temp.refusal($$SELECT multistore.orders_list(pg_temp.s('alice'), '1.' || repeat('z', 36))$$),
          '{"sqlstate":"M4400","code":"validation_failed","fields":{"cursor":"is not a cursor this API gave out"}}'::jsonb,
          'a cursor of the right length whose id is not a UUID is a validation error too');
SELECT is(pg_temp.refusal($$SELECT multistore.orders_list(pg_temp.s('alice'), '99999999999999999999.' || gen_random_uuid())$$)->'fields',
          '{"cursor":"is not a cursor this API gave out"}'::jsonb, 'a cursor whose time overflows is refused, not wrapped');
SELECT is(pg_temp.refusal($$SELECT multistore.orders_list(pg_temp.s('alice'), NULL, 101)$$)->'fields',
          '{"limit":"must be between 1 and 100"}'::jsonb, 'a page of more than 100');
-- a store's orders
CREATE FUNCTION pg_temp.store_list(who text, store text, status text DEFAULT NULL) RETURNS text[] LANGUAGE sql AS
$$ SELECT ARRAY(SELECT o->>'id' FROM jsonb_array_elements((multistore.store_orders(pg_temp.s(who), store, status, NULL, 100)::jsonb)->'orders')
                WITH ORDINALITY AS e(o, n) ORDER BY n) $$;
SELECT is(pg_temp.store_list('manager', 't_o'),
          ARRAY(SELECT id::text FROM multistore.orders WHERE store_id = 't_o' ORDER BY created_at DESC, id DESC),
          'store_orders: all of the store''s orders, newest first, for its manager');
SELECT is(pg_temp.store_list('manager', 't_o', 'completed'), ARRAY[(SELECT id::text FROM oc)], 'filtered by status: completed');
SELECT is(pg_temp.store_list('admin', 't_o', 'delivered'), ARRAY[(SELECT id::text FROM od)], 'delivered, for an admin');
SELECT is(pg_temp.store_list('manager', 't_o', 'cancelled'),
          ARRAY(SELECT id::text FROM multistore.orders WHERE store_id = 't_o' AND status = 'cancelled' ORDER BY created_at DESC, id DESC),
          'cancelled');
SELECT is(cardinality(pg_temp.store_list('manager', 't_o', 'cancelled')), 6, 'the six cancelled orders');
SELECT is(pg_temp.store_list('manager2', 't_o2'), '{}'::text[], 'another store''s list is its own (empty)');
SELECT is(pg_temp.refusal($$SELECT pg_temp.store_list('manager2', 't_o')$$), '{"sqlstate":"M4403","code":"forbidden"}'::jsonb,
          'a manager of another store is forbidden');
SELECT is(pg_temp.refusal($$SELECT pg_temp.store_list('alice', 't_o')$$), '{"sqlstate":"M4403","code":"forbidden"}'::jsonb,
          'so is a customer');
SELECT is(pg_temp.refusal($$SELECT pg_temp.store_list('manager', 't_o', 'lost')$$)->'fields', '{"status":"is not an order status"}'::jsonb,
          'an unknown status filter');
SELECT is(pg_temp.refusal($$SELECT pg_temp.store_list('admin', 't_nowhere')$$), '{"sqlstate":"M4404","code":"not_found","resource":"store"}'::jsonb,
          'an unknown store');

SELECT * FROM finish();
ROLLBACK;
