-- Carts: one per user, lines added up, quantities 1..99, PUT 0 removes,
-- another user's line is not_found, only published products, one currency,
-- unknown fields refused, clear.  Pricing: money as strings with two
-- decimals, computed with numeric arithmetic, never floats.
\ir helpers.psql
BEGIN;
SELECT plan(66);

SELECT pg_temp.add_store('t_cart', -61, 0);
SELECT pg_temp.add_product('t_a', 1.10);
SELECT pg_temp.add_product('t_b', 2.50);
SELECT pg_temp.add_product('t_dime', 0.10);
SELECT pg_temp.add_product('t_fifth', 0.20);
SELECT pg_temp.add_product('t_dear', 99999.99);
SELECT pg_temp.add_product('t_hidden', 5.00);
UPDATE multistore.products SET published = false WHERE id = 't_hidden';
SELECT pg_temp.add_product('t_euro', 3.00);
UPDATE multistore.products SET currency = 'EUR' WHERE id = 't_euro';
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('customer') AS alice, pg_temp.session_for('customer') AS bob,
                                 pg_temp.session_for('customer') AS carol;

CREATE FUNCTION pg_temp.cart(who text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s uuid;
BEGIN
	EXECUTE format('SELECT %I FROM sess', who) INTO s;
	RETURN (multistore.cart_get(s)::jsonb)->'cart';
END $$;
CREATE FUNCTION pg_temp.add(who text, body jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s uuid;
BEGIN
	EXECUTE format('SELECT %I FROM sess', who) INTO s;
	RETURN (multistore.cart_add_item(s, body)::jsonb)->'cart';
END $$;
CREATE FUNCTION pg_temp.set(who text, item uuid, body jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s uuid;
BEGIN
	EXECUTE format('SELECT %I FROM sess', who) INTO s;
	RETURN (multistore.cart_set_item(s, item, body)::jsonb)->'cart';
END $$;
CREATE FUNCTION pg_temp.remove(who text, item uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s uuid;
BEGIN
	EXECUTE format('SELECT %I FROM sess', who) INTO s;
	RETURN (multistore.cart_remove_item(s, item)::jsonb)->'cart';
END $$;
-- the id of a user's line for a product
CREATE FUNCTION pg_temp.item(who text, product text) RETURNS uuid LANGUAGE sql AS
$$ SELECT (i->>'id')::uuid FROM jsonb_array_elements(pg_temp.cart(who)->'items') i WHERE i->>'productId' = product $$;
-- (productId, quantity) of every line, in order
CREATE FUNCTION pg_temp.lines(cart jsonb) RETURNS text LANGUAGE sql AS
$$ SELECT coalesce(string_agg((i->>'productId') || ' x' || (i->>'quantity'), ', ' ORDER BY n), '')
     FROM jsonb_array_elements(cart->'items') WITH ORDINALITY AS l(i, n) $$;

-- one cart per user
CREATE TEMP TABLE c0 AS SELECT pg_temp.cart('alice') AS c;
SELECT is((SELECT c - 'id' - 'updatedAt' FROM c0),
          '{"storeId":null,"items":[],"subtotal":"0.00","discount":"0.00","total":"0.00","currency":null}'::jsonb,
          'a new user has an empty cart, with money as "0.00" and no currency yet');
SELECT is(pg_temp.cart('alice')->>'id', (SELECT c->>'id' FROM c0), 'asking again gives the same cart');
SELECT is((SELECT count(*)::int FROM multistore.carts c JOIN multistore.sessions s ON s.user_id = c.user_id
            WHERE s.id = (SELECT alice FROM sess)), 1, 'one cart row per user');
SELECT isnt(pg_temp.cart('bob')->>'id', (SELECT c->>'id' FROM c0), 'another user has another cart');

-- adding
CREATE TEMP TABLE c1 AS SELECT pg_temp.add('alice', '{"productId":"t_a","quantity":3}') AS c;
SELECT is((SELECT (c->'items'->0) - 'id' FROM c1),
          '{"productId":"t_a","name":"Product t_a","quantity":3,"unitPrice":"1.10","discount":"0.00","lineTotal":"3.30","available":true,"promotion":null}'::jsonb,
          'a line has its product, name, quantity, unit price and line total: 3 x 1.10 = "3.30"');
SELECT is((SELECT jsonb_build_array(c->'subtotal', c->'discount', c->'total', c->'currency') FROM c1),
          '["3.30","0.00","3.30","USD"]'::jsonb, 'subtotal, discount, total as strings; the cart takes the currency of its first line');
SELECT is((SELECT c->>'id' FROM c1), (SELECT c->>'id' FROM c0), 'lines go into the user''s one cart');
CREATE TEMP TABLE c2 AS SELECT pg_temp.add('alice', '{"productId":"t_a","quantity":2}') AS c;
SELECT is(pg_temp.lines((SELECT c FROM c2)), 't_a x5', 'adding a product already in the cart adds to its quantity: 3 + 2');
SELECT is((SELECT c->'items'->0->>'id' FROM c2), (SELECT c->'items'->0->>'id' FROM c1), 'on the same line');
SELECT is((SELECT c->'items'->0->>'lineTotal' FROM c2), '5.50', 'and its line total follows: 5 x 1.10');
CREATE TEMP TABLE c3 AS SELECT pg_temp.add('alice', '{"productId":"t_b","quantity":1}') AS c;
SELECT is(pg_temp.lines((SELECT c FROM c3)), 't_a x5, t_b x1', 'another product is another line, in the order they were added');
SELECT is((SELECT c->>'subtotal' FROM c3), '8.00', 'subtotal 5.50 + 2.50');

-- quantity 1..99 per line
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_b","quantity":0}')$$)::jsonb,
          '{"code":"validation_failed","fields":{"quantity":"must be a whole number from 1 to 99"}}'::jsonb, 'adding 0 is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_b","quantity":100}')$$)::jsonb->'fields',
          '{"quantity":"must be a whole number from 1 to 99"}'::jsonb, 'adding 100 is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_b","quantity":1.5}')$$)::jsonb->'fields',
          '{"quantity":"must be a whole number from 1 to 99"}'::jsonb, 'adding 1.5 is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_b","quantity":-1}')$$)::jsonb->'fields',
          '{"quantity":"must be a whole number from 1 to 99"}'::jsonb, 'adding -1 is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_b","quantity":"2"}')$$)::jsonb->'fields',
          '{"quantity":"must be a number"}'::jsonb, 'a quantity in a string is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{}')$$)::jsonb->'fields',
          '{"productId":"is required","quantity":"is required"}'::jsonb, 'both fields are required, and both are named');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_a","quantity":95}')$$)::jsonb,
          '{"code":"validation_failed","fields":{"quantity":"would make the line more than 99"}}'::jsonb,
          'adding 95 to a line of 5 would pass 99: refused, not capped');
SELECT is(pg_temp.lines(pg_temp.cart('alice')), 't_a x5, t_b x1', 'and the cart is unchanged');
SELECT is(pg_temp.lines(pg_temp.add('alice', '{"productId":"t_a","quantity":94}')), 't_a x99, t_b x1', 'adding 94 reaches exactly 99');
SELECT is(pg_temp.cart('alice')->>'subtotal', '111.40', '99 x 1.10 + 2.50 = 111.40');

-- PUT: set a quantity; 0 removes
SELECT is(pg_temp.lines(pg_temp.set('alice', pg_temp.item('alice', 't_a'), '{"quantity":4}')), 't_a x4, t_b x1', 'setting a quantity replaces it');
SELECT is(pg_temp.cart('alice')->>'total', '6.90', 'and the total follows: 4 x 1.10 + 2.50');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.set('alice', pg_temp.item('alice', 't_a'), '{"quantity":100}')$$)::jsonb->'fields',
          '{"quantity":"must be a whole number from 0 to 99"}'::jsonb, 'setting 100 is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.set('alice', pg_temp.item('alice', 't_a'), '{"quantity":2.5}')$$)::jsonb->'fields',
          '{"quantity":"must be a whole number from 0 to 99"}'::jsonb, 'setting 2.5 is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.set('alice', pg_temp.item('alice', 't_a'), '{"quantity":-1}')$$)::jsonb->'fields',
          '{"quantity":"must be a whole number from 0 to 99"}'::jsonb, 'setting -1 is refused');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.set('alice', pg_temp.item('alice', 't_a'), '{"quantity":3,"productId":"t_b"}')$$)::jsonb->'fields',
          '{"productId":"is not a known field"}'::jsonb, 'a PUT takes only the quantity');
SELECT is(pg_temp.lines(pg_temp.cart('alice')), 't_a x4, t_b x1', 'refused changes leave the cart as it was');
SELECT is(pg_temp.lines(pg_temp.set('alice', pg_temp.item('alice', 't_b'), '{"quantity":0}')), 't_a x4', 'setting 0 removes the line');
SELECT is((SELECT count(*)::int FROM multistore.cart_items WHERE product_id = 't_b'), 0, 'the row is gone, not kept at 0');

-- another user's line is not_found, and stays as it was
SELECT pg_temp.add('bob', '{"productId":"t_b","quantity":2}');
SELECT pg_temp.throws_code($$SELECT pg_temp.set('alice', pg_temp.item('bob', 't_b'), '{"quantity":1}')$$,
                           'M4404', 'not_found', 'setting the quantity of another user''s line is not_found');
SELECT pg_temp.throws_code($$SELECT pg_temp.set('alice', pg_temp.item('bob', 't_b'), '{"quantity":0}')$$,
                           'M4404', 'not_found', 'so is removing it with quantity 0');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.remove('alice', pg_temp.item('bob', 't_b'))$$)::jsonb,
          '{"code":"not_found","resource":"cart_item"}'::jsonb, 'so is deleting it');
SELECT is(pg_temp.lines(pg_temp.cart('bob')), 't_b x2', 'bob''s line is untouched');
SELECT pg_temp.throws_code($$SELECT pg_temp.remove('alice', gen_random_uuid())$$, 'M4404', 'not_found', 'an unknown line id is not_found');
SELECT pg_temp.throws_code($$SELECT pg_temp.remove('alice', NULL)$$, 'M4400', 'validation_failed', 'a missing line id');

-- which products
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_ghost","quantity":1}')$$)::jsonb,
          '{"code":"not_found","resource":"product"}'::jsonb, 'an unknown product is not_found');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_hidden","quantity":1}')$$)::jsonb,
          '{"code":"product_unavailable","productIds":["t_hidden"]}'::jsonb, 'an unpublished product is product_unavailable');
SELECT pg_temp.throws_code($$SELECT pg_temp.add('alice', '{"productId":"t_hidden","quantity":1}')$$,
                           'M4409', 'product_unavailable', 'as a 409');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_euro","quantity":1}')$$)::jsonb->'fields',
          '{"productId":"is priced in another currency than the cart''s"}'::jsonb, 'a product in another currency than the cart''s');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"bad id!","quantity":1}')$$)::jsonb->'fields',
          '{"productId":"must be a product id"}'::jsonb, 'a malformed product id');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '{"productId":"t_a","quantity":1,"colour":"red","price":"0.01"}')$$)::jsonb->'fields',
          '{"colour":"is not a known field","price":"is not a known field"}'::jsonb, 'unknown fields are refused, each named');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.add('alice', '[1]')$$)::jsonb->'fields', '{"body":"must be a JSON object"}'::jsonb,
          'a body that is not an object');
SELECT is(pg_temp.lines(pg_temp.cart('alice')), 't_a x4', 'none of the refused additions changed the cart');

-- a store for the cart
SELECT pg_temp.throws_code($$SELECT pg_temp.add('alice', '{"productId":"t_a","quantity":1,"storeId":"t_nowhere"}')$$,
                           'M4404', 'not_found', 'an unknown store');
SELECT is(pg_temp.add('alice', '{"productId":"t_a","quantity":1,"storeId":"t_cart"}')->>'storeId', 't_cart', 'a line may name the cart''s store');

-- prices are read when the cart is, not stored in it
UPDATE multistore.products SET price = 1.25 WHERE id = 't_a';
SELECT is((SELECT jsonb_build_array(c->'items'->0->'unitPrice', c->'items'->0->'lineTotal', c->'total') FROM pg_temp.cart('alice') c),
          '["1.25","6.25","6.25"]'::jsonb, 'a price change shows at once');
SELECT pg_temp.add('alice', '{"productId":"t_b","quantity":2}');
UPDATE multistore.products SET published = false WHERE id = 't_b';
SELECT is((SELECT jsonb_build_array(c->'items'->1->'available', c->'items'->1->'lineTotal', c->'subtotal') FROM pg_temp.cart('alice') c),
          '[false,"5.00","6.25"]'::jsonb, 'a product unpublished after it was added shows unavailable and counts for nothing');
UPDATE multistore.products SET published = true WHERE id = 't_b';

-- numeric, not floating point
SELECT pg_temp.add('carol', '{"productId":"t_dime","quantity":3}');
SELECT is(pg_temp.cart('carol')->>'total', '0.30', '3 x 0.10 = "0.30" (0.30000000000000004 in floating point)');
SELECT pg_temp.add('carol', '{"productId":"t_fifth","quantity":1}');
SELECT is(pg_temp.cart('carol')->>'total', '0.50', '0.30 + 0.20 = "0.50"');
SELECT pg_temp.add('carol', '{"productId":"t_dear","quantity":99}');
CREATE TEMP TABLE big AS SELECT pg_temp.cart('carol') AS c;
SELECT is((SELECT c->'items'->2->>'lineTotal' FROM big), '9899999.01', '99 x 99999.99 = "9899999.01", exact');
SELECT is((SELECT c->>'subtotal' FROM big), '9899999.51', 'subtotal 0.30 + 0.20 + 9899999.01');
SELECT is((SELECT sum((i->>'lineTotal')::numeric) FROM big, jsonb_array_elements(c->'items') i), (SELECT (c->>'subtotal')::numeric FROM big),
          'the subtotal is the numeric sum of the line totals');
SELECT ok((SELECT bool_and((i->>'lineTotal')::numeric = (i->>'unitPrice')::numeric * (i->>'quantity')::int - (i->>'discount')::numeric)
             FROM big, jsonb_array_elements(c->'items') i), 'each line total is unit price x quantity - discount');
SELECT is((SELECT (c->>'total')::numeric FROM big), (SELECT (c->>'subtotal')::numeric - (c->>'discount')::numeric FROM big),
          'total = subtotal - discount');
SELECT is((SELECT count(*)::int FROM big, LATERAL (SELECT c->>'subtotal' UNION ALL SELECT c->>'discount' UNION ALL SELECT c->>'total'
                                                   UNION ALL SELECT i->>k FROM jsonb_array_elements(c->'items') i, unnest(ARRAY['unitPrice','discount','lineTotal']) k) m(v)
            WHERE v !~ '^[0-9]+\.[0-9]{2}$'), 0, 'every amount is a string with exactly two decimals');

-- remove and clear
SELECT is(pg_temp.lines(pg_temp.remove('carol', pg_temp.item('carol', 't_fifth'))), 't_dime x3, t_dear x99', 'DELETE removes one line');
CREATE TEMP TABLE cleared AS SELECT (multistore.cart_clear((SELECT carol FROM sess))::jsonb)->'cart' AS c;
SELECT is((SELECT c - 'id' - 'updatedAt' - 'storeId' FROM cleared),
          '{"items":[],"subtotal":"0.00","discount":"0.00","total":"0.00","currency":null}'::jsonb, 'clear empties the cart');
SELECT is((SELECT c->>'id' FROM cleared), pg_temp.cart('carol')->>'id', 'and keeps it: still one cart');
SELECT is(pg_temp.add('carol', '{"productId":"t_euro","quantity":1}')->>'currency', 'EUR', 'an emptied cart takes the currency of its next first line');
SELECT is(pg_temp.lines(pg_temp.cart('alice')), 't_a x5, t_b x2', 'other carts are untouched');

-- at most 100 lines: the 101st product is refused, more of one already there is not
CREATE TEMP TABLE dave AS SELECT pg_temp.session_for('customer') AS sid;
SELECT pg_temp.add_product('t_line_' || g, 1.00) FROM generate_series(1, 101) g;
SELECT multistore.cart_add_item((SELECT sid FROM dave), jsonb_build_object('productId', 't_line_' || g, 'quantity', 1))
  FROM generate_series(1, 100) g;
SELECT pg_temp.throws_code($$SELECT multistore.cart_add_item((SELECT sid FROM dave), '{"productId":"t_line_101","quantity":1}')$$,
                           'M4400', 'validation_failed', 'a 101st line is refused');
SELECT is((multistore.cart_add_item((SELECT sid FROM dave), '{"productId":"t_line_1","quantity":1}')::jsonb)->'cart'->'items'->0->>'quantity',
          '2', 'adding to a line already there still works');

-- who
SELECT pg_temp.throws_code($$SELECT multistore.cart_get(NULL)$$, 'M4401', 'unauthorized', 'no session');
SELECT pg_temp.throws_code($$SELECT multistore.cart_add_item(gen_random_uuid(), '{"productId":"t_a","quantity":1}')$$,
                           'M4401', 'invalid_token', 'an unknown session');

SELECT * FROM finish();
ROLLBACK;
