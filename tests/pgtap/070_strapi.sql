-- Strapi ingestion: the deliveries Strapi 5.54 really sent, in their order
-- and shuffled, leave the catalogue as Strapi was; v4's shapes; stale,
-- duplicate, draft, unpublish, delete (final), malformed (nothing applied),
-- ignored and deferred deliveries; stock and promotions; strapi-sync's
-- entry and finish.
\ir helpers.psql
BEGIN;
SELECT plan(75);

\set v5 `cat tests/strapi/fixtures/v5/webhooks-product-lifecycle.json`
\set v4 `cat tests/strapi/fixtures/v4/webhooks-product-lifecycle.json`
\set v5page1 `cat tests/strapi/fixtures/v5/rest-products-page1.json`
\set v5page2 `cat tests/strapi/fixtures/v5/rest-products-page2.json`
\set v4page1 `cat tests/strapi/fixtures/v4/rest-products-page1.json`
-- only what these tests deliver counts (the rows are back at the ROLLBACK)
DELETE FROM multistore.strapi_pending;
DELETE FROM multistore.strapi_documents;
CREATE TEMP TABLE v5 AS SELECT (d->>'seq')::int AS seq, d->'body' AS body FROM jsonb_array_elements(:'v5'::jsonb) d;
CREATE TEMP TABLE v4 AS SELECT (d->>'seq')::int AS seq, d->'body' AS body FROM jsonb_array_elements(:'v4'::jsonb) d;

-- apply(delivery): the status and the body's status
CREATE FUNCTION pg_temp.apply(delivery jsonb) RETURNS text LANGUAGE sql AS
$$ SELECT a.status || ' ' || (a.body::jsonb->>'status') FROM multistore.strapi_product_apply(delivery) a $$;

-- what is for sale of what came from Strapi
CREATE FUNCTION pg_temp.catalogue() RETURNS jsonb LANGUAGE sql AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_array(p.id, p.sku, p.name, p.price::text) ORDER BY p.id), '[]')
	  FROM multistore.products p JOIN multistore.strapi_documents d ON d.model = 'product' AND d.target_id = p.id
	 WHERE p.published
$$;
-- one product as stored: id, sku, name, price, published, deleted (NULL: no row)
CREATE FUNCTION pg_temp.product(product_id text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_array(p.id, p.sku, p.name, p.price::text, p.published, p.deleted_at IS NOT NULL)
	  FROM multistore.products p WHERE p.id = product_id
$$;

-- replay(table, order): forgets what came from Strapi, applies the deliveries in that order, returns the catalogue
CREATE FUNCTION pg_temp.replay(tab text, seqs int[]) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s int; d jsonb;
BEGIN
	DELETE FROM multistore.products p USING multistore.strapi_documents sd WHERE sd.model = 'product' AND sd.target_id = p.id;
	DELETE FROM multistore.strapi_documents;
	FOREACH s IN ARRAY seqs LOOP
		EXECUTE format('SELECT body FROM %I WHERE seq = $1', tab) INTO d USING s;
		PERFORM pg_temp.apply(d);
	END LOOP;
	RETURN pg_temp.catalogue();
END $$;

-- Strapi 5, in the order it sent them
CREATE TEMP TABLE answers AS SELECT seq, pg_temp.apply(body) AS answer FROM v5 ORDER BY seq;
SELECT is((SELECT array_agg(answer ORDER BY seq) FROM answers WHERE seq <= 8),
          ARRAY['200 draft', '200 draft', '200 published', '200 draft', '200 draft', '200 published', '200 unpublished', '200 deleted'],
          'MUG-2: create and update are drafts, publish, drafts, publish, unpublish, delete');
SELECT is(pg_temp.catalogue(),
          '[["p63ycevk62nju8m380sgf2ak","SKU-2","Item 2","2.25"],
            ["vxbznu5zlsj1dphd4xeutdho","SKU-1","Item 1","1.25"],
            ["zmy32qeivx7g2q8fjpbsrip3","SKU-3","Item 3","3.25"]]'::jsonb,
          'for sale as in Strapi: the three products published, ids are documentIds');
SELECT is(pg_temp.product('eyzlul50weh0n68yzgbr34xl'), '["eyzlul50weh0n68yzgbr34xl","MUG-2","Mug v2","13.00",false,true]'::jsonb,
          'MUG-2, deleted in Strapi, is kept unpublished and marked deleted (orders may name it)');
SELECT is((SELECT price::text FROM multistore.products WHERE id = 'vxbznu5zlsj1dphd4xeutdho'), '1.25',
          'a JSON price 1.25 is numeric 1.25 (no binary floating point)');
CREATE TEMP TABLE after_first AS SELECT pg_temp.catalogue() AS c;
SELECT is((SELECT array_agg(DISTINCT pg_temp.apply(body)) FROM v5), ARRAY['200 duplicate', '200 stale'],
          'replaying every delivery again: each is stale or a duplicate');
SELECT is(pg_temp.catalogue(), (SELECT c FROM after_first), 'and the catalogue did not change');

-- shuffled: the same end whatever the order
SELECT is(pg_temp.replay('v5', ARRAY(SELECT seq FROM v5 ORDER BY seq DESC)), (SELECT c FROM after_first),
          'the 17 deliveries in reverse order end in the same catalogue');
SELECT is(pg_temp.replay('v5', ARRAY[1,2,3,4,5,7,6,8,9,10,11,12,14,13,15,16,17]), (SELECT c FROM after_first),
          'unpublish before its publish (same updatedAt), update before publish: the same catalogue');
SELECT setseed(0.42);
SELECT is((SELECT count(DISTINCT pg_temp.replay('v5', ARRAY(SELECT seq FROM v5 ORDER BY random())))::int
             FROM generate_series(1, 25)), 1, '25 random orders all end in one catalogue');
SELECT is(pg_temp.replay('v5', ARRAY(SELECT seq FROM v5 ORDER BY random())), (SELECT c FROM after_first),
          'which is the one Strapi was in');
-- without the delete: the unpublish wins over its publish whatever the order
SELECT is(pg_temp.replay('v5', ARRAY[1,2,3,4,5,6,7]), '[]'::jsonb, 'without the delete: MUG-2 ends unpublished');
SELECT is(pg_temp.replay('v5', ARRAY[7,6,3,1,2,4,5]), '[]'::jsonb,
          'and also when its unpublish comes before its publish (same updatedAt and publishedAt)');
SELECT is(pg_temp.replay('v5', ARRAY[6,3]), '[["eyzlul50weh0n68yzgbr34xl","MUG-2","Mug v2","13.00"]]'::jsonb,
          'the later publish wins over an earlier one arriving after it (13.00, not 12.50)');
SELECT is(pg_temp.replay('v5', ARRAY[1,4]) || jsonb_build_array(pg_temp.product('eyzlul50weh0n68yzgbr34xl')),
          '[["eyzlul50weh0n68yzgbr34xl","MUG-2","Mug v2","13.00",false,false]]'::jsonb,
          'drafts of a product never published are kept, not for sale');
SELECT is(pg_temp.replay('v5', ARRAY[3,4]), '[["eyzlul50weh0n68yzgbr34xl","MUG-2","Mug","12.50"]]'::jsonb,
          'a draft edit of a published product changes nothing for sale until it is published');
SELECT is(pg_temp.apply((SELECT body FROM v5 WHERE seq = 8)), '200 deleted', 'delete');
SELECT is(pg_temp.apply((SELECT body FROM v5 WHERE seq = 8)), '200 duplicate', 'Strapi 5 sends a second delete (the other row): a duplicate');
SELECT is(pg_temp.apply((SELECT body FROM v5 WHERE seq = 6)), '200 stale', 'after a delete, any late delivery is stale');
SELECT is(pg_temp.apply(jsonb_set((SELECT body FROM v5 WHERE seq = 6), '{entry,updatedAt}', '"2030-01-01T00:00:00Z"')),
          '200 stale', 'even one newer than the delete: a delete is final');

-- Strapi 4: numeric ids, one row, publish without uid
SELECT is((SELECT array_agg(pg_temp.apply(body) ORDER BY seq) FROM v4),
          ARRAY['200 draft', '200 draft', '200 published', '200 updated', '200 unpublished', '200 deleted'],
          'v4: drafts, publish (without uid: the model names it), a live update, unpublish, delete');
SELECT is(pg_temp.replay('v4', ARRAY[1,2,3,4]), '[["12","MUG-4","Mug v3","13.00"]]'::jsonb,
          'v4: the product id is the entry id as text; an update of a published entry is live');
SELECT is(pg_temp.replay('v4', ARRAY[4,3,2,1]), '[["12","MUG-4","Mug v3","13.00"]]'::jsonb,
          'v4 in reverse order: the same');
SELECT is(pg_temp.replay('v4', ARRAY[6,5,4,3,2,1]), '[]'::jsonb, 'v4, all six in reverse: deleted');

-- duplicate and stale of one live delivery
SELECT pg_temp.replay('v5', ARRAY[3]);
SELECT is(pg_temp.apply((SELECT body FROM v5 WHERE seq = 3)), '200 duplicate', 'the same publish twice: a duplicate');
SELECT is(pg_temp.apply(jsonb_set(jsonb_set((SELECT body FROM v5 WHERE seq = 3), '{entry,updatedAt}', '"2026-11-25T01:00:00Z"'),
                                  '{entry,price}', '99')), '200 stale', 'a publish older than the one applied: stale');
SELECT is((SELECT price::text FROM multistore.products WHERE id = 'eyzlul50weh0n68yzgbr34xl'), '12.50', 'and its price was not taken');

-- malformed: 400 naming the fields, nothing applied
SELECT is(pg_temp.error_detail($$SELECT multistore.strapi_product_apply(
            '{"event":"entry.publish","model":"product","entry":{"documentId":"bad1","name":"x","price":-1,"currency":"usd",
              "updatedAt":"yesterday","publishedAt":"2026-11-25T00:00:00Z"}}')$$)::jsonb->'fields',
          '{"entry.sku":"is required","entry.price":"must be from 0 to 9999999999.99","entry.currency":"must be a three-letter code such as USD","entry.updatedAt":"must be a time such as 2026-11-25T01:48:38.669Z"}'::jsonb,
          'a malformed delivery: validation_failed naming each field');
SELECT pg_temp.throws_code($$SELECT multistore.strapi_product_apply('{"event":"entry.update","model":"product"}')$$,
                           'M4400', 'validation_failed', 'an entry is required');
SELECT pg_temp.throws_code($$SELECT multistore.strapi_product_apply('{"model":"product","entry":{}}')$$,
                           'M4400', 'validation_failed', 'an event is required');
SELECT pg_temp.throws_code($$SELECT multistore.strapi_product_apply('{"event":"entry.update","entry":{"id":1}}')$$,
                           'M4400', 'validation_failed', 'a model (or uid) is required');
SELECT is((SELECT count(*)::int FROM multistore.strapi_documents WHERE document_id = 'bad1') +
          (SELECT count(*)::int FROM multistore.products WHERE id = 'bad1'), 0, 'nothing of a malformed delivery is stored');
SELECT pg_temp.replay('v5', ARRAY[11]);
SELECT pg_temp.throws_code($$SELECT multistore.strapi_product_apply(
            '{"event":"entry.publish","model":"product","entry":{"documentId":"dupsku","sku":"SKU-1","name":"x","price":1,
              "updatedAt":"2026-11-25T00:00:00Z","publishedAt":"2026-11-25T00:00:00Z"}}')$$,
                           'M4409', 'sku_taken', 'a second live product with a SKU in use: sku_taken');

-- ignored and deferred
SELECT is((SELECT status || ' ' || body FROM multistore.strapi_product_apply('{"event":"media.create","media":{"id":1}}')),
          '202 {"status":"ignored","reason":"event \"media.create\" is not applied"}', 'media events are acknowledged and ignored');
SELECT is((SELECT status || ' ' || (body::jsonb->>'status') FROM multistore.strapi_product_apply(
            '{"event":"entry.draft-discard","model":"product","entry":{"documentId":"x"}}')), '202 ignored', 'entry.draft-discard is ignored');
SELECT is((SELECT status || ' ' || (body::jsonb->>'status') FROM multistore.strapi_product_apply(
            '{"event":"entry.update","model":"article","entry":{"id":1}}')), '202 ignored', 'another model is ignored');
SELECT is((SELECT status || ' ' || (body::jsonb->>'status') FROM multistore.strapi_product_apply(
            '{"event":"entry.publish","model":"product","entry":null}')), '202 deferred', 'entry.publish with entry null: 202 deferred');
SELECT is((SELECT count(*)::int FROM multistore.strapi_pending WHERE model = 'product'), 1, 'and kept for strapi-sync');

-- unpublished products: carts show them unavailable, checkout refuses them
SELECT pg_temp.add_store('t_s1', -61, 0);
SELECT pg_temp.add_store('t_s2', -61, 0.3);
SELECT pg_temp.replay('v5', ARRAY[11, 13]);
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('customer') AS alice, pg_temp.session_for('admin') AS admin;
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_s1', 'vxbznu5zlsj1dphd4xeutdho', '{"onHand":10}');
SELECT multistore.cart_add_item((SELECT alice FROM sess), '{"productId":"vxbznu5zlsj1dphd4xeutdho","quantity":2}');
SELECT pg_temp.apply(jsonb_set(jsonb_set((SELECT body FROM v5 WHERE seq = 11), '{event}', '"entry.unpublish"'), '{entry,updatedAt}', '"2026-11-25T02:00:00Z"'));
SELECT is((SELECT (multistore.cart_get((SELECT alice FROM sess))::jsonb)->'cart'->'items'->0->>'available'), 'false',
          'an unpublished product shows in the cart as unavailable');
SELECT is((SELECT p.status || ' ' || (p.body::jsonb->'error'->>'code') || ' ' || (p.body::jsonb->'error'->'details'->>'productIds')
             FROM multistore.order_place((SELECT alice FROM sess), 'k-unpub', '{"storeId":"t_s1","deliveryType":"pickup"}') p),
          '409 product_unavailable ["vxbznu5zlsj1dphd4xeutdho"]', 'and checkout refuses it: product_unavailable, naming it');
SELECT pg_temp.throws_code($$SELECT multistore.cart_add_item((SELECT alice FROM sess), '{"productId":"vxbznu5zlsj1dphd4xeutdho","quantity":1}')$$,
                           'M4409', 'product_unavailable', 'nor can it be added to a cart');
SELECT pg_temp.throws_code($$SELECT multistore.product_get('vxbznu5zlsj1dphd4xeutdho')$$, 'M4404', 'not_found',
                           'the catalogue no longer shows it');

-- stock
SELECT is((SELECT status || ' ' || (body::jsonb->>'status') FROM multistore.strapi_inventory_apply(
            '{"event":"entry.update","model":"inventory","entry":{"id":1,"store":{"id":"t_s1"},"product":{"documentId":"p63ycevk62nju8m380sgf2ak"},
              "quantity":6,"updatedAt":"2026-11-25T00:00:00Z"}}')), '200 updated', 'a stock entry sets on hand');
SELECT is(pg_temp.stock('t_s1', 'p63ycevk62nju8m380sgf2ak')->>'onHand', '6', 'to its quantity');
SELECT multistore.reservation_create((SELECT admin FROM sess), 't_s1', '{"items":[{"productId":"p63ycevk62nju8m380sgf2ak","quantity":4}]}');
SELECT is((SELECT status FROM multistore.strapi_inventory_apply(
            '{"event":"entry.update","model":"inventory","entry":{"id":1,"store":"t_s1","product":"p63ycevk62nju8m380sgf2ak",
              "quantity":2,"updatedAt":"2026-11-25T00:01:00Z"}}')), 200, 'setting it below what is held is accepted');
SELECT is((SELECT p->>'available' FROM json_array_elements(multistore.store_availability('t_s1', ARRAY['p63ycevk62nju8m380sgf2ak'])->'products') p),
          '0', 'and available is 0, never negative (4 held, 2 on hand)');
SELECT is((SELECT status || ' ' || (body::jsonb->>'status') FROM multistore.strapi_inventory_apply(
            '{"event":"entry.update","model":"inventory","entry":{"id":1,"store":"t_s1","product":"p63ycevk62nju8m380sgf2ak",
              "quantity":50,"updatedAt":"2026-11-25T00:00:30Z"}}')), '200 stale', 'an older stock delivery is stale');
SELECT is((SELECT status || ' ' || (body::jsonb->>'status') FROM multistore.strapi_inventory_apply(
            '{"event":"entry.create","model":"inventory","entry":{"id":2,"store":"t_s1","product":"not-yet",
              "quantity":5,"updatedAt":"2026-11-25T00:00:00Z"}}')), '202 deferred', 'stock of a product not known yet is deferred, not refused');
SELECT pg_temp.throws_code($$SELECT multistore.strapi_inventory_apply(
            '{"event":"entry.update","model":"inventory","entry":{"id":3,"store":"t_s1","product":"p63ycevk62nju8m380sgf2ak","quantity":-1,"updatedAt":"2026-11-25T00:00:00Z"}}')$$,
                           'M4400', 'validation_failed', 'a negative quantity is refused');
SELECT multistore.strapi_inventory_apply('{"event":"entry.delete","model":"inventory","entry":{"id":1,"updatedAt":"2026-11-25T00:02:00Z"}}');
SELECT is(pg_temp.stock('t_s1', 'p63ycevk62nju8m380sgf2ak')->>'onHand', '0', 'deleting the stock entry sets on hand to 0');

-- promotions
CREATE FUNCTION pg_temp.promo(id text, entry jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT a.body::jsonb->>'status' FROM multistore.strapi_promotion_apply(jsonb_build_object(
		'event', 'entry.publish', 'model', 'promotion',
		'entry', jsonb_build_object('documentId', id, 'updatedAt', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		                            'publishedAt', '2026-11-25T00:00:00Z') || entry)) a
$$;
SELECT pg_temp.add_product('t_p', 10.00);
SELECT pg_temp.add_product('t_cheap', 1.10);
CREATE FUNCTION pg_temp.price(product text, store text DEFAULT NULL) RETURNS text LANGUAGE sql AS
$$ SELECT (p->>'effectivePrice') || ' ' || coalesce(p->'promotion'->>'code', '-') FROM (SELECT multistore.product_get(product, store)::jsonb->'product' AS p) x $$;
SELECT is(pg_temp.price('t_p'), '10.00 -', 'no promotion: the price');
SELECT is(pg_temp.promo('pr10', '{"code":"TEN","discountType":"percentage","value":10,"products":["t_p"]}'), 'created', 'a promotion is created');
SELECT is(pg_temp.price('t_p'), '9.00 TEN', '10% off');
SELECT pg_temp.promo('pr3', '{"code":"THREE","discountType":"fixed","value":3,"currency":"USD","products":[{"documentId":"t_p"}]}');
SELECT is(pg_temp.price('t_p'), '7.00 THREE', 'promotions do not stack: the best one (3.00 off beats 10%)');
SELECT pg_temp.promo('pr50', '{"code":"HALF","discountType":"percentage","value":50,"products":["t_p"],"stores":[{"id":"t_s2"}]}');
SELECT is(pg_temp.price('t_p', 't_s2') || ' / ' || pg_temp.price('t_p', 't_s1') || ' / ' || pg_temp.price('t_p'),
          '5.00 HALF / 7.00 THREE / 7.00 THREE', 'a store-specific promotion applies at that store only');
SELECT pg_temp.promo('pr9', '{"code":"NINE","discountType":"fixed","value":9,"currency":"EUR","products":["t_p"]}');
SELECT is(pg_temp.price('t_p'), '7.00 THREE', 'a fixed amount in another currency does not apply');
SELECT pg_temp.promo('prbig', '{"code":"BIG","discountType":"fixed","value":5,"currency":"USD","products":["t_cheap"]}');
SELECT is(pg_temp.price('t_cheap'), '0.00 BIG', 'a price never goes below zero');
-- windows: start inclusive, end exclusive, at now() (this transaction's time)
UPDATE multistore.promotions SET starts_at = now() + interval '1 microsecond' WHERE id = 'pr3';
SELECT is(pg_temp.price('t_p'), '9.00 TEN', 'before its start a promotion does not apply');
UPDATE multistore.promotions SET starts_at = now() WHERE id = 'pr3';
SELECT is(pg_temp.price('t_p'), '7.00 THREE', 'from its start instant it does');
UPDATE multistore.promotions SET starts_at = now() - interval '1 day', ends_at = now() WHERE id = 'pr3';
SELECT is(pg_temp.price('t_p'), '9.00 TEN', 'at its end instant it does not');
UPDATE multistore.promotions SET ends_at = now() + interval '1 microsecond' WHERE id = 'pr3';
SELECT is(pg_temp.price('t_p'), '7.00 THREE', 'just before its end it does');
SELECT pg_temp.promo('pr3', '{"code":"THREE","discountType":"fixed","value":3,"currency":"USD","products":["t_p"],"active":false}');
SELECT is(pg_temp.price('t_p'), '9.00 TEN', 'an inactive promotion does not apply');
SELECT multistore.strapi_promotion_apply(jsonb_build_object('event', 'entry.unpublish', 'model', 'promotion',
       'entry', jsonb_build_object('documentId', 'pr10', 'updatedAt', '2030-01-01T00:00:00Z')));
SELECT is(pg_temp.price('t_p'), '10.00 -', 'nor an unpublished one');
SELECT pg_temp.throws_code($$SELECT pg_temp.promo('prbad', '{"code":"X","discountType":"percentage","value":150,"products":[]}')$$,
                           'M4400', 'validation_failed', 'a percentage over 100 or no products: validation_failed');

-- the cart and the order price through the same rule, the order keeps the promotion
SELECT pg_temp.promo('pr2', '{"code":"TWO","discountType":"fixed","value":2,"currency":"USD","products":["t_p"]}');
SELECT multistore.inventory_set((SELECT admin FROM sess), 't_s1', 't_p', '{"onHand":10}');
SELECT multistore.cart_clear((SELECT alice FROM sess));
CREATE TEMP TABLE c AS SELECT multistore.cart_add_item((SELECT alice FROM sess), '{"productId":"t_p","quantity":3}')::jsonb->'cart' AS c;
SELECT is((SELECT jsonb_build_array(c->'items'->0->'discount', c->'items'->0->'lineTotal', c->'items'->0->'promotion'->'code', c->'discount', c->'total') FROM c),
          '["6.00","24.00","TWO","6.00","24.00"]'::jsonb, 'the cart: discount per line (2.00 x 3) and in total');
CREATE TEMP TABLE o AS SELECT p.body::jsonb->'order' AS o FROM multistore.order_place((SELECT alice FROM sess), 'k-promo', '{"storeId":"t_s1","deliveryType":"pickup"}') p;
SELECT is((SELECT jsonb_build_array(o->'discount', o->'total', o->'items'->0->'promotion') FROM o),
          '["6.00","24.00",{"id":"pr2","code":"TWO"}]'::jsonb, 'the order snapshots the discount and the promotion applied');

-- strapi-sync: REST entries (v5 flat, v4 attributes), then finish
SELECT pg_temp.replay('v5', ARRAY[11]);
SELECT is((SELECT array_agg(multistore.strapi_sync_entry('product', e)::jsonb->>'status' ORDER BY (e->>'id')::int)
             FROM jsonb_array_elements(((:'v5page1'::jsonb)->'data') || ((:'v5page2'::jsonb)->'data')) e),
          ARRAY['unchanged', 'created', 'created'], 'sync: SKU-1 (its webhook applied) unchanged, the two others created');
SELECT is((SELECT array_agg(multistore.strapi_sync_entry('product', e)::jsonb->>'status')
             FROM jsonb_array_elements(((:'v5page1'::jsonb)->'data') || ((:'v5page2'::jsonb)->'data')) e),
          ARRAY['unchanged', 'unchanged', 'unchanged'], 'a second sync changes nothing');
SELECT is((SELECT multistore.strapi_sync_entry('product', jsonb_set(e, '{attributes,sku}', '"V4-SKU-1"'))::jsonb->>'id'
             FROM jsonb_array_elements((:'v4page1'::jsonb)->'data') e LIMIT 1),
          '1', 'a v4 entry {id, attributes} is read as flat, its id as the product id');
SELECT is(pg_temp.product('1'), '["1","V4-SKU-1","Item 1","1.25",true,false]'::jsonb, 'with its attributes');
SELECT multistore.strapi_sync_entry('promotion', '{"id":41,"attributes":{"code":"V4","discountType":"percentage","value":5,
  "products":{"data":[{"id":1,"attributes":{"sku":"V4-SKU-1"}}]},"stores":{"data":[]},
  "updatedAt":"2026-11-25T00:00:00Z","publishedAt":"2026-11-25T00:00:00Z"}}');
SELECT is((SELECT product_ids::text || ' ' || coalesce(store_ids::text, 'every store') FROM multistore.promotions WHERE id = '41'),
          '{1} every store', 'v4 relations as populated ({"data":[{id, attributes}]}) are read');
SELECT is(multistore.strapi_sync_finish('product', ARRAY['vxbznu5zlsj1dphd4xeutdho', 'p63ycevk62nju8m380sgf2ak', 'zmy32qeivx7g2q8fjpbsrip3'])::jsonb,
          '{"unpublished":["1"],"pendingCleared":1}'::jsonb,
          'finish: what came from Strapi and is no longer listed is unpublished; deferred deliveries are cleared');
SELECT is((SELECT published::text || ' ' || (deleted_at IS NULL)::text FROM multistore.products WHERE id = '1'), 'false true',
          'unpublished, never deleted');
SELECT is((SELECT count(*)::int FROM multistore.products WHERE id IN ('t_p', 't_cheap') AND published), 2,
          'products that did not come from Strapi are left alone');
-- a webhook applied while a sync runs is never unpublished by that sync
SELECT pg_temp.apply(jsonb_set(jsonb_set((SELECT body FROM v5 WHERE seq = 11), '{entry,documentId}', '"racer"'), '{entry,sku}', '"RACER"'));
UPDATE multistore.strapi_documents SET applied_at = now() + interval '1 second' WHERE document_id = 'racer';
SELECT is(multistore.strapi_sync_finish('product', ARRAY['vxbznu5zlsj1dphd4xeutdho', 'p63ycevk62nju8m380sgf2ak', 'zmy32qeivx7g2q8fjpbsrip3'],
                                        now() + interval '1 millisecond')::jsonb->'unpublished', '[]'::jsonb,
          'a document applied after the sync began is left for sale, though the listing missed it');
SELECT is(multistore.strapi_sync_finish('product', ARRAY['vxbznu5zlsj1dphd4xeutdho', 'p63ycevk62nju8m380sgf2ak', 'zmy32qeivx7g2q8fjpbsrip3'])::jsonb->'unpublished',
          '["racer"]'::jsonb, 'the next sync that does not list it unpublishes it');

SELECT * FROM finish();
ROLLBACK;
