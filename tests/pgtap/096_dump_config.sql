-- pg_dump carries every row: each table and sequence of the extension's
-- schemas is registered with pg_extension_config_dump (tables added by any
-- branch included), and none with a filter that would leave rows behind.
\ir helpers.psql
BEGIN;
SELECT plan(3);

SELECT is(
  (SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c
    WHERE c.relnamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
      AND c.relkind IN ('r', 'p', 'S')
      AND c.oid <> ALL (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'multistore')),
  NULL, 'every table and sequence of the extension is registered with pg_extension_config_dump');

SELECT is(
  (SELECT array_agg(cond ORDER BY cond) FROM pg_extension, unnest(extcondition) cond
    WHERE extname = 'multistore' AND cond <> ''),
  NULL, 'with no WHERE filter: every row is dumped');

SELECT is(
  (SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c
    WHERE c.relnamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
      AND c.relkind = 'r' AND c.relpersistence <> 'p'),
  NULL, 'no table is unlogged or temporary (neither would survive a crash or reach a standby)');

SELECT * FROM finish();
ROLLBACK;
