-- Nearest stores that can serve a basket: only stores where every product
-- is available now in the quantity asked.
\ir helpers.psql
BEGIN;
SELECT plan(10);

SELECT pg_temp.add_store('t_near', -60.0, 0.01);
SELECT pg_temp.add_store('t_mid', -60.0, 0.05);
SELECT pg_temp.add_store('t_far', -60.0, 0.2);
SELECT pg_temp.add_product('t_x');
SELECT pg_temp.add_product('t_y');
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin;
SELECT multistore.inventory_set(admin, 't_near', 't_x', '{"onHand":1}') FROM sess;
SELECT multistore.inventory_set(admin, 't_mid', 't_x', '{"onHand":5}') FROM sess;
SELECT multistore.inventory_set(admin, 't_mid', 't_y', '{"onHand":1}') FROM sess;
SELECT multistore.inventory_set(admin, 't_far', 't_x', '{"onHand":9}') FROM sess;
SELECT multistore.inventory_set(admin, 't_far', 't_y', '{"onHand":9}') FROM sess;

CREATE FUNCTION pg_temp.serving(basket text[]) RETURNS text[] LANGUAGE sql AS $$
	SELECT array_agg(s->>'id' ORDER BY ord)
	  FROM json_array_elements(multistore.stores_nearby(-60, 0, 50, 20, basket)->'stores') WITH ORDINALITY AS x(s, ord)
$$;

SELECT is(pg_temp.serving(NULL), ARRAY['t_near', 't_mid', 't_far'], 'without a basket: every store, nearest first');
SELECT is(pg_temp.serving('{t_x}'), ARRAY['t_near', 't_mid', 't_far'], 'one unit of t_x: all three');
SELECT is(pg_temp.serving('{t_x:2}'), ARRAY['t_mid', 't_far'], 'two units: not the nearest, which has one');
SELECT is(pg_temp.serving('{t_x:2,t_y}'), ARRAY['t_mid', 't_far'], 'two products: stores with both');
SELECT is(pg_temp.serving('{t_x:1,t_y:1,t_x:1}'), ARRAY['t_mid', 't_far'], 'a product named twice is summed (2 of t_x)');
SELECT is(pg_temp.serving('{t_y:5}'), ARRAY['t_far'], 'only the far store has 5 of t_y');
SELECT multistore.reservation_create(admin, 't_far', pg_temp.items('t_y', '5')) FROM sess;
SELECT is(pg_temp.serving('{t_y:5}'), NULL, 'held stock is not available: no store left');

SELECT is(pg_temp.error_detail($$SELECT multistore.stores_nearby(-60, 0, 50, 20, '{t_x,ghost}')$$)::jsonb,
          '{"code":"not_found","resource":"product","productIds":["ghost"]}'::jsonb, 'an unknown product is named');
SELECT pg_temp.throws_code($$SELECT multistore.stores_nearby(-60, 0, 50, 20, '{t_x:0}')$$, 'M4400', 'validation_failed', 'a zero quantity');
SELECT pg_temp.throws_code($$SELECT multistore.stores_nearby(-60, 0, 50, 20, '{"t x"}')$$, 'M4400', 'validation_failed', 'a malformed id');

SELECT * FROM finish();
ROLLBACK;
