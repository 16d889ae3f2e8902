-- tests/soak/stock.sql: what the soak run (scripts/soak, make soak) sells and
-- manages, on top of the sample data.  Idempotent.
--
-- Three stores open around the clock (store_1, store_36, store_49) with six
-- products of their own each: five with plenty of stock (1,000,000 units:
-- thirty minutes of checkouts never empty them) and one scarce (40 units),
-- which runs out early so that out_of_stock stays part of the mix.  Spread
-- over the 32 buckets like every stock of the sample data.  The soak's
-- manager manages these three stores; the sample products (prod_*) at them
-- are what its inventory updates change, so that the soak_* ledger (on hand
-- + sold = stocked) stays exact.
SET client_min_messages = warning;

INSERT INTO multistore.products (id, sku, name, description, price, currency, published)
SELECT p.id, upper(replace(p.id, '_', '-')), p.name, 'Soak test product', p.price, 'USD', true
  FROM (VALUES ('soak_plenty_1', 'Soak Plenty 1', 1.25), ('soak_plenty_2', 'Soak Plenty 2', 2.50),
               ('soak_plenty_3', 'Soak Plenty 3', 0.99), ('soak_plenty_4', 'Soak Plenty 4', 4.10),
               ('soak_plenty_5', 'Soak Plenty 5', 7.35), ('soak_scarce_1', 'Soak Scarce 1', 19.99)) AS p(id, name, price)
ON CONFLICT (id) DO NOTHING;

INSERT INTO multistore.inventory (store_id, product_id, bucket, on_hand, held)
SELECT s.id, p.id, b.n, p.units / 32 + CASE WHEN b.n < p.units % 32 THEN 1 ELSE 0 END, 0
  FROM (VALUES ('store_1'), ('store_36'), ('store_49')) AS s(id)
 CROSS JOIN (SELECT id, CASE WHEN id LIKE 'soak\_scarce\_%' THEN 40 ELSE 1000000 END AS units
               FROM multistore.products WHERE id LIKE 'soak\_%') AS p
 CROSS JOIN generate_series(0, 31) AS b(n)
ON CONFLICT (store_id, product_id, bucket) DO UPDATE SET on_hand = excluded.on_hand, held = 0;

SELECT format('soak stock: %s products at %s stores, %s units in all',
              count(DISTINCT product_id), count(DISTINCT store_id), sum(on_hand))
  FROM multistore.inventory WHERE product_id LIKE 'soak\_%';
