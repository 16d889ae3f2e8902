-- inventory_set: buckets, the spread, stock below what is held, who may.
\ir helpers.psql
BEGIN;
SELECT plan(18);

SELECT pg_temp.add_store('t_inv', -60, 0);
SELECT pg_temp.add_store('t_other', -60, 1);
SELECT pg_temp.add_product('t_p1');
SELECT pg_temp.add_product('t_p2');
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('customer') AS customer,
                                 pg_temp.session_for('store_manager') AS manager;
INSERT INTO multistore.store_managers (store_id, user_id)
SELECT 't_inv', user_id FROM multistore.sessions WHERE id = (SELECT manager FROM sess);

SELECT is(multistore.inventory_set((SELECT admin FROM sess), 't_inv', 't_p1', '{"onHand":100}')::jsonb,
          '{"stock":{"storeId":"t_inv","productId":"t_p1","onHand":100,"held":0,"available":100}}'::jsonb,
          'setting stock returns the level');
SELECT is(pg_temp.stock('t_inv', 't_p1'), '{"onHand":100,"held":0,"buckets":32}'::jsonb, 'in 32 buckets by default');
SELECT is((SELECT max(on_hand) - min(on_hand) FROM multistore.inventory WHERE store_id = 't_inv' AND product_id = 't_p1'),
          1, 'spread evenly');
SET LOCAL multistore.inventory_buckets = 4;
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_inv', 't_p2', '{"onHand":3}');
SELECT is(pg_temp.stock('t_inv', 't_p2'), '{"onHand":3,"held":0,"buckets":4}'::jsonb, 'multistore.inventory_buckets sets the split of new stock');

-- holds, then stock set below them
SELECT multistore.reservation_create((SELECT admin FROM sess), 't_inv', pg_temp.items('t_p1', '40'));
SELECT is((multistore.inventory_set((SELECT admin FROM sess), 't_inv', 't_p1', '{"onHand":25}')::jsonb)->'stock'->'available',
          '0'::jsonb, 'stock below what is held leaves available at 0, not negative');
SELECT is(pg_temp.stock('t_inv', 't_p1'), '{"onHand":25,"held":40,"buckets":32}'::jsonb, 'the holds stay');
SELECT is((multistore.store_availability('t_inv', '{t_p1}')->'products'->0->>'available')::int, 0, 'availability says 0');
SELECT is((SELECT count(*)::int FROM multistore.inventory WHERE on_hand < 0 OR held < 0), 0, 'no bucket is negative');
SELECT is((multistore.inventory_set((SELECT admin FROM sess), 't_inv', 't_p1', '{"onHand":50}')::jsonb)->'stock'->'available',
          '10'::jsonb, 'restocking makes it available again');
SELECT is((SELECT count(*)::int FROM multistore.inventory WHERE store_id = 't_inv' AND product_id = 't_p1' AND on_hand < held),
          0, 'every bucket covers what it holds once the total does');

-- who may, and bad input
SELECT ok(multistore.inventory_set((SELECT manager FROM sess), 't_inv', 't_p1', '{"onHand":5}')::jsonb ? 'stock', 'a manager of the store may');
SELECT pg_temp.throws_code($$SELECT multistore.inventory_set((SELECT manager FROM sess), 't_other', 't_p1', '{"onHand":5}')$$,
                           'M4403', 'forbidden', 'a manager of another store may not');
SELECT pg_temp.throws_code($$SELECT multistore.inventory_set((SELECT customer FROM sess), 't_inv', 't_p1', '{"onHand":5}')$$,
                           'M4403', 'forbidden', 'a customer may not');
SELECT pg_temp.throws_code($$SELECT multistore.inventory_set((SELECT admin FROM sess), 'nope', 't_p1', '{"onHand":5}')$$,
                           'M4404', 'not_found', 'an unknown store');
SELECT pg_temp.throws_code($$SELECT multistore.inventory_set((SELECT admin FROM sess), 't_inv', 'nope', '{"onHand":5}')$$,
                           'M4404', 'not_found', 'an unknown product');
SELECT is(pg_temp.error_detail($$SELECT multistore.inventory_set((SELECT admin FROM sess), 't_inv', 't_p1', '{"onHand":-1}')$$)::jsonb->'fields',
          '{"onHand":"must be a whole number from 0 to 1000000000"}', 'a negative count');
SELECT is(pg_temp.error_detail($$SELECT multistore.inventory_set((SELECT admin FROM sess), 't_inv', 't_p1', '{"onHand":1.5}')$$)::jsonb->'fields',
          '{"onHand":"must be a whole number from 0 to 1000000000"}', 'a fraction');
SELECT is(pg_temp.error_detail($$SELECT multistore.inventory_set((SELECT admin FROM sess), 't_inv', 't_p1', '{"on_hand":5}')$$)::jsonb->'fields',
          '{"on_hand":"is not a known field","onHand":"is required"}', 'a misspelt field');

SELECT * FROM finish();
ROLLBACK;
