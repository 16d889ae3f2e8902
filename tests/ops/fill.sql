-- tests/ops/fill.sql: data in every table of 0.1.0, through its SQL API
-- (after sql/seed.sql, which loads stores, products, stock and the demo
-- accounts).  Each statement commits, as an app's calls would.  A later
-- version's tables are filled by tests/ops/fill-<version>.sql, with the
-- calls that version added (this file must keep working against 0.1.0:
-- the upgrade test runs it there).  tests/ops/filled.sql then fails when a
-- table is still empty.  Used by the upgrade and backup tests.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

SELECT multistore.session_login('{"email":"admin@example.com","password":"multistore-demo"}')->'session'->>'id' AS admin \gset
SELECT multistore.store_create(:'admin', '{"id":"ops_store","name":"Ops Store","address":"1 Backup Way","phone":"+1-555-0100",
  "location":{"latitude":40.75,"longitude":-73.99},"timeZone":"America/New_York",
  "openingHours":{"monday":[{"opens":"00:00","closes":"24:00"}],"tuesday":[{"opens":"00:00","closes":"24:00"}],
                  "wednesday":[{"opens":"00:00","closes":"24:00"}],"thursday":[{"opens":"00:00","closes":"24:00"}],
                  "friday":[{"opens":"00:00","closes":"24:00"}],"saturday":[{"opens":"00:00","closes":"24:00"}],
                  "sunday":[{"opens":"00:00","closes":"24:00"}]},
  "hoursExceptions":{"2031-12-25":[]},"deliveryRadiusKm":9,"acceptingOrders":true}') IS NOT NULL AS created;
SELECT multistore.store_update(:'admin', 'ops_store', '{"name":"Ops Store (renamed)"}') IS NOT NULL AS updated;
SELECT multistore.inventory_set(:'admin', 'ops_store', p, '{"onHand":500}') IS NOT NULL AS stocked
  FROM unnest(ARRAY['prod_1', 'prod_2', 'prod_3', 'prod_4']) p;

-- a manager of the new store
SELECT multistore.account_register('{"email":"ops-manager@example.com","password":"ops-manager-password","firstName":"Ops","lastName":"Manager"}')->'user'->>'id' AS manager \gset
SELECT multistore.user_set_role(:'admin', :'manager', 'store_manager') IS NOT NULL AS role_set;
SELECT multistore.store_manager_assign(:'admin', 'ops_store', :'manager') IS NOT NULL AS assigned;

-- customers: a session refreshed (a replaced token) and one logged out
SELECT multistore.account_register('{"email":"ops-customer@example.com","password":"ops-customer-password","firstName":"Ops","lastName":"Customer","phone":"+1-555-0101"}')->'session'->>'refreshToken' AS refresh \gset
SELECT multistore.session_refresh(jsonb_build_object('refreshToken', :'refresh'))->'session'->>'id' AS customer \gset
SELECT multistore.account_register('{"email":"ops-leaver@example.com","password":"ops-leaver-password","firstName":"Ops","lastName":"Leaver"}')->'session'->>'id' AS leaver \gset
SELECT multistore.session_logout(:'leaver') IS NOT NULL AS logged_out;

-- orders: one paid and moving, one left unpaid, one cancelled; a cart left behind
SELECT multistore.cart_add_item(:'customer', '{"productId":"prod_1","quantity":2}') IS NOT NULL AS added;
SELECT multistore.cart_add_item(:'customer', '{"productId":"prod_2","quantity":1}') IS NOT NULL AS added;
SELECT body->'order'->>'id' AS paid_order, body->'order'->>'total' AS paid_total
  FROM multistore.order_place(:'customer', 'ops-order-1', '{"storeId":"ops_store","deliveryType":"pickup","notes":"backup test"}') \gset
SELECT status AS paid FROM multistore.payment_apply(jsonb_build_object('id', 'evt_ops_1', 'type', 'payment.succeeded',
  'orderId', :'paid_order', 'amount', (:'paid_total')::numeric, 'currency', 'USD'));
SELECT multistore.order_set_status(:'admin', :'paid_order', '{"status":"preparing","note":"picking"}') IS NOT NULL AS preparing;
SELECT multistore.cart_add_item(:'customer', '{"productId":"prod_3","quantity":3}') IS NOT NULL AS added;
SELECT status AS unpaid FROM multistore.order_place(:'customer', 'ops-order-2', '{"storeId":"ops_store","deliveryType":"pickup"}');
SELECT multistore.cart_add_item(:'customer', '{"productId":"prod_4","quantity":1}') IS NOT NULL AS added;
SELECT body->'order'->>'id' AS cancelled_order
  FROM multistore.order_place(:'customer', 'ops-order-3', '{"storeId":"ops_store","deliveryType":"pickup"}') \gset
SELECT multistore.order_cancel(:'customer', :'cancelled_order', 'changed my mind') IS NOT NULL AS cancelled;
SELECT multistore.cart_add_item(:'customer', '{"productId":"prod_2","quantity":5}') IS NOT NULL AS cart_left;
-- a point-of-sale hold, active
SELECT multistore.reservation_create(:'admin', 'ops_store', '{"items":[{"productId":"prod_1","quantity":4},{"productId":"prod_3","quantity":1}],"ttlSeconds":3600,"reference":"till-7"}') IS NOT NULL AS held;
