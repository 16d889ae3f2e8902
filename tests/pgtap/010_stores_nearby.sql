-- stores_nearby: order, distances, radius, limit, flags, and every bad argument.
-- Fixtures sit in the Southern Ocean (60 S, 0 E), far from the sample data.
\ir helpers.psql
BEGIN;
SELECT plan(22);

SELECT pg_temp.add_store('t_a', -60.0, 0.01);
SELECT pg_temp.add_store('t_b', -60.0, 0.05);
SELECT pg_temp.add_store('t_c', -60.2, 0.0);
SELECT pg_temp.add_store('t_far', -61.5, 0.0);
SELECT pg_temp.add_store('t_shut', -60.01, 0.0, 'UTC', '{}');
UPDATE multistore.stores SET accepting_orders = false WHERE id = 't_shut';

CREATE TEMP VIEW near AS
SELECT s.ord, s.value->>'id' AS id, (s.value->>'distanceKm')::numeric AS km, s.value
  FROM json_array_elements(multistore.stores_nearby(-60, 0, 10)->'stores') WITH ORDINALITY s(value, ord);

SELECT is((SELECT array_agg(id ORDER BY ord) FROM near), ARRAY['t_a', 't_shut', 't_b'],
          'stores within 10 km, nearest first');
SELECT is((SELECT array_agg(km ORDER BY ord) FROM near),
          (SELECT array_agg(round((ST_Distance(location, ST_SetSRID(ST_MakePoint(0, -60), 4326)::geography) / 1000)::numeric, 3)
                            ORDER BY ST_Distance(location, ST_SetSRID(ST_MakePoint(0, -60), 4326)::geography))
             FROM multistore.stores WHERE id IN ('t_a', 't_shut', 't_b')),
          'distanceKm is PostGIS ST_Distance (spheroid) to the metre');
SELECT is((SELECT value->'location' FROM near WHERE id = 't_a')::jsonb,
          '{"latitude": -60, "longitude": 0.01}'::jsonb, 'location is returned as given');
SELECT is((SELECT (value->>'isOpen')::boolean FROM near WHERE id = 't_a'), true, 'a store open around the clock is open');
SELECT is((SELECT (value->>'isOpen')::boolean FROM near WHERE id = 't_shut'), false, 'a store without hours is closed');
SELECT is((SELECT (value->>'acceptingOrders')::boolean FROM near WHERE id = 't_shut'), false, 'acceptingOrders is reported');
SELECT is((SELECT array_agg(k ORDER BY k) FROM near, json_object_keys(near.value) k WHERE id = 't_a'),
          ARRAY['acceptingOrders', 'address', 'distanceKm', 'id', 'isOpen', 'location', 'name'],
          'each store has exactly the documented fields');

SELECT is(json_array_length(multistore.stores_nearby(-60, 0, 100)->'stores'), 4, 'a 100 km radius reaches t_c but not t_far');
SELECT is(json_array_length(multistore.stores_nearby(-60, 0, 100, 2)->'stores'), 2, 'max_results limits the answer');
SELECT is(multistore.stores_nearby(-60, 0, NULL, NULL)::text, multistore.stores_nearby(-60, 0)::text,
          'NULL radius and limit mean the defaults (10 km, 20)');
SELECT is(multistore.stores_nearby(10, 10, 1)::jsonb, '{"stores": []}'::jsonb, 'nothing nearby is an empty list');
SELECT is(json_array_length(multistore.stores_nearby(90, 180, 1)->'stores'), 0, 'the edges of the globe are valid');

SELECT pg_temp.throws_code('SELECT multistore.stores_nearby(91, 0)', 'M4400', 'validation_failed', 'latitude above 90');
SELECT pg_temp.throws_code('SELECT multistore.stores_nearby(-90.0001, 0)', 'M4400', 'validation_failed', 'latitude below -90');
SELECT pg_temp.throws_code($$SELECT multistore.stores_nearby('NaN', 0)$$, 'M4400', 'validation_failed', 'latitude NaN');
SELECT pg_temp.throws_code('SELECT multistore.stores_nearby(0, 180.5)', 'M4400', 'validation_failed', 'longitude beyond 180');
SELECT pg_temp.throws_code('SELECT multistore.stores_nearby(NULL, 0)', 'M4400', 'validation_failed', 'missing latitude');
SELECT is(pg_temp.error_detail('SELECT multistore.stores_nearby(0, 0, 0, 0)')::jsonb -> 'fields',
          '{"radius": "must be greater than 0 and at most 100 km", "limit": "must be between 1 and 100"}'::jsonb,
          'radius 0 and limit 0 are both reported, by their REST names');
SELECT pg_temp.throws_code('SELECT multistore.stores_nearby(0, 0, 1000)', 'M4400', 'validation_failed', 'radius 1000 km');
SELECT pg_temp.throws_code('SELECT multistore.stores_nearby(0, 0, 10, 101)', 'M4400', 'validation_failed', 'limit above 100');

SET LOCAL multistore.nearby_max_radius_km = 200;
SELECT is(json_array_length(multistore.stores_nearby(-60, 0, 190)->'stores'), 5,
          'multistore.nearby_max_radius_km raises the radius bound');
RESET multistore.nearby_max_radius_km;
SELECT pg_temp.throws_code('SELECT multistore.stores_nearby(0, 0, 150)', 'M4400', 'validation_failed', 'and the default bound is back');

SELECT * FROM finish();
ROLLBACK;
