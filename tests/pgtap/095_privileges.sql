-- Least privilege: what multistore_api (the proxy's role) may and may not do;
-- every function pinned and executable by no one but those it is for; a
-- caller's search_path cannot hijack a function; a store manager cannot act
-- on another store through any SQL function.
\ir helpers.psql
BEGIN;
SELECT plan(60);

------------------------------------------------------------------------------
-- Every function, whoever added it
------------------------------------------------------------------------------

SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'multistore_api'), false,
          'multistore_api exists and cannot log in');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
    WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
      AND NOT (p.prosecdef
               AND p.proconfig IS NOT NULL
               AND EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                            WHERE c ~ '^search_path=pg_catalog, multistore(, [a-z_"]+)*, pg_temp$'))),
  NULL,
  'every function of the extension is SECURITY DEFINER with search_path pg_catalog, multistore, ..., pg_temp');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
    WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
      AND has_function_privilege('public', p.oid, 'EXECUTE')),
  NULL, 'PUBLIC executes no function of the extension');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
    WHERE p.pronamespace = 'multistore_internal'::regnamespace
      AND has_function_privilege('multistore_api', p.oid, 'EXECUTE')),
  NULL, 'multistore_api executes nothing in multistore_internal');

SELECT is(
  (SELECT array_agg(f ORDER BY 1) FROM unnest(ARRAY[
     'multistore.reservations_expire()', 'multistore.orders_expire()', 'multistore.maintenance_purge()',
     'multistore.jobs_schedule()', 'multistore.jobs_unschedule()', 'multistore.stores_generate(integer,integer)']) f
    WHERE has_function_privilege('multistore_api', f::regprocedure, 'EXECUTE')),
  NULL, 'the jobs and the generator are for the owner (pg_cron) and DBAs, not for multistore_api');

SELECT ok(has_function_privilege('multistore_api', 'multistore.payment_apply(jsonb)', 'EXECUTE'),
          'multistore_api executes payment_apply (the proxy''s payment webhook)');

SELECT is(
  (SELECT array_agg(f ORDER BY 1) FROM unnest(ARRAY[
     'multistore.strapi_product_apply(jsonb)', 'multistore.strapi_inventory_apply(jsonb)',
     'multistore.strapi_promotion_apply(jsonb)', 'multistore.realtime_authorize(uuid,text,bigint,text[])',
     'multistore.events_fetch(bigint,bigint[],integer)', 'multistore.events_last_id()']) f
    WHERE NOT has_function_privilege('multistore_api', f::regprocedure, 'EXECUTE')),
  NULL, 'multistore_api executes Strapi''s webhooks and what the realtime listener calls (revoked from public)');

SELECT is(
  (SELECT array_agg(f ORDER BY 1) FROM unnest(ARRAY[
     'multistore.strapi_sync_entry(text,jsonb)', 'multistore.strapi_sync_finish(text,text[],timestamptz)',
     'multistore.events_purge()']) f
    WHERE has_function_privilege('multistore_api', f::regprocedure, 'EXECUTE')),
  NULL, 'strapi-sync''s functions and the events purge are not the proxy''s');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
    WHERE p.pronamespace = 'multistore'::regnamespace
      AND p.proname IN ('health', 'stores_nearby', 'store_get', 'store_availability', 'account_register',
                        'session_login', 'session_refresh', 'session_logout', 'user_me', 'cart_get', 'cart_add_item',
                        'order_place', 'order_get', 'orders_list', 'store_orders', 'order_set_status', 'order_cancel',
                        'inventory_set', 'reservation_create', 'reservation_get', 'reservation_release')
      AND NOT has_function_privilege('multistore_api', p.oid, 'EXECUTE')),
  NULL, 'multistore_api executes the routed API functions');

------------------------------------------------------------------------------
-- A login role that is only a member of multistore_api: no table, no
-- sequence, no CREATE anywhere
------------------------------------------------------------------------------

CREATE ROLE ms_t_proxy LOGIN IN ROLE multistore_api;

SELECT is(
  (SELECT array_agg(format('%s.%s: %s', n.nspname, c.relname, p) ORDER BY 1)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
          unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
    WHERE n.nspname IN ('multistore', 'multistore_internal') AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND has_table_privilege('ms_t_proxy', c.oid, p)),
  NULL, 'the proxy''s role has no privilege on any table or view of the extension');

SELECT is(
  (SELECT array_agg(format('%s.%s: %s', n.nspname, c.relname, p) ORDER BY 1)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) p
    WHERE c.relkind = 'S' AND n.nspname IN ('multistore', 'multistore_internal', 'public')
      AND has_sequence_privilege('ms_t_proxy', c.oid, p)),
  NULL, 'nor on any sequence');

SELECT is(
  (SELECT array_agg(nspname::text ORDER BY 1) FROM pg_namespace
    WHERE has_schema_privilege('ms_t_proxy', oid, 'CREATE')
      AND nspname !~ '^pg_(toast_)?temp_'),
  NULL, 'it may CREATE in no schema (but its own temporary one)');

SELECT is(has_database_privilege('ms_t_proxy', current_database(), 'CREATE'), false,
          'nor create schemas in the database');
SELECT is(has_schema_privilege('ms_t_proxy', 'multistore_internal', 'USAGE'), false,
          'and it cannot even look into multistore_internal');

-- what the catalog says, tried for real
SET LOCAL ROLE ms_t_proxy;
SELECT throws_ok('SELECT count(*) FROM multistore.users', '42501', NULL, 'it cannot read users');
SELECT throws_ok('SELECT count(*) FROM multistore.refresh_tokens', '42501', NULL, 'it cannot read refresh tokens');
SELECT throws_ok($$INSERT INTO multistore.stores (id, name, address, location, time_zone)
                   VALUES ('x', 'x', 'x', 'SRID=4326;POINT(0 0)', 'UTC')$$, '42501', NULL, 'it cannot insert a store');
SELECT throws_ok('UPDATE multistore.inventory SET on_hand = 1000000', '42501', NULL, 'it cannot write stock');
SELECT throws_ok('DELETE FROM multistore.orders', '42501', NULL, 'it cannot delete orders');
SELECT throws_ok('TRUNCATE multistore.sessions', '42501', NULL, 'it cannot truncate sessions');
SELECT throws_ok('CREATE TABLE multistore.x (i int)', '42501', NULL, 'it cannot create a table in multistore');
SELECT throws_ok('CREATE TABLE public.x (i int)', '42501', NULL, 'nor in public');
SELECT throws_ok('CREATE FUNCTION multistore.health() RETURNS json LANGUAGE sql AS $f$SELECT NULL::json$f$',
                 '42501', NULL, 'it cannot create or replace a function in multistore');
SELECT throws_ok('SELECT multistore.reservations_expire()', '42501', NULL, 'it cannot run the jobs');
SELECT throws_ok($$SELECT multistore_internal.user_create('x@example.com', 'password-long-enough', 'x', 'x', 'admin')$$,
                 '42501', NULL, 'it cannot create an admin');
SELECT lives_ok('SELECT multistore.stores_nearby(0, 0, 1)', 'it can call the API');
RESET ROLE;

------------------------------------------------------------------------------
-- A caller's search_path cannot hijack a function.  ms_t_evil is a member of
-- multistore_api that owns a schema first on its search_path, holding
-- functions and operators named as those the extension's SQL uses; each
-- raises.  Control: a plain function without a pinned path is hijacked.
------------------------------------------------------------------------------

SELECT pg_temp.add_store('t_hj', -62.5, 0);
SELECT pg_temp.add_product('t_hj_p', 3.00);
INSERT INTO multistore.inventory (store_id, product_id, bucket, on_hand) VALUES ('t_hj', 't_hj_p', 0, 10);
CREATE ROLE ms_t_evil IN ROLE multistore_api;
CREATE SCHEMA ms_t_evil AUTHORIZATION ms_t_evil;
SET LOCAL ROLE ms_t_evil;
CREATE FUNCTION ms_t_evil.hijacked(what text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'hijacked by ms_t_evil.%', what; END $$;
CREATE FUNCTION ms_t_evil.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('lower')::text $$;
CREATE FUNCTION ms_t_evil.btrim(text) RETURNS text LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('btrim')::text $$;
CREATE FUNCTION ms_t_evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('now')::text::timestamptz $$;
CREATE FUNCTION ms_t_evil.gen_random_uuid() RETURNS uuid LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('gen_random_uuid')::text::uuid $$;
CREATE FUNCTION ms_t_evil.coalesce_text(text, text) RETURNS text LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('coalesce')::text $$;
CREATE FUNCTION ms_t_evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('jsonb_typeof')::text $$;
CREATE FUNCTION ms_t_evil.length(bytea) RETURNS integer LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('length')::int $$;
CREATE FUNCTION ms_t_evil.digest(bytea, text) RETURNS bytea LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('digest')::text::bytea $$;
CREATE FUNCTION ms_t_evil.eq(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('text = text') $$;
CREATE OPERATOR ms_t_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = ms_t_evil.eq);
CREATE FUNCTION ms_t_evil.eq(uuid, uuid) RETURNS boolean LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('uuid = uuid') $$;
CREATE OPERATOR ms_t_evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = ms_t_evil.eq);
CREATE FUNCTION ms_t_evil.plus(integer, integer) RETURNS integer LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('int + int')::int $$;
CREATE OPERATOR ms_t_evil.+ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = ms_t_evil.plus);
CREATE FUNCTION ms_t_evil.ge(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS $$ SELECT ms_t_evil.hijacked('timestamptz >= timestamptz') $$;
CREATE OPERATOR ms_t_evil.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = ms_t_evil.ge);
CREATE OPERATOR ms_t_evil.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = ms_t_evil.ge);
CREATE OPERATOR ms_t_evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = ms_t_evil.ge);
-- and tables named as the extension's, in pg_temp (searched first when a path omits it)
CREATE TEMP TABLE stores (id text, name text);
CREATE TEMP TABLE users (id uuid, email text, password_hash text, role text);
-- under_evil_path(sql): runs sql with ms_t_evil's search_path; 'ok' or the error.
-- (pgTAP's own functions are not pinned: its assertions run outside that path.)
CREATE FUNCTION pg_temp.under_evil_path(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	old text := current_setting('search_path');
	got text;
BEGIN
	PERFORM set_config('search_path', 'ms_t_evil, pg_catalog, multistore, public', true);
	BEGIN
		EXECUTE sql;
		got := 'ok';
	EXCEPTION WHEN OTHERS THEN
		got := SQLERRM;
	END;
	PERFORM set_config('search_path', old, true);
	RETURN got;
END $$;

SELECT matches(pg_temp.under_evil_path($$SELECT lower('X')$$), 'hijacked by ms_t_evil.lower',
               'control: an unqualified call in the caller''s own SQL reaches ms_t_evil');
SELECT matches(pg_temp.under_evil_path($$SELECT 'a'::text = 'b'::text$$), 'hijacked by ms_t_evil.text = text',
               'control: so does an operator');
SELECT is(pg_temp.under_evil_path($$SELECT multistore.stores_nearby(-62.5, 0, 1)$$), 'ok', 'stores_nearby is not hijacked');
SELECT is(pg_temp.under_evil_path($$SELECT multistore.store_get('t_hj')$$), 'ok', 'store_get is not hijacked');
SELECT is(pg_temp.under_evil_path($$SELECT multistore.store_availability('t_hj', '{t_hj_p}')$$), 'ok',
          'store_availability is not hijacked');
SELECT is(pg_temp.under_evil_path($$SELECT multistore.account_register('{"email":" Evil-Test@Example.com","password":"correct horse battery","firstName":"E","lastName":"V"}')$$),
          'ok', 'account_register (lower, btrim, gen_random_uuid, digest, now) is not hijacked');
SELECT is(pg_temp.under_evil_path($$CREATE TEMP TABLE evil_session AS
  SELECT (multistore.session_login('{"email":"evil-test@example.com","password":"correct horse battery"}')->'session'->>'id')::uuid AS id$$),
          'ok', 'session_login is not hijacked');
SELECT is(pg_temp.under_evil_path($$SELECT multistore.cart_add_item((SELECT id FROM evil_session), '{"productId":"t_hj_p","quantity":2}')$$),
          'ok', 'cart_add_item is not hijacked');
SELECT is(pg_temp.under_evil_path($$SELECT multistore.health()$$), 'ok', 'health is not hijacked');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM multistore.users WHERE email = 'evil-test@example.com'), 1,
          'the account is in the extension''s users table');
SELECT is((SELECT count(*)::int FROM pg_temp.users) + (SELECT count(*)::int FROM pg_temp.stores), 0,
          'and nothing went into the temporary look-alikes');
RESET search_path;
SET LOCAL search_path = public, multistore;

------------------------------------------------------------------------------
-- A store manager cannot act on another store through any SQL function.
-- Every function that takes a session is either store-scoped (tried below
-- against store t_pb by a manager of t_pa only, after the same call on t_pa
-- works) or acts only on the caller's own data.  A function added with a
-- session_id must be put in one of the two lists.
------------------------------------------------------------------------------

SELECT is(
  (SELECT array_agg(DISTINCT p.proname::text ORDER BY p.proname::text) FROM pg_proc p
    WHERE p.pronamespace = 'multistore'::regnamespace AND 'session_id' = ANY (p.proargnames)
      AND p.proname NOT IN (
        -- store-scoped: tried below
        'store_create', 'store_update', 'inventory_set', 'reservation_create', 'reservation_get',
        'reservation_release', 'reservation_consume', 'reservation_extend', 'store_orders', 'order_get',
        'order_set_status', 'order_cancel', 'store_manager_assign', 'store_manager_remove', 'user_set_role',
        -- the caller's own data only (the cart, the caller's orders and session)
        'cart_get', 'cart_add_item', 'cart_set_item', 'cart_remove_item', 'cart_clear', 'order_place',
        'orders_list', 'session_logout', 'user_me', 'realtime_ticket_issue',
        -- what the realtime rule lets the caller see (070_events.sql tries a manager of another store)
        'events_since', 'realtime_authorize')),
  NULL, 'every function taking a session is classified as store-scoped (tried below) or self-scoped');

SELECT pg_temp.add_store('t_pa', -61, 0);
SELECT pg_temp.add_store('t_pb', -61, 0.1);
SELECT pg_temp.add_product('t_pp', 2.00);
CREATE TEMP TABLE ps AS SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('store_manager') AS m,
                               pg_temp.session_for('customer') AS c;
INSERT INTO multistore.store_managers (store_id, user_id)
SELECT 't_pa', user_id FROM multistore.sessions WHERE id = (SELECT m FROM ps);
SELECT multistore.inventory_set((SELECT admin FROM ps), s, 't_pp', '{"onHand":50}') FROM unnest(ARRAY['t_pa', 't_pb']) s;
-- the customer's order at each store
CREATE TEMP TABLE po AS SELECT NULL::text AS store, NULL::uuid AS id WHERE false;
SELECT multistore.cart_add_item((SELECT c FROM ps), '{"productId":"t_pp","quantity":1}');
INSERT INTO po SELECT 't_pa', (body->'order'->>'id')::uuid
  FROM multistore.order_place((SELECT c FROM ps), 'priv-a', '{"storeId":"t_pa","deliveryType":"pickup"}');
SELECT multistore.cart_add_item((SELECT c FROM ps), '{"productId":"t_pp","quantity":1}');
INSERT INTO po SELECT 't_pb', (body->'order'->>'id')::uuid
  FROM multistore.order_place((SELECT c FROM ps), 'priv-b', '{"storeId":"t_pb","deliveryType":"pickup"}');
CREATE TEMP TABLE pr AS
SELECT s AS store, (multistore.reservation_create((SELECT admin FROM ps), s, pg_temp.items('t_pp', '2'))->'reservation'->>'id')::uuid AS id
  FROM unnest(ARRAY['t_pa', 't_pb']) s;
CREATE TEMP TABLE before AS
SELECT (SELECT jsonb_agg(to_jsonb(r) ORDER BY id) FROM multistore.reservations r WHERE store_id = 't_pb') AS reservations,
       (SELECT jsonb_agg(to_jsonb(o) ORDER BY id) FROM multistore.orders o WHERE store_id = 't_pb') AS orders,
       (SELECT jsonb_agg(to_jsonb(i) ORDER BY bucket) FROM multistore.inventory i WHERE store_id = 't_pb') AS inventory,
       (SELECT to_jsonb(s) FROM multistore.stores s WHERE id = 't_pb') AS store,
       (SELECT jsonb_agg(store_id ORDER BY store_id) FROM multistore.store_managers
         WHERE user_id = (SELECT user_id FROM multistore.sessions WHERE id = (SELECT m FROM ps))) AS managed;

-- refused(sql, description): the call raises forbidden (M4403) or not_found (M4404)
CREATE FUNCTION pg_temp.refused(sql text, description text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	got text;
BEGIN
	EXECUTE sql;
	RETURN ok(false, description || ' (it was allowed)');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS got = RETURNED_SQLSTATE;
	RETURN ok(got IN ('M4403', 'M4404'), description || ' (SQLSTATE ' || got || ')');
END $$;
CREATE FUNCTION pg_temp.m() RETURNS uuid LANGUAGE sql AS $$ SELECT m FROM ps $$;
CREATE FUNCTION pg_temp.res(s text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM pr WHERE store = s $$;
CREATE FUNCTION pg_temp.ord(s text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM po WHERE store = s $$;

-- controls: the same calls on the manager's own store work
SELECT lives_ok($$SELECT multistore.inventory_set(pg_temp.m(), 't_pa', 't_pp', '{"onHand":40}')$$, 'control: inventory_set on its own store');
SELECT lives_ok($$SELECT multistore.reservation_get(pg_temp.m(), pg_temp.res('t_pa'))$$, 'control: reservation_get on its own store');
SELECT lives_ok($$SELECT multistore.reservation_extend(pg_temp.m(), pg_temp.res('t_pa'), 600)$$, 'control: reservation_extend on its own store');
SELECT lives_ok($$SELECT multistore.store_orders(pg_temp.m(), 't_pa')$$, 'control: store_orders of its own store');
SELECT lives_ok($$SELECT multistore.order_get(pg_temp.m(), pg_temp.ord('t_pa'))$$, 'control: order_get at its own store');
SELECT lives_ok($$SELECT multistore.order_cancel(pg_temp.m(), pg_temp.ord('t_pa'))$$, 'control: order_cancel at its own store');

SELECT pg_temp.refused($$SELECT multistore.inventory_set(pg_temp.m(), 't_pb', 't_pp', '{"onHand":0}')$$, 'inventory_set on another store');
SELECT pg_temp.refused($$SELECT multistore.reservation_create(pg_temp.m(), 't_pb', pg_temp.items('t_pp', '50'))$$, 'reservation_create at another store');
SELECT pg_temp.refused($$SELECT multistore.reservation_get(pg_temp.m(), pg_temp.res('t_pb'))$$, 'reservation_get at another store');
SELECT pg_temp.refused($$SELECT multistore.reservation_extend(pg_temp.m(), pg_temp.res('t_pb'), 3600)$$, 'reservation_extend at another store');
SELECT pg_temp.refused($$SELECT multistore.reservation_release(pg_temp.m(), pg_temp.res('t_pb'))$$, 'reservation_release at another store');
SELECT pg_temp.refused($$SELECT multistore.reservation_consume(pg_temp.m(), pg_temp.res('t_pb'))$$, 'reservation_consume at another store');
SELECT pg_temp.refused($$SELECT multistore.store_orders(pg_temp.m(), 't_pb')$$, 'store_orders of another store');
SELECT pg_temp.refused($$SELECT multistore.order_get(pg_temp.m(), pg_temp.ord('t_pb'))$$, 'order_get at another store');
SELECT pg_temp.refused($$SELECT multistore.order_set_status(pg_temp.m(), pg_temp.ord('t_pb'), '{"status":"cancelled"}')$$, 'order_set_status at another store');
SELECT pg_temp.refused($$SELECT multistore.order_cancel(pg_temp.m(), pg_temp.ord('t_pb'))$$, 'order_cancel at another store');
SELECT pg_temp.refused($$SELECT multistore.store_update(pg_temp.m(), 't_pb', '{"acceptingOrders":false}')$$, 'store_update of another store');
SELECT pg_temp.refused($$SELECT multistore.store_create(pg_temp.m(), '{"id":"t_pc","name":"x","address":"x","location":{"latitude":1,"longitude":1},"timeZone":"UTC"}')$$, 'store_create');
SELECT pg_temp.refused($$SELECT multistore.store_manager_assign(pg_temp.m(), 't_pb', (SELECT user_id FROM multistore.sessions WHERE id = pg_temp.m()))$$, 'assigning itself to another store');
SELECT pg_temp.refused($$SELECT multistore.store_manager_remove(pg_temp.m(), 't_pa', (SELECT user_id FROM multistore.sessions WHERE id = pg_temp.m()))$$, 'store_manager_remove');
SELECT pg_temp.refused($$SELECT multistore.user_set_role(pg_temp.m(), (SELECT user_id FROM multistore.sessions WHERE id = pg_temp.m()), 'admin')$$, 'making itself admin');

SELECT is(
  (SELECT jsonb_build_object('reservations', (SELECT jsonb_agg(to_jsonb(r) ORDER BY id) FROM multistore.reservations r WHERE store_id = 't_pb'),
                             'orders', (SELECT jsonb_agg(to_jsonb(o) ORDER BY id) FROM multistore.orders o WHERE store_id = 't_pb'),
                             'inventory', (SELECT jsonb_agg(to_jsonb(i) ORDER BY bucket) FROM multistore.inventory i WHERE store_id = 't_pb'),
                             'store', (SELECT to_jsonb(s) FROM multistore.stores s WHERE id = 't_pb'),
                             'managed', (SELECT jsonb_agg(store_id ORDER BY store_id) FROM multistore.store_managers
                                          WHERE user_id = (SELECT user_id FROM multistore.sessions WHERE id = pg_temp.m())))),
  (SELECT jsonb_build_object('reservations', reservations, 'orders', orders, 'inventory', inventory, 'store', store,
                             'managed', managed) FROM before),
  'nothing of store t_pb changed, and the manager still manages t_pa only');

SELECT * FROM finish();
ROLLBACK;
