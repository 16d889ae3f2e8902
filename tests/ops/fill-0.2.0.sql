-- tests/ops/fill-0.2.0.sql: rows in the tables 0.2.0 adds, through its SQL
-- API, after tests/ops/fill.sql (whose store ops_store it uses).
\set ON_ERROR_STOP on
SET client_min_messages = warning;

SELECT multistore_internal.user_create('ops-admin-020@example.com', 'ops-admin-020-password', 'Ops', 'Admin', 'admin', NULL) IS NOT NULL AS admin_made;
SELECT multistore.session_login('{"email":"ops-admin-020@example.com","password":"ops-admin-020-password"}')->'session'->>'id' AS admin \gset

-- Strapi: a product, its stock, a promotion, a delivery kept for strapi-sync
SELECT status AS product FROM multistore.strapi_product_apply('{"event":"entry.publish","model":"product","uid":"api::product.product",
  "entry":{"documentId":"ops020prod","sku":"OPS-020","name":"Ops product","price":4.5,"updatedAt":"2026-11-25T00:00:00Z","publishedAt":"2026-11-25T00:00:01Z"}}');
SELECT status AS stock FROM multistore.strapi_inventory_apply('{"event":"entry.publish","model":"inventory",
  "entry":{"documentId":"ops020stock","store":"ops_store","product":"ops020prod","quantity":9,"updatedAt":"2026-11-25T00:00:00Z","publishedAt":"2026-11-25T00:00:01Z"}}');
SELECT status AS promotion FROM multistore.strapi_promotion_apply('{"event":"entry.publish","model":"promotion",
  "entry":{"documentId":"ops020promo","code":"OPS10","discountType":"percentage","value":10,"products":["prod_1","ops020prod"],
           "updatedAt":"2026-11-25T00:00:00Z","publishedAt":"2026-11-25T00:00:01Z"}}');
SELECT status AS deferred FROM multistore.strapi_product_apply('{"event":"entry.publish","model":"product","entry":null}');

-- real time: an event (a stock change) and a ticket
SELECT multistore.inventory_set(:'admin', 'ops_store', 'ops020prod', '{"onHand":10}') IS NOT NULL AS stock_event;
SELECT multistore.realtime_ticket_issue(:'admin') IS NOT NULL AS ticket;
