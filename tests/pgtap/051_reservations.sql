-- Reservations: all or nothing, bundles, gathering from buckets, release,
-- consume, extend, overdue holds, the sweep, who may, bad input.
\ir helpers.psql
BEGIN;
SELECT plan(45);

SELECT pg_temp.add_store('t_res', -60, 0);
SELECT pg_temp.add_store('t_res2', -60.001, 0);
SELECT pg_temp.add_product('t_a');
SELECT pg_temp.add_product('t_b');
SELECT pg_temp.add_product('t_c');
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('customer') AS customer,
                                 pg_temp.session_for('store_manager') AS manager;
INSERT INTO multistore.store_managers (store_id, user_id)
SELECT 't_res2', user_id FROM multistore.sessions WHERE id = (SELECT manager FROM sess);
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_res', 't_a', '{"onHand":16}');
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_res', 't_b', '{"onHand":5}');
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_res2', 't_a', '{"onHand":100}');

CREATE FUNCTION pg_temp.reserve(body jsonb, store text DEFAULT 't_res') RETURNS jsonb LANGUAGE sql AS
$$ SELECT (multistore.reservation_create((SELECT admin FROM sess), store, body)::jsonb)->'reservation' $$;
CREATE FUNCTION pg_temp.available(product text, store text DEFAULT 't_res') RETURNS int LANGUAGE sql AS
$$ SELECT (multistore.store_availability(store, ARRAY[product])->'products'->0->>'available')::int $$;

-- create
CREATE TEMP TABLE r1 AS SELECT pg_temp.reserve(pg_temp.items('t_b', '2', 't_a', '3')) AS r;
SELECT is((SELECT r->>'status' FROM r1), 'active', 'a reservation starts active');
SELECT is((SELECT r->'items' FROM r1), '[{"productId":"t_a","quantity":3},{"productId":"t_b","quantity":2}]'::jsonb,
          'with its lines, by product');
SELECT is((SELECT r->>'ownerType' FROM r1), 'external', 'held for an external owner (point of sale)');
SELECT ok((SELECT (r->>'expiresAt')::timestamptz - (r->>'createdAt')::timestamptz FROM r1) = interval '15 minutes',
          'for multistore.reservation_ttl, 15 minutes by default');
SELECT is(pg_temp.available('t_a'), 13, 'available = on hand - held');
SELECT is(pg_temp.available('t_b'), 3, 'for every line');

-- all or nothing, naming every short line
SELECT is(pg_temp.error_detail($$SELECT pg_temp.reserve(pg_temp.items('t_a', '1', 't_b', '4', 't_c', '1'))$$)::jsonb,
          '{"code":"out_of_stock","items":[{"productId":"t_b","requested":4,"available":3},{"productId":"t_c","requested":1,"available":0}]}'::jsonb,
          'out_of_stock names every short line with requested and available');
SELECT is(pg_temp.available('t_a'), 13, 'and the line that fitted was not held (all or nothing)');

-- a bundle: the same product twice is summed before the check
SELECT is(pg_temp.error_detail($$SELECT pg_temp.reserve(pg_temp.items('t_b', '2', 't_b', '2'))$$)::jsonb->'items',
          '[{"productId":"t_b","requested":4,"available":3}]'::jsonb, 'a bundle of 2 + 2 is 4 against 3 available');
SELECT is(pg_temp.reserve(pg_temp.items('t_b', '1', 't_b', '2'))->'items', '[{"productId":"t_b","quantity":3}]'::jsonb,
          'a bundle of 1 + 2 fits 3 and is one line');
SELECT is(pg_temp.available('t_b'), 0, 't_b is now all held');

-- gathering: 13 left of t_a are spread over 16 buckets, at most 1 each
SELECT is(pg_temp.reserve(pg_temp.items('t_a', '13'))->'items'->0->>'quantity', '13', 'a hold gathered from many buckets');
SELECT is(pg_temp.available('t_a'), 0, 'leaves nothing');
SELECT pg_temp.throws_code($$SELECT pg_temp.reserve(pg_temp.items('t_a', '1'))$$, 'M4409', 'out_of_stock', 'the next unit is refused');
SELECT is((SELECT count(*)::int FROM multistore.inventory WHERE store_id = 't_res' AND (on_hand < held OR held < 0)),
          0, 'every bucket still covers what it holds');

-- release
SELECT is((multistore.reservation_release((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r1))::jsonb)->'reservation'->>'status',
          'released', 'release');
SELECT is(pg_temp.available('t_a'), 3, 'held stock returns');
SELECT is((multistore.reservation_release((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r1))::jsonb)->'reservation'->>'status',
          'released', 'releasing twice changes nothing');
SELECT pg_temp.throws_code($$SELECT multistore.reservation_consume((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r1))$$,
                           'M4409', 'invalid_transition', 'a released reservation cannot be consumed');

-- consume: a sale
CREATE TEMP TABLE r2 AS SELECT pg_temp.reserve(pg_temp.items('t_a', '2')) AS r;
SELECT is((multistore.reservation_consume((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r2))::jsonb)->'reservation'->>'status',
          'consumed', 'consume');
SELECT is(pg_temp.stock('t_res', 't_a')->'onHand', '14'::jsonb, 'on hand goes down by what was sold');
SELECT is(pg_temp.available('t_a'), 1, 'available does not change: the units were already held');
SELECT is((multistore.reservation_consume((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r2))::jsonb)->'reservation'->>'status',
          'consumed', 'consuming twice changes nothing');
SELECT pg_temp.throws_code($$SELECT multistore.reservation_release((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r2))$$,
                           'M4409', 'invalid_transition', 'a sale cannot be released');
SELECT is(pg_temp.error_detail($$SELECT multistore.reservation_extend((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r2), 60)$$)::jsonb,
          '{"code":"invalid_transition","status":"consumed"}'::jsonb, 'nor extended; the error names the status');

-- extend
CREATE TEMP TABLE r3 AS SELECT pg_temp.reserve(pg_temp.items('t_a', '1') || '{"ttlSeconds":60}') AS r;
SELECT ok((SELECT abs(extract(epoch FROM (r->>'expiresAt')::timestamptz - now()) - 60) < 0.001 FROM r3), 'ttlSeconds sets the expiry');
SELECT ok(abs(extract(epoch FROM ((multistore.reservation_extend((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r3), 600)::jsonb)->'reservation'->>'expiresAt')::timestamptz
          - now()) - 600) < 0.001, 'extend sets a new expiry');
SELECT is((SELECT count(*)::int FROM multistore.reservation_holds WHERE reservation_id = (SELECT (r->>'id')::uuid FROM r3)
            AND expires_at = now() + interval '600 seconds'), 1, 'on its holds too');

-- overdue: expired at once for every reader, written down by the next writer or the sweep
UPDATE multistore.reservations SET expires_at = now() - interval '1 second' WHERE id = (SELECT (r->>'id')::uuid FROM r3);
UPDATE multistore.reservation_holds SET expires_at = now() - interval '1 second' WHERE reservation_id = (SELECT (r->>'id')::uuid FROM r3);
SELECT is((multistore.reservation_get((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r3))::jsonb)->'reservation'->>'status',
          'expired', 'an overdue reservation reads as expired');
SELECT is(pg_temp.available('t_a'), 1, 'and its hold counts as released for availability');
SELECT is(pg_temp.reserve(pg_temp.items('t_a', '1'))->>'status', 'active', 'an overdue hold never blocks a new reservation');
SELECT is((SELECT state FROM multistore.reservation_holds WHERE reservation_id = (SELECT (r->>'id')::uuid FROM r3)), 'expired',
          'the reservation that needed the stock wrote the overdue hold down');
SELECT pg_temp.throws_code($$SELECT multistore.reservation_consume((SELECT admin FROM sess), (SELECT (r->>'id')::uuid FROM r3))$$,
                           'M4409', 'invalid_transition', 'an expired reservation cannot be consumed');

-- the sweep
CREATE TEMP TABLE r4 AS SELECT pg_temp.reserve(pg_temp.items('t_a', '1'), 't_res2') AS r;
UPDATE multistore.reservations SET expires_at = now() - interval '1 second' WHERE id = (SELECT (r->>'id')::uuid FROM r4);
UPDATE multistore.reservation_holds SET expires_at = now() - interval '1 second' WHERE reservation_id = (SELECT (r->>'id')::uuid FROM r4);
SELECT cmp_ok(multistore.reservations_expire(), '>=', 1::bigint, 'the sweep expires overdue reservations');
SELECT is((SELECT status FROM multistore.reservations WHERE id = (SELECT (r->>'id')::uuid FROM r4)), 'expired', 'and writes the status');
SELECT is(pg_temp.stock('t_res2', 't_a')->'held', '0'::jsonb, 'and returns the held stock');
SELECT is(multistore.reservations_expire(), 0::bigint, 'a second sweep finds nothing');

-- who may
SELECT pg_temp.throws_code($$SELECT multistore.reservation_create((SELECT customer FROM sess), 't_res', pg_temp.items('t_a', '1'))$$,
                           'M4403', 'forbidden', 'a customer may not hold stock');
SELECT pg_temp.throws_code($$SELECT multistore.reservation_create((SELECT manager FROM sess), 't_res', pg_temp.items('t_a', '1'))$$,
                           'M4403', 'forbidden', 'a manager of another store may not');
SELECT pg_temp.throws_code($$SELECT multistore.reservation_get((SELECT manager FROM sess), (SELECT (r->>'id')::uuid FROM r2))$$,
                           'M4404', 'not_found', 'nor see its reservations');
SELECT ok(multistore.reservation_create((SELECT manager FROM sess), 't_res2', pg_temp.items('t_a', '1'))::jsonb ? 'reservation',
          'a manager of the store may');

-- bad input
SELECT pg_temp.throws_code($$SELECT pg_temp.reserve(pg_temp.items('t_a', '1'), 'nope')$$, 'M4404', 'not_found', 'an unknown store');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.reserve(pg_temp.items('t_a', '1', 'ghost', '1'))$$)::jsonb,
          '{"code":"not_found","resource":"product","productIds":["ghost"]}'::jsonb, 'an unknown product');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.reserve('{"items":[{"productId":"t_a","quantity":0},{"productId":"t_a","quantity":1000},{"productId":"t_a","quantity":1.5},{"productId":"bad id","quantity":1}],"ttlSeconds":0}')$$)::jsonb->'fields',
          '{"items[0].quantity":"must be a whole number from 1 to 999","items[1].quantity":"must be a whole number from 1 to 999","items[2].quantity":"must be a whole number from 1 to 999","items[3].productId":"must be a product id","ttlSeconds":"must be a whole number of seconds from 1 to 86400"}'::jsonb,
          'quantities 0, 1000 and 1.5, a bad id and a zero TTL are each named');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.reserve('{"items":[]}')$$)::jsonb->'fields', '{"items":"must hold 1 to 100 lines"}'::jsonb, 'no lines');

SELECT * FROM finish();
ROLLBACK;
