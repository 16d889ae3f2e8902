-- store_create / store_update: who may, every field rule, partial updates;
-- stores_generate: deterministic.
\ir helpers.psql
BEGIN;
SELECT plan(35);

CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('customer') AS customer,
                                 pg_temp.session_for('admin') AS revoked;
UPDATE multistore.sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = (SELECT revoked FROM sess);

CREATE FUNCTION pg_temp.create_as(who text, body jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE sid uuid;
BEGIN
  EXECUTE format('SELECT %I FROM sess', who) INTO sid;
  RETURN multistore.store_create(sid, body)::jsonb;
END $$;

CREATE TEMP TABLE good AS SELECT
  '{"id":"t_new","name":"New Store","address":"1 Test Way","phone":"+1-555-0000",
    "location":{"latitude":51.5,"longitude":-0.12},"timeZone":"Europe/London",
    "openingHours":{"monday":[{"opens":"09:00","closes":"17:00"}]},
    "hoursExceptions":{"2026-12-25":[]},"deliveryRadiusKm":3.5,"acceptingOrders":false}'::jsonb AS body;

-- who may
SELECT pg_temp.throws_code($$SELECT multistore.store_create(NULL, (SELECT body FROM good))$$, 'M4401', 'unauthorized', 'no session: unauthorized');
SELECT pg_temp.throws_code($$SELECT multistore.store_create(gen_random_uuid(), (SELECT body FROM good))$$, 'M4401', 'invalid_token', 'unknown session: invalid_token');
SELECT pg_temp.throws_code($$SELECT pg_temp.create_as('revoked', (SELECT body FROM good))$$, 'M4401', 'invalid_token', 'revoked session: invalid_token');
SELECT pg_temp.throws_code($$SELECT pg_temp.create_as('customer', (SELECT body FROM good))$$, 'M4403', 'forbidden', 'a customer may not create stores');

-- create
SELECT is((pg_temp.create_as('admin', (SELECT body FROM good))->'store') - 'createdAt' - 'updatedAt' - 'isOpen' - 'nextOpensAt',
          '{"id":"t_new","name":"New Store","address":"1 Test Way","phone":"+1-555-0000",
            "location":{"latitude":51.5,"longitude":-0.12},"timeZone":"Europe/London",
            "openingHours":{"monday":[{"opens":"09:00","closes":"17:00"}],"tuesday":[],"wednesday":[],"thursday":[],"friday":[],"saturday":[],"sunday":[]},
            "hoursExceptions":{"2026-12-25":[]},"deliveryRadiusKm":3.5,"acceptingOrders":false}'::jsonb,
          'an admin creates a store and gets it back');
SELECT is(multistore.store_get('t_new')::jsonb->'store'->>'name', 'New Store', 'it is stored');
SELECT pg_temp.throws_code($$SELECT pg_temp.create_as('admin', (SELECT body FROM good))$$, 'M4409', 'already_exists', 'the same id again: already_exists');
SELECT matches(pg_temp.create_as('admin', (SELECT body - 'id' FROM good))->'store'->>'id', '^store_[0-9a-f]{12}$',
               'without an id one is generated');
SELECT is(pg_temp.create_as('admin', (SELECT body || '{"id":"t_tz","timeZone":"europe/london"}' FROM good))->'store'->>'timeZone',
          'Europe/London', 'a time zone is stored by its canonical name');

-- every field rule
CREATE FUNCTION pg_temp.fields_of(body jsonb) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (pg_temp.error_detail(format('SELECT pg_temp.create_as(%L, %L)', 'admin', body))::jsonb)->'fields' $$;

SELECT is(pg_temp.fields_of('{}')::jsonb,
          '{"name":"is required","address":"is required","location":"is required","timeZone":"is required","openingHours":"is required"}'::jsonb,
          'every missing required field is named');
SELECT is(pg_temp.fields_of((SELECT body || '{"nmae":"x"}' FROM good)), '{"nmae":"is not a known field"}', 'an unknown field is named');
SELECT is(pg_temp.fields_of((SELECT body || '{"timeZone":"Mars/Olympus_Mons"}' FROM good))->>'timeZone',
          'must be an IANA time zone such as "America/New_York"', 'an unknown time zone');
SELECT ok(pg_temp.fields_of((SELECT body || '{"timeZone":"EST5EDT,M3.2.0,M11.1.0"}' FROM good)) ? 'timeZone', 'a POSIX rule string is not a time zone');
SELECT is(pg_temp.fields_of((SELECT body || '{"location":{"latitude":100,"longitude":200}}' FROM good)),
          '{"location.latitude":"must be between -90 and 90","location.longitude":"must be between -180 and 180"}', 'coordinates out of range');
SELECT is(pg_temp.fields_of((SELECT body || '{"location":{"latitude":1e-400,"longitude":1e400}}' FROM good)),
          '{"location.latitude":"must be a number within range","location.longitude":"must be a number within range"}',
          'numbers no float8 can hold name their field');
SELECT is(pg_temp.fields_of((SELECT body || '{"location":{"latitude":"40"}}' FROM good)),
          '{"location.latitude":"must be a number","location.longitude":"is required"}', 'coordinates of the wrong type');
SELECT is(pg_temp.fields_of((SELECT body || '{"openingHours":{"monday":[{"opens":"25:00","closes":"8:00"}]}}' FROM good)),
          '{"openingHours.monday[0].opens":"must be a time \"HH:MM\" from 00:00 to 23:59","openingHours.monday[0].closes":"must be a time \"HH:MM\" from 00:00 to 24:00"}',
          'malformed clock times name their place');
SELECT is(pg_temp.fields_of((SELECT body || '{"openingHours":{"monday":[{"opens":"09:00","closes":"09:00"}]}}' FROM good))->>'openingHours.monday[0].closes',
          'must differ from opens (use 00:00 to 24:00 for a whole day)', 'an empty range');
SELECT is(pg_temp.fields_of((SELECT body || '{"openingHours":{"monday":[{"opens":"09:00","closes":"17:00"},{"opens":"16:00","closes":"18:00"}]}}' FROM good)),
          '{"openingHours.monday[1]":"must start after the previous range ends"}', 'overlapping ranges');
SELECT is(pg_temp.fields_of((SELECT body || '{"openingHours":{"funday":[]}}' FROM good)), '{"openingHours.funday":"is not a known field"}', 'an unknown weekday');
SELECT is(pg_temp.fields_of((SELECT body || '{"hoursExceptions":{"2026-02-30":[]}}' FROM good)), '{"hoursExceptions.2026-02-30":"must be keyed by a date \"YYYY-MM-DD\""}', 'an impossible date');
SELECT is(pg_temp.fields_of((SELECT body || '{"deliveryRadiusKm":500,"acceptingOrders":"yes","name":""}' FROM good)),
          '{"deliveryRadiusKm":"must be between 0 and 100","acceptingOrders":"must be true or false","name":"must not be empty"}', 'radius, flag and empty name');
SELECT pg_temp.throws_code($$SELECT pg_temp.create_as('admin', '[1,2]')$$, 'M4400', 'validation_failed', 'a body that is not an object');
-- a body of 50,000 unknown keys: the first 100 are named, the rest only counted
-- (naming them all was a quadratic search: 24 s for 1 MiB of keys)
CREATE TEMP TABLE huge AS SELECT jsonb_object_agg('k' || g, 1) AS body FROM generate_series(1, 50000) g;
SELECT is((SELECT count(*)::int FROM jsonb_object_keys(pg_temp.error_detail($$SELECT pg_temp.create_as('admin', (SELECT body FROM huge))$$)::jsonb->'fields')),
          100, 'fifty thousand unknown keys: details name the first 100');
SELECT throws_like($$SELECT pg_temp.create_as('admin', (SELECT body FROM huge))$$, '%(and 500__ more)',
                   'and the message counts the rest');


-- update
SELECT is(multistore.store_update((SELECT admin FROM sess), 't_new', '{"name":"Renamed"}')::jsonb->'store'->>'name', 'Renamed', 'update changes a given field');
SELECT is(multistore.store_get('t_new')::jsonb->'store'->>'address', '1 Test Way', 'and keeps the others');
SELECT is(multistore.store_update((SELECT admin FROM sess), 't_new', '{"phone":null}')::jsonb->'store'->'phone', 'null'::jsonb, 'phone: null clears the phone');
SELECT is(multistore.store_update((SELECT admin FROM sess), 't_new', '{"location":{"latitude":1,"longitude":2},"openingHours":{}}')::jsonb->'store'->'location',
          '{"latitude":1,"longitude":2}'::jsonb, 'location can move');
SELECT pg_temp.throws_code($$SELECT multistore.store_update((SELECT admin FROM sess), 't_new', '{"id":"other"}')$$, 'M4400', 'validation_failed', 'the id cannot change');
SELECT is(pg_temp.error_detail($$SELECT multistore.store_update((SELECT admin FROM sess), 't_new', '{"name":"","address":""}')$$)::jsonb->'fields',
          '{"name":"must not be empty","address":"must not be empty"}'::jsonb, 'an update cannot empty the name or the address');
SELECT pg_temp.throws_code($$SELECT multistore.store_update((SELECT admin FROM sess), 'ghost', '{"name":"x"}')$$, 'M4404', 'not_found', 'updating an unknown store');
SELECT pg_temp.throws_code($$SELECT multistore.store_update((SELECT customer FROM sess), 't_new', '{"name":"x"}')$$, 'M4403', 'forbidden', 'a customer may not update stores');

-- the generator is deterministic
DELETE FROM multistore.stores WHERE id LIKE 'gen\_%';
SELECT multistore.stores_generate(5, 11);
CREATE TEMP TABLE first AS SELECT id, ST_AsText(location) AS p FROM multistore.stores WHERE id LIKE 'gen\_%';
DELETE FROM multistore.stores WHERE id LIKE 'gen\_%';
SELECT multistore.stores_generate(5, 11);
SELECT set_eq('SELECT id, ST_AsText(location) FROM multistore.stores WHERE id LIKE $$gen\_%$$', 'SELECT * FROM first',
              'stores_generate places the same stores for the same seed');

SELECT pg_temp.throws_code('SELECT multistore.stores_generate(-1)', 'M4400', 'validation_failed', 'a negative count');

SELECT * FROM finish();
ROLLBACK;
