-- tests/chaos/stock.sql: what the fault-injection run (scripts/chaos) sells,
-- on top of the sample data.  Idempotent.
--
-- Three stores that are open around the clock (store_1, store_36, store_49),
-- and eight products of their own at each: six with plenty of stock
-- (100,000 units) and two scarce ones (30 units), which run out during the
-- run so that out_of_stock is met too.  Like every stock of the sample data,
-- each is spread over the 32 buckets.  tests/chaos/chaos.mjs finds the
-- stores and products here by their ids (chaos_plenty_*, chaos_scarce_*)
-- and snapshots every stock level before its first request.
SET client_min_messages = warning;

INSERT INTO multistore.products (id, sku, name, description, price, currency, published)
SELECT p.id, upper(replace(p.id, '_', '-')), p.name, 'Fault-injection test product', p.price, 'USD', true
  FROM (VALUES ('chaos_plenty_1', 'Chaos Plenty 1', 1.25), ('chaos_plenty_2', 'Chaos Plenty 2', 2.50),
               ('chaos_plenty_3', 'Chaos Plenty 3', 0.99), ('chaos_plenty_4', 'Chaos Plenty 4', 4.10),
               ('chaos_plenty_5', 'Chaos Plenty 5', 7.35), ('chaos_plenty_6', 'Chaos Plenty 6', 12.00),
               ('chaos_scarce_1', 'Chaos Scarce 1', 19.99), ('chaos_scarce_2', 'Chaos Scarce 2', 24.50)) AS p(id, name, price)
ON CONFLICT (id) DO NOTHING;

INSERT INTO multistore.inventory (store_id, product_id, bucket, on_hand, held)
SELECT s.id, p.id, b.n, p.units / 32 + CASE WHEN b.n < p.units % 32 THEN 1 ELSE 0 END, 0
  FROM (VALUES ('store_1'), ('store_36'), ('store_49')) AS s(id)
 CROSS JOIN (SELECT id, CASE WHEN id LIKE 'chaos\_scarce\_%' THEN 30 ELSE 100000 END AS units
               FROM multistore.products WHERE id LIKE 'chaos\_%') AS p
 CROSS JOIN generate_series(0, 31) AS b(n)
ON CONFLICT (store_id, product_id, bucket) DO UPDATE SET on_hand = excluded.on_hand, held = 0;

SELECT format('chaos stock: %s products at %s stores, %s units in all',
              count(DISTINCT product_id), count(DISTINCT store_id), sum(on_hand))
  FROM multistore.inventory WHERE product_id LIKE 'chaos\_%';
