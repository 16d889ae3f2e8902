-- The catalogue: published products only, effective price through the
-- pricing rule, availability at a store, cursor pages, q through the
-- trigram index (not a scan) even with many products.
\ir helpers.psql
BEGIN;
SELECT plan(14);

SELECT pg_temp.add_store('t_c1', -62, 0);
INSERT INTO multistore.products (id, sku, name, price, published)
SELECT 'c' || lpad(g::text, 5, '0'), 'CAT-' || g, 'Catalogue item ' || g, g % 50 + 0.99, g % 10 <> 0
  FROM generate_series(1, 20000) g;
ANALYZE multistore.products;
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin;
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_c1', 'c00001', '{"onHand":7}');

CREATE FUNCTION pg_temp.list(store text DEFAULT NULL, ids text[] DEFAULT NULL, q text DEFAULT NULL,
                             cur text DEFAULT NULL, n int DEFAULT 20) RETURNS jsonb LANGUAGE sql AS
$$ SELECT multistore.products_list(store, ids, q, cur, n)::jsonb $$;

SELECT is(jsonb_array_length(pg_temp.list(NULL, NULL, NULL, NULL, 100)->'products'), 100, 'a page holds up to limit products');
SELECT is((SELECT array_agg(p->>'id') FROM jsonb_array_elements(pg_temp.list(NULL, ARRAY['c00001','c00010','c00011'])->'products') p),
          ARRAY['c00001', 'c00011'], 'ids: only the published ones (c00010 is not)');
SELECT is((pg_temp.list('t_c1', ARRAY['c00001'])->'products'->0) - 'description',
          '{"id":"c00001","sku":"CAT-1","name":"Catalogue item 1","price":"1.99","currency":"USD","imageUrl":null,
            "discount":"0.00","effectivePrice":"1.99","promotion":null,"available":7}'::jsonb,
          'a product: price, effective price, promotion, and available at the store asked');
SELECT ok(NOT (pg_temp.list(NULL, ARRAY['c00001'])->'products'->0 ? 'available'), 'without a store, no availability');
SELECT is(pg_temp.list(NULL, ARRAY['c00001','c00002','c00003'], NULL, NULL, 2)->>'nextCursor', 'c00002', 'a full page gives a cursor');
SELECT is((SELECT array_agg(p->>'id') FROM jsonb_array_elements(pg_temp.list(NULL, ARRAY['c00001','c00002','c00003'], NULL, 'c00002', 2)->'products') p),
          ARRAY['c00003'], 'the next page starts after it');
SELECT is(pg_temp.list(NULL, ARRAY['c00001','c00002','c00003'], NULL, 'c00002', 2)->'nextCursor', 'null'::jsonb, 'the last page has none');
SELECT is((SELECT array_agg(p->>'id') FROM jsonb_array_elements(pg_temp.list(NULL, NULL, 'item 1234')->'products') p),
          ARRAY['c01234', 'c12341', 'c12342', 'c12343', 'c12344', 'c12345', 'c12346', 'c12347', 'c12348', 'c12349'],
          'q matches a substring of the name, in any letter case; unpublished ones (every tenth) are left out');
SELECT is((SELECT array_agg(p->>'id') FROM jsonb_array_elements(pg_temp.list(NULL, NULL, 'cat-1999')->'products') p),
          ARRAY['c01999', 'c19991', 'c19992', 'c19993', 'c19994', 'c19995', 'c19996', 'c19997', 'c19998', 'c19999'], 'or of the SKU');
SELECT is(jsonb_array_length(pg_temp.list(NULL, NULL, '100%_')->'products'), 0, 'LIKE wildcards in q are literal');

-- through the index: 8 searches (past the plan cache's 5 custom plans, so the generic plan too)
CREATE TEMP TABLE before AS SELECT pg_stat_get_xact_numscans('multistore.products_search_idx'::regclass) AS n;
SELECT count(pg_temp.list(NULL, NULL, 'item ' || g)) FROM generate_series(1, 8) g;
SELECT cmp_ok(pg_stat_get_xact_numscans('multistore.products_search_idx'::regclass) - (SELECT n FROM before), '>=', 8::int8,
              'every q search used the trigram index products_search_idx (20,000 products)');

SELECT pg_temp.throws_code($$SELECT pg_temp.list('nowhere')$$, 'M4404', 'not_found', 'an unknown store: not_found');
SELECT pg_temp.throws_code($$SELECT pg_temp.list(NULL, NULL, NULL, 'not a cursor!')$$, 'M4400', 'validation_failed', 'a bad cursor');
SELECT pg_temp.throws_code($$SELECT pg_temp.list(NULL, NULL, NULL, NULL, 101)$$, 'M4400', 'validation_failed', 'limit over 100');

SELECT * FROM finish();
ROLLBACK;
