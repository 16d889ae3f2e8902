-- A hold with a 1-second TTL stops blocking when it lapses, before any
-- sweep.  Real time has to pass between transactions, so this file commits
-- its fixtures (ids t_ttl*) and removes them at the end.
\ir helpers.psql
SELECT plan(6);

SELECT pg_temp.add_store('t_ttl', -61, 0);
SELECT pg_temp.add_product('t_ttl_p');
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin;
SELECT multistore.inventory_set(admin, 't_ttl', 't_ttl_p', '{"onHand":1}') FROM sess;
CREATE TEMP TABLE first AS
SELECT (multistore.reservation_create(admin, 't_ttl', '{"items":[{"productId":"t_ttl_p","quantity":1}],"ttlSeconds":1}')::jsonb
        ->'reservation'->>'id')::uuid AS id FROM sess;

SELECT pg_temp.throws_code($$SELECT multistore.reservation_create((SELECT admin FROM sess), 't_ttl', pg_temp.items('t_ttl_p', '1'))$$,
                           'M4409', 'out_of_stock', 'while the hold lasts, the unit is taken');
SELECT pg_sleep(1.2);
SELECT is((multistore.store_availability('t_ttl', '{t_ttl_p}')->'products'->0->>'available')::int, 1,
          'a second later it is available again');
SELECT is((SELECT status FROM multistore.reservations WHERE id = (SELECT id FROM first)), 'active',
          'though no sweep has written it down');
SELECT is((multistore.reservation_create((SELECT admin FROM sess), 't_ttl', pg_temp.items('t_ttl_p', '1'))::jsonb)->'reservation'->>'status',
          'active', 'a new reservation gets the unit');
SELECT is((multistore.reservation_get((SELECT admin FROM sess), (SELECT id FROM first))::jsonb)->'reservation'->>'status',
          'expired', 'the lapsed one reads as expired');
SELECT is((SELECT sum(held)::int FROM multistore.inventory WHERE store_id = 't_ttl'), 1, 'and only the new hold is counted');

DELETE FROM multistore.stores WHERE id = 't_ttl';
DELETE FROM multistore.products WHERE id = 't_ttl_p';
DELETE FROM multistore.users WHERE id = (SELECT user_id FROM multistore.sessions WHERE id = (SELECT admin FROM sess));
SELECT * FROM finish();
