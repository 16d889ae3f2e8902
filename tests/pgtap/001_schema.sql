-- The extension's shape: schema, tables, indexes, functions, their security
-- settings, comments, and what pg_dump carries.
\ir helpers.psql
BEGIN;
SELECT plan(16);

SELECT has_extension('multistore', 'the extension is installed');
SELECT has_schema('multistore');
SELECT has_schema('multistore_internal');
SELECT tables_are('multistore', ARRAY['stores', 'products', 'inventory', 'users', 'store_managers', 'sessions', 'refresh_tokens', 'reservations', 'reservation_holds', 'carts', 'cart_items', 'orders', 'order_items', 'order_status_history', 'idempotency_keys', 'payment_events', 'promotions', 'strapi_documents', 'strapi_pending', 'events', 'realtime_tickets']);
SELECT has_index('multistore', 'stores', 'stores_location_idx', 'location', 'stores have a GiST index on location');
SELECT is((SELECT amname::text FROM pg_class c JOIN pg_am a ON a.oid = c.relam
           WHERE c.relname = 'stores_location_idx'), 'gist', 'the location index is GiST');
SELECT col_type_is('multistore', 'stores', 'location', 'geography(Point,4326)', 'stores.location is a geography point');
SELECT col_type_is('multistore', 'products', 'price', 'numeric(12,2)', 'prices are numeric, never floats');

SELECT is(
  (SELECT count(*)::int FROM pg_proc p
    WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
      AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')),
  (SELECT count(*)::int FROM pg_proc p
    WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)),
  'every function of the extension is written in C');

SELECT is(
  (SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
    WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
      AND NOT (p.prosecdef AND EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                                         WHERE c LIKE 'search_path=pg_catalog, multistore%pg_temp'))),
  NULL,
  'every function is SECURITY DEFINER with a pinned search_path ending in pg_temp');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text) FROM pg_proc p
    WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
      AND obj_description(p.oid, 'pg_proc') IS NULL),
  NULL, 'every function has a comment');

SELECT is(
  (SELECT array_agg(c.relname::text) FROM pg_class c
    WHERE c.relnamespace = 'multistore'::regnamespace AND c.relkind IN ('r', 'i')
      AND obj_description(c.oid, 'pg_class') IS NULL
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)),
  NULL, 'every table and index has a comment');

SELECT set_eq(
  $$SELECT c.relname::text FROM pg_extension e, unnest(e.extconfig) AS t(oid)
      JOIN pg_class c ON c.oid = t.oid WHERE e.extname = 'multistore'$$,
  $$SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = 'multistore'::regnamespace AND c.relkind IN ('r', 'S')$$,
  'pg_dump carries every table and sequence (pg_extension_config_dump)');

SELECT is(
  (SELECT has_function_privilege('public', 'multistore.stores_generate(integer, integer)', 'EXECUTE')),
  false, 'the benchmark generator is not executable by public');

SELECT is((multistore.health()::jsonb)->>'extensionVersion',
          (SELECT extversion FROM pg_extension WHERE extname = 'multistore'),
          'health() reports the installed version');

SELECT is(current_setting('multistore.nearby_max_radius_km'), '100', 'GUC nearby_max_radius_km defaults to 100');


SELECT * FROM finish();
ROLLBACK;
