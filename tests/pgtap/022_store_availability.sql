-- store_availability: stock per product, and the store's state.
\ir helpers.psql
BEGIN;
SELECT plan(10);

SELECT pg_temp.add_store('t_av', -60, 0);
INSERT INTO multistore.products (id, sku, name, price) VALUES
  ('t_p1', 'T-P1', 'Test one', 1.00), ('t_p2', 'T-P2', 'Test two', 2.00), ('t_p3', 'T-P3', 'Test three', 3.00);
INSERT INTO multistore.inventory (store_id, product_id, bucket, on_hand) VALUES ('t_av', 't_p1', 0, 4), ('t_av', 't_p1', 1, 3), ('t_av', 't_p2', 0, 0);

SELECT is(multistore.store_availability('t_av', '{t_p1,t_p2,t_p3}', '2026-11-23 12:00Z')::jsonb,
          '{"storeId":"t_av","isOpen":true,"acceptingOrders":true,"nextOpensAt":null,
            "products":[{"productId":"t_p1","available":7},{"productId":"t_p2","available":0},{"productId":"t_p3","available":0}]}'::jsonb,
          'stock per product in the order asked; no stock row is 0');
SELECT is(json_array_length(multistore.store_availability('t_av', '{t_p2,t_p1,t_p2}')->'products'), 2,
          'a product asked twice is answered once');
SELECT is((multistore.store_availability('t_av')->'products')::jsonb, '[]'::jsonb, 'no products asked: an empty list');
SELECT is(multistore.store_availability('t_av', NULL)::jsonb->'products', '[]'::jsonb, 'NULL products: an empty list');

SELECT pg_temp.throws_code($$SELECT multistore.store_availability('nope', '{t_p1}')$$, 'M4404', 'not_found', 'unknown store');
SELECT pg_temp.throws_code($$SELECT multistore.store_availability('t_av', '{t_p1,ghost}')$$, 'M4404', 'not_found', 'unknown product');
SELECT is(pg_temp.error_detail($$SELECT multistore.store_availability('t_av', '{ghost,t_p1,phantom}')$$)::jsonb,
          '{"code":"not_found","resource":"product","productIds":["ghost","phantom"]}'::jsonb,
          'the error names every unknown product');
SELECT pg_temp.throws_code($$SELECT multistore.store_availability('t_av', '{"bad id"}')$$, 'M4400', 'validation_failed', 'a malformed product id');
SELECT pg_temp.throws_code($$SELECT multistore.store_availability('t_av', (SELECT array_agg('p' || g) FROM generate_series(1, 101) g))$$,
                           'M4400', 'validation_failed', 'more than 100 products');
SELECT pg_temp.throws_code($$SELECT multistore.store_availability('t_av', '{t_p1}', 'infinity')$$, 'M4400', 'validation_failed', 'an infinite time');

SELECT * FROM finish();
ROLLBACK;
