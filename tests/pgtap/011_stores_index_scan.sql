-- The nearby search stays a KNN index scan at 100,000 stores.
\ir helpers.psql
BEGIN;
SELECT plan(8);

DELETE FROM multistore.stores WHERE id LIKE 'gen\_%';

SELECT is(multistore.stores_generate(100000, 7), 100000::bigint, 'generated 100,000 stores');
SELECT is(multistore.stores_generate(100000, 7), 0::bigint, 'generating again adds nothing (ids are stable)');
ANALYZE multistore.stores;

SELECT matches(multistore_internal.stores_nearby_explain(39.0, -98.0, 50, 20),
               'Index Scan using stores_location_idx',
               'nearby is an index scan on stores_location_idx');
SELECT doesnt_match(multistore_internal.stores_nearby_explain(39.0, -98.0, 100, 100),
                    'Seq Scan|Bitmap|Sort',
                    'no sequential or bitmap scan and no sort, even at the largest radius and limit');
SELECT matches(multistore_internal.stores_nearby_explain(39.0, -98.0, 100, 100),
               'Limit\s+->\s+Index Scan using stores_location_idx on stores s\s+Index Cond: \(location && _st_expand.*\s+Order By: \(location <-> ',
               'the index returns the stores in distance order (KNN) straight into the limit');

SELECT matches(multistore_internal.stores_nearby_explain(39.0, -98.0, 100, 100, '{prod_1:2,prod_7}'),
               'Limit\s+->\s+Index Scan using stores_location_idx on stores s\s+Index Cond: .*\s+Order By: \(location <-> .*\s+Filter: .*NOT \(hashed SubPlan|Filter: \(.*SubPlan',
               'with a basket it is the same index scan, the stock check a filter on it');
SELECT doesnt_match(multistore_internal.stores_nearby_explain(39.0, -98.0, 100, 100, '{prod_1:2,prod_7}'),
                    'Seq Scan on stores|Bitmap Heap Scan on stores|Sort',
                    'no scan of all stores and no sort, with a basket either');
SELECT is(json_array_length(multistore.stores_nearby(39.0, -98.0, 50, 20)->'stores'), 20,
          'a dense area fills the limit');

SELECT * FROM finish();
ROLLBACK;
