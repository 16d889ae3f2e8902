-- store_get: the whole store, and not_found for anything that is not one.
\ir helpers.psql
BEGIN;
SELECT plan(9);

SELECT pg_temp.add_store('t_get', 48.8566, 2.3522, 'Europe/Paris',
  '{"monday":[{"opens":"08:00","closes":"12:00"},{"opens":"14:00","closes":"19:00"}],"saturday":[{"opens":"22:00","closes":"03:00"}]}',
  '{"2026-12-25":[]}');
CREATE TEMP TABLE got AS SELECT (multistore.store_get('t_get')->'store')::jsonb AS s;

SELECT is((SELECT array_agg(k ORDER BY k) FROM got, jsonb_object_keys(got.s) k),
          ARRAY['acceptingOrders','address','createdAt','deliveryRadiusKm','hoursExceptions','id','isOpen',
                'location','name','nextOpensAt','openingHours','phone','timeZone','updatedAt'],
          'a store has exactly the documented fields');
SELECT is((SELECT s->>'timeZone' FROM got), 'Europe/Paris', 'with its time zone');
SELECT is((SELECT s->'openingHours' FROM got),
          '{"monday":[{"opens":"08:00","closes":"12:00"},{"opens":"14:00","closes":"19:00"}],"tuesday":[],"wednesday":[],"thursday":[],"friday":[],"saturday":[{"opens":"22:00","closes":"03:00"}],"sunday":[]}'::jsonb,
          'opening hours list every weekday, closed days empty, overnight ranges as given');
SELECT is((SELECT s->'hoursExceptions' FROM got), '{"2026-12-25": []}'::jsonb, 'and the dated exceptions');
SELECT matches((SELECT s->>'createdAt' FROM got), '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$', 'times are ISO 8601 in UTC');
SELECT is((SELECT s->'location' FROM got), '{"latitude": 48.8566, "longitude": 2.3522}'::jsonb, 'location as stored');

SELECT pg_temp.throws_code($$SELECT multistore.store_get('no_such_store')$$, 'M4404', 'not_found', 'an unknown store is not_found');
SELECT pg_temp.throws_code($$SELECT multistore.store_get('../etc/passwd')$$, 'M4404', 'not_found', 'an id that cannot exist is not_found');
SELECT pg_temp.throws_code('SELECT multistore.store_get(NULL)', 'M4400', 'validation_failed', 'a missing id is validation_failed');

SELECT * FROM finish();
ROLLBACK;
