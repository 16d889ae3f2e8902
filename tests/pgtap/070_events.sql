-- Events: every change that matters writes one event (orders placed, status
-- changes, payments, stock, revoked sessions), a rolled-back change writes
-- none, events_since applies the rule of who sees what and resumes past
-- out-of-order commits, tickets are single-use and short-lived, the purge
-- removes what is older than 24 hours.
\ir helpers.psql
BEGIN;
SELECT plan(55);

SELECT has_table('multistore', 'events', 'the event log exists');
SELECT has_table('multistore', 'realtime_tickets', 'realtime tickets are a table');
SELECT has_function('multistore', 'events_since', ARRAY['uuid', 'bigint', 'text[]', 'integer'], 'events_since exists');
SELECT has_function('multistore', 'events_fetch', ARRAY['bigint', 'bigint[]', 'integer'], 'events_fetch exists');

SELECT pg_temp.add_store('t_ev', -62, 0);
SELECT pg_temp.add_store('t_ev_other', -62, 1);
SELECT pg_temp.add_product('t_ev_p', 2.50);
CREATE TEMP TABLE sess AS
SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('customer') AS alice,
       pg_temp.session_for('customer') AS bob, pg_temp.session_for('store_manager') AS manager,
       pg_temp.session_for('store_manager') AS other_manager;
INSERT INTO multistore.store_managers (store_id, user_id)
SELECT 't_ev', user_id FROM multistore.sessions WHERE id = (SELECT manager FROM sess)
UNION ALL
SELECT 't_ev_other', user_id FROM multistore.sessions WHERE id = (SELECT other_manager FROM sess);
CREATE TEMP TABLE mark AS SELECT coalesce(max(id), 0) AS id FROM multistore.events;
CREATE FUNCTION pg_temp.new_events() RETURNS SETOF multistore.events LANGUAGE sql AS
$$ SELECT * FROM multistore.events WHERE id > (SELECT id FROM mark) ORDER BY id $$;
CREATE FUNCTION pg_temp.advance() RETURNS void LANGUAGE sql AS
$$ UPDATE mark SET id = (SELECT coalesce(max(id), 0) FROM multistore.events) $$;

-- stock
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_ev', 't_ev_p', '{"onHand":10}');
SELECT is((SELECT array_agg(type || ' ' || store_id || ' ' || (payload->>'productId')) FROM pg_temp.new_events()),
          ARRAY['inventory.changed t_ev t_ev_p'], 'setting stock writes one inventory.changed');
SELECT is((SELECT (message::jsonb)->'data'->>'available'
             FROM multistore.events_fetch(0, ARRAY[(SELECT max(id) FROM pg_temp.new_events())])),
          '10', 'its message carries what is available');
SELECT is((SELECT array_agg(k ORDER BY k) FROM pg_temp.new_events() e,
                  multistore.events_fetch(0, ARRAY[e.id]) f, jsonb_object_keys(f.message::jsonb) k),
          ARRAY['at', 'data', 'id', 'type'], 'a message is {id,type,data,at}');
SELECT ok((SELECT bool_and(length(id::text) < 20) FROM pg_temp.new_events()),
          'NOTIFY carries the id alone, far below 8,000 bytes');
SELECT pg_temp.advance();

-- a refused reservation rolls back and announces nothing
SELECT pg_temp.throws_code($$SELECT multistore.reservation_create((SELECT admin FROM sess), 't_ev', '{"items":[{"productId":"t_ev_p","quantity":11}]}')$$,
                           'M4409', 'out_of_stock', 'eleven of ten is out of stock');
SELECT is((SELECT count(*)::int FROM pg_temp.new_events()), 0, 'a rolled-back change writes no event');
SAVEPOINT undo;
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_ev', 't_ev_p', '{"onHand":12}');
ROLLBACK TO SAVEPOINT undo;
SELECT is((SELECT count(*)::int FROM pg_temp.new_events()), 0, 'nor does a rolled-back subtransaction');

-- a reservation and its release: stock changes twice
CREATE TEMP TABLE r AS
SELECT (multistore.reservation_create((SELECT admin FROM sess), 't_ev', pg_temp.items('t_ev_p', '3'))::jsonb
        ->'reservation'->>'id')::uuid AS id;
SELECT is((SELECT (f.message::jsonb)->'data'->>'available' FROM pg_temp.new_events() e,
                  multistore.events_fetch(0, ARRAY[e.id]) f),
          '7', 'a hold is inventory.changed with 7 available');
SELECT pg_temp.advance();
SELECT multistore.reservation_release((SELECT admin FROM sess), (SELECT id FROM r));
SELECT is((SELECT array_agg(type || ' ' || (payload->>'productId')) FROM pg_temp.new_events()),
          ARRAY['inventory.changed t_ev_p'], 'releasing it is inventory.changed too');
SELECT pg_temp.advance();

-- an order: created, paid, moved along
SELECT multistore.cart_add_item((SELECT alice FROM sess), '{"productId":"t_ev_p","quantity":2}');
CREATE TEMP TABLE o AS
SELECT (p.body->'order'->>'id')::uuid AS id
  FROM multistore.order_place((SELECT alice FROM sess), 't_ev_key', '{"storeId":"t_ev","deliveryType":"pickup"}') p;
SELECT is((SELECT array_agg(type ORDER BY id) FROM pg_temp.new_events()),
          ARRAY['inventory.changed', 'order.created'], 'placing an order holds stock and writes order.created');
SELECT is((SELECT user_id FROM pg_temp.new_events() WHERE type = 'order.created'),
          (SELECT user_id FROM multistore.sessions WHERE id = (SELECT alice FROM sess)), 'owned by the customer');
SELECT is((SELECT payload->>'orderId' || ' ' || (payload->>'status') || ' ' || (payload->>'total')
             FROM pg_temp.new_events() WHERE type = 'order.created'),
          (SELECT id FROM o) || ' pending_payment 5.00', 'with the order, its status and total');
SELECT pg_temp.advance();
SELECT status FROM multistore.payment_apply(jsonb_build_object(
  'id', 'evt_t_ev_1', 'type', 'payment.succeeded', 'orderId', (SELECT id FROM o), 'amount', 5.00, 'currency', 'USD'));
SELECT is((SELECT array_agg(type ORDER BY id) FROM pg_temp.new_events()),
          ARRAY['order.status_changed', 'order.payment_succeeded'], 'a payment confirms and announces itself');
SELECT is((SELECT payload->>'from' || '>' || (payload->>'to') FROM pg_temp.new_events() WHERE type = 'order.status_changed'),
          'pending_payment>confirmed', 'status_changed names from and to');
SELECT pg_temp.advance();
SELECT multistore.order_set_status((SELECT manager FROM sess), (SELECT id FROM o), '{"status":"preparing","note":"on it"}');
SELECT is((SELECT payload->>'from' || '>' || (payload->>'to') || ' ' || (payload->>'note') || ' ' || (payload->>'actor')
             FROM pg_temp.new_events()),
          'confirmed>preparing on it manager', 'a manager''s change carries the note and the actor');
SELECT pg_temp.advance();
SELECT pg_temp.throws_code($$SELECT multistore.order_set_status((SELECT manager FROM sess), (SELECT id FROM o), '{"status":"delivered"}')$$,
                           'M4409', 'invalid_transition', 'a refused transition...');
SELECT is((SELECT count(*)::int FROM pg_temp.new_events()), 0, '...announces nothing');

-- who sees what
CREATE FUNCTION pg_temp.seen(s uuid, stores text[] DEFAULT NULL) RETURNS text[] LANGUAGE sql AS $$
	SELECT coalesce(array_agg(e->>'type' ORDER BY (e->>'id')::bigint), '{}')
	  FROM json_array_elements(multistore.events_since(s, (SELECT min(id) - 1 FROM multistore.events
	                                                        WHERE store_id = 't_ev'), stores)->'events') e
$$;
SELECT is(pg_temp.seen((SELECT alice FROM sess)),
          ARRAY['order.created', 'order.status_changed', 'order.payment_succeeded', 'order.status_changed'],
          'the owner sees every event of her order');
SELECT is(pg_temp.seen((SELECT bob FROM sess)), '{}'::text[], 'another customer sees none of them');
SELECT is(pg_temp.seen((SELECT manager FROM sess)),
          ARRAY['order.created', 'order.status_changed', 'order.payment_succeeded', 'order.status_changed'],
          'the store''s manager sees them');
SELECT is(pg_temp.seen((SELECT other_manager FROM sess)), '{}'::text[], 'another store''s manager does not');
SELECT is(array_length(pg_temp.seen((SELECT admin FROM sess)), 1), 4, 'an admin does');
SELECT is(pg_temp.seen(NULL, ARRAY['t_ev']),
          ARRAY['inventory.changed', 'inventory.changed', 'inventory.changed', 'inventory.changed'],
          'anyone watching the store sees its stock change, and nothing else');
SELECT is(pg_temp.seen(NULL, ARRAY['t_ev_other']), '{}'::text[], 'watching another store shows nothing');
SELECT is((multistore.events_since((SELECT alice FROM sess), (SELECT max(id) FROM multistore.events))::jsonb->>'lastId')::bigint,
          (SELECT max(id) FROM multistore.events), 'nothing new: lastId stays');
SELECT pg_temp.throws_code($$SELECT multistore.events_since((SELECT alice FROM sess), -1)$$, 'M4400', 'validation_failed',
                           'a negative id is refused');
SELECT pg_temp.throws_code($$SELECT multistore.events_since(gen_random_uuid(), 0)$$, 'M4401', 'invalid_token',
                           'an unknown session is refused');

-- resuming after an event whose writer saw another transaction in flight:
-- that transaction's event has a lower id but committed later, and comes too.
-- Transaction ids of this cluster's past (b .. b + 300): ids at or past the
-- current xmax belong to another cluster (a restored dump) and are no late commits.
-- (the events written above, in this test's own transaction, are set aside)
SELECT pg_current_xact_id()::text::bigint - 400 AS b \gset
CREATE TEMP TABLE events_above AS SELECT * FROM multistore.events WHERE id < 9000000000;
DELETE FROM multistore.events WHERE id < 9000000000;
INSERT INTO multistore.events (id, type, store_id, payload, xid, snapshot, created_at)
VALUES (9000000001, 'inventory.changed', 't_ev_other', '{"storeId":"t_ev_other","productId":"t_ev_p"}',
        (:b + 200)::text::xid8, format('%s:%s:%s', :b + 100, :b + 300, :b + 200)::pg_snapshot, now()),
       (9000000002, 'inventory.changed', 't_ev_other', '{"storeId":"t_ev_other","productId":"t_ev_p"}',
        (:b + 250)::text::xid8, format('%s:%s:%s', :b + 100, :b + 300, :b + 200)::pg_snapshot, now()),
       (9000000003, 'inventory.changed', 't_ev_other', '{"storeId":"t_ev_other","productId":"t_ev_p"}',
        (:b + 0)::text::xid8, format('%s:%s:', :b + 300, :b + 300)::pg_snapshot, now()),
       (9000000004, 'inventory.changed', 't_ev_other', '{"storeId":"t_ev_other","productId":"t_ev_p"}',
        '9000000000'::xid8, format('%s:%s:', :b + 100, :b + 300)::pg_snapshot, now());
-- 9000000004 is another cluster's (its xid is far past ours), 9000000005 ours, written after it
INSERT INTO multistore.events (id, type, store_id, payload, xid, snapshot, created_at)
VALUES (9000000005, 'inventory.changed', 't_ev_other', '{"storeId":"t_ev_other","productId":"t_ev_p"}',
        (:b + 350)::text::xid8, format('%s:%s:', :b + 350, :b + 350)::pg_snapshot, now());
SELECT is((SELECT array_agg(id ORDER BY id) FROM multistore.events_fetch(9000000005)),
          NULL::bigint[], 'after 5: nothing; 4''s transaction id belongs to another cluster (a restored dump), not a late commit');
DELETE FROM multistore.events WHERE id IN (9000000004, 9000000005);
SELECT is((SELECT array_agg((e->>'id')::bigint ORDER BY (e->>'id')::bigint)
             FROM json_array_elements(multistore.events_since(NULL, 9000000002, ARRAY['t_ev_other'])->'events') e),
          ARRAY[9000000001, 9000000003]::bigint[],
          'after 2: 3, and 1, whose transaction 2''s snapshot saw in flight');
SELECT is((SELECT array_agg(id ORDER BY id) FROM multistore.events_fetch(9000000003)),
          NULL::bigint[], 'after 3: nothing (1 was committed when 3 was written)');
DELETE FROM multistore.events WHERE id > 9000000000;
INSERT INTO multistore.events SELECT * FROM events_above;

-- tickets
CREATE TEMP TABLE t AS SELECT multistore.realtime_ticket_issue((SELECT alice FROM sess))::jsonb AS j;
SELECT is(length((SELECT j->>'ticket' FROM t)), 43, 'a ticket is 256 random bits');
SELECT is((SELECT (j->>'expiresIn')::int FROM t), 30, 'valid 30 seconds');
SELECT is((SELECT count(*)::int FROM multistore.realtime_tickets WHERE ticket_hash = sha256(convert_to((SELECT j->>'ticket' FROM t), 'UTF8'))),
          1, 'stored only as its SHA-256');
SELECT is((multistore.realtime_authorize(NULL, (SELECT j->>'ticket' FROM t))::jsonb->'user'->>'id')::uuid,
          (SELECT user_id FROM multistore.sessions WHERE id = (SELECT alice FROM sess)), 'redeemed, it names its user');
SELECT pg_temp.throws_code($$SELECT multistore.realtime_authorize(NULL, (SELECT j->>'ticket' FROM t))$$,
                           'M4401', 'invalid_token', 'a ticket is good once');
SELECT pg_temp.throws_code($$SELECT multistore.realtime_authorize(NULL, 'not-a-ticket')$$,
                           'M4401', 'invalid_token', 'an unknown ticket is refused');
UPDATE multistore.realtime_tickets SET expires_at = now() - interval '1 second';
CREATE TEMP TABLE t2 AS SELECT multistore.realtime_ticket_issue((SELECT bob FROM sess))::jsonb AS j;
UPDATE multistore.realtime_tickets SET expires_at = now() - interval '1 second'
 WHERE ticket_hash = sha256(convert_to((SELECT j->>'ticket' FROM t2), 'UTF8'));
SELECT pg_temp.throws_code($$SELECT multistore.realtime_authorize(NULL, (SELECT j->>'ticket' FROM t2))$$,
                           'M4401', 'invalid_token', 'an expired ticket is refused');
SELECT is((multistore.realtime_authorize((SELECT manager FROM sess))::jsonb->'user'->'managedStores')::text,
          '["t_ev"]', 'a session names its managed stores');
SELECT pg_temp.throws_code($$SELECT multistore.realtime_authorize()$$, 'M4401', 'unauthorized',
                           'nothing at all is unauthorized');
SELECT is(multistore.realtime_authorize(NULL, NULL, 5, ARRAY['t_ev', 't_ev'])::jsonb,
          '{"user":null,"stores":["t_ev"],"since":5}', 'stores alone: anyone may watch stock');
SELECT pg_temp.throws_code($$SELECT multistore.realtime_authorize(NULL, NULL, NULL, ARRAY['t_ev_nope'])$$,
                           'M4404', 'not_found', 'an unknown store is not found');

-- revoking a session announces it
SELECT pg_temp.advance();
SELECT multistore.session_logout((SELECT bob FROM sess));
SELECT is((SELECT type || ' ' || (payload->>'sessionId') || ' ' || (payload->>'reason') FROM pg_temp.new_events()),
          'session.revoked ' || (SELECT bob FROM sess) || ' logout', 'logging out is session.revoked');

-- a change of what a user may see is access.changed (the proxy closes their
-- streams, opened with the old rights), and only a real change
CREATE TEMP TABLE mgr AS SELECT user_id AS id FROM multistore.sessions WHERE id = (SELECT other_manager FROM sess);
SELECT pg_temp.advance();
SELECT multistore.store_manager_assign((SELECT admin FROM sess), 't_ev', (SELECT id FROM mgr));
SELECT multistore.store_manager_assign((SELECT admin FROM sess), 't_ev', (SELECT id FROM mgr));
SELECT is((SELECT array_agg(type || ' ' || (user_id = (SELECT id FROM mgr))) FROM pg_temp.new_events()),
          ARRAY['access.changed true'], 'assigning a store is access.changed, once');
SELECT pg_temp.advance();
SELECT multistore.store_manager_remove((SELECT admin FROM sess), 't_ev', (SELECT id FROM mgr));
SELECT multistore.store_manager_remove((SELECT admin FROM sess), 't_ev', (SELECT id FROM mgr));
SELECT is((SELECT array_agg(type) FROM pg_temp.new_events()), ARRAY['access.changed'], 'removing it too, once');
SELECT pg_temp.advance();
SELECT multistore.user_set_role((SELECT admin FROM sess), (SELECT id FROM mgr), 'store_manager');
SELECT is((SELECT count(*)::int FROM pg_temp.new_events()), 0, 'setting the role a user has changes nothing');
SELECT multistore.user_set_role((SELECT admin FROM sess), (SELECT id FROM mgr), 'customer');
SELECT is((SELECT array_agg(type) FROM pg_temp.new_events()), ARRAY['access.changed'], 'a new role is access.changed');
SELECT is((SELECT count(*)::int FROM json_array_elements(multistore.events_since((SELECT admin FROM sess),
             (SELECT id FROM mark))::json->'events') e WHERE e->>'type' = 'access.changed'), 0,
          'access.changed is for the proxy: events_since gives it to nobody, admins included');

-- stock events are NOTIFYed only when a superuser says so (events.h)
SELECT is(current_setting('multistore.notify_stock_events'), 'off', 'stock events do not NOTIFY by default');
CREATE ROLE t_ev_nobody;
SET LOCAL ROLE t_ev_nobody;
SELECT throws_ok($$SET LOCAL multistore.notify_stock_events = on$$, '42501', NULL,
                 'only a superuser turns stock notifications on');
RESET ROLE;

-- the purge
UPDATE multistore.events SET created_at = now() - interval '25 hours' WHERE store_id = 't_ev';
SELECT ok(multistore.events_purge() >= 8, 'events older than 24 hours are purged');
SELECT is((SELECT count(*)::int FROM multistore.events WHERE store_id = 't_ev'), 0, 'all of them');

SELECT * FROM finish();
ROLLBACK;
