-- multistore: the install script of the current version.
-- The Makefile copies it to multistore--<version>.sql; released versions are
-- frozen, changes go into multistore--<old>--<new>.sql as well.

\echo Use "CREATE EXTENSION multistore CASCADE" to load this file. \quit

-- Helpers that are never routed by the proxy and need no grant live apart.
CREATE SCHEMA multistore_internal;
COMMENT ON SCHEMA multistore_internal IS 'multistore: internal helpers and diagnostics, not part of the API';

------------------------------------------------------------------------------
-- Stores
------------------------------------------------------------------------------

CREATE TABLE stores (
	id text PRIMARY KEY,
	name text NOT NULL,
	address text NOT NULL,
	phone text,
	location geography(Point, 4326) NOT NULL,
	time_zone text NOT NULL,
	opening_hours jsonb NOT NULL DEFAULT '{}',
	hours_exceptions jsonb NOT NULL DEFAULT '{}',
	delivery_radius_km numeric(7, 3) NOT NULL DEFAULT 5,
	accepting_orders boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT stores_id_format CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
	CONSTRAINT stores_hours_are_objects
		CHECK (jsonb_typeof(opening_hours) = 'object' AND jsonb_typeof(hours_exceptions) = 'object'),
	CONSTRAINT stores_delivery_radius_range CHECK (delivery_radius_km BETWEEN 0 AND 100)
);
COMMENT ON TABLE stores IS 'multistore: stores with their location, time zone, opening hours and delivery radius';
COMMENT ON COLUMN stores.opening_hours IS 'weekly hours: {"monday":[{"opens":"08:00","closes":"22:00"}],...}; closes <= opens runs past midnight';
COMMENT ON COLUMN stores.hours_exceptions IS 'dated overrides of the weekly hours: {"2026-12-25":[]} is closed that day';
CREATE INDEX stores_location_idx ON stores USING gist (location);
COMMENT ON INDEX stores_location_idx IS 'multistore: KNN and radius searches for nearby stores';

------------------------------------------------------------------------------
-- Products and stock
------------------------------------------------------------------------------

CREATE TABLE products (
	id text PRIMARY KEY,
	sku text NOT NULL,
	name text NOT NULL,
	description text NOT NULL DEFAULT '',
	price numeric(12, 2) NOT NULL,
	currency char(3) NOT NULL DEFAULT 'USD',
	image_url text,
	published boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	deleted_at timestamptz,
	CONSTRAINT products_id_format CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
	CONSTRAINT products_price_not_negative CHECK (price >= 0),
	CONSTRAINT products_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
	CONSTRAINT products_deleted_not_published CHECK (deleted_at IS NULL OR NOT published)
);
COMMENT ON TABLE products IS 'multistore: the catalogue; prices are numeric with a currency, never floats';
COMMENT ON COLUMN products.published IS 'for sale: carts and orders take only published products';
COMMENT ON COLUMN products.deleted_at IS 'deleted in the CMS: kept, unpublished, for the orders that name it';
CREATE UNIQUE INDEX products_sku_key ON products (sku) WHERE deleted_at IS NULL;
COMMENT ON INDEX products_sku_key IS 'multistore: one product per SKU among those not deleted';
CREATE INDEX products_search_idx ON products USING gin ((name || ' ' || sku) gin_trgm_ops);
COMMENT ON INDEX products_search_idx IS 'multistore: the catalogue''s q search, a substring of the name or SKU (pg_trgm)';

-- Promotions, from the CMS: a discount per unit on listed products, at
-- listed stores (NULL: every store), inside a window, while active.
CREATE TABLE promotions (
	id text PRIMARY KEY,
	code text NOT NULL,
	name text NOT NULL DEFAULT '',
	discount_type text NOT NULL,
	value numeric(12, 2) NOT NULL,
	currency char(3),
	product_ids text[] NOT NULL,
	store_ids text[],
	starts_at timestamptz,
	ends_at timestamptz,
	active boolean NOT NULL DEFAULT true,
	published boolean NOT NULL DEFAULT true,
	deleted_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT promotions_id_format CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
	CONSTRAINT promotions_type_known CHECK (discount_type IN ('percentage', 'fixed')),
	CONSTRAINT promotions_value_range
		CHECK (value > 0 AND (discount_type = 'fixed' OR value <= 100)),
	CONSTRAINT promotions_fixed_has_currency CHECK ((discount_type = 'fixed') = (currency IS NOT NULL)),
	CONSTRAINT promotions_window CHECK (ends_at IS NULL OR starts_at IS NULL OR starts_at < ends_at)
);
COMMENT ON TABLE promotions IS 'multistore: promotions from the CMS; pricing.c gives each line the single best one that applies';
COMMENT ON COLUMN promotions.value IS 'percent off (0 to 100) or an amount off per unit in currency';
COMMENT ON COLUMN promotions.store_ids IS 'the stores it applies at; NULL: every store';
COMMENT ON COLUMN promotions.starts_at IS 'inclusive; ends_at is exclusive';
CREATE INDEX promotions_products_idx ON promotions USING gin (product_ids);
COMMENT ON INDEX promotions_products_idx IS 'multistore: the promotions that name a product';

CREATE TABLE inventory (
	store_id text NOT NULL REFERENCES stores ON DELETE CASCADE,
	product_id text NOT NULL REFERENCES products ON DELETE CASCADE,
	bucket smallint NOT NULL,
	on_hand integer NOT NULL DEFAULT 0,
	held integer NOT NULL DEFAULT 0,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (store_id, product_id, bucket),
	CONSTRAINT inventory_bucket_range CHECK (bucket BETWEEN 0 AND 63),
	CONSTRAINT inventory_on_hand_not_negative CHECK (on_hand >= 0),
	CONSTRAINT inventory_held_not_negative CHECK (held >= 0)
);
COMMENT ON TABLE inventory IS 'multistore: stock per store and product, split into buckets that sessions lock independently; a product''s on hand and held are the sums over its buckets';
COMMENT ON COLUMN inventory.held IS 'units held by this bucket''s active holds (reservation_holds), overdue ones included until they are written down';

------------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------------

CREATE TABLE users (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email text NOT NULL,
	password_hash text NOT NULL,
	first_name text NOT NULL DEFAULT '',
	last_name text NOT NULL DEFAULT '',
	phone text,
	role text NOT NULL DEFAULT 'customer',
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT users_role_known CHECK (role IN ('customer', 'store_manager', 'admin')),
	CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email)))
);
COMMENT ON TABLE users IS 'multistore: accounts; email is stored normalised (trimmed, lower case), passwords only as PHC hashes';
CREATE UNIQUE INDEX users_email_key ON users (email);
COMMENT ON INDEX users_email_key IS 'multistore: one account per email, case-insensitively (emails are stored lower case)';

CREATE TABLE store_managers (
	store_id text NOT NULL REFERENCES stores ON DELETE CASCADE,
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (store_id, user_id)
);
COMMENT ON TABLE store_managers IS 'multistore: which store managers manage which stores';
CREATE INDEX store_managers_user_idx ON store_managers (user_id);
COMMENT ON INDEX store_managers_user_idx IS 'multistore: the stores of one manager';

CREATE TABLE sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz,
	revoked_reason text,
	CONSTRAINT sessions_revoked_reason_known
		CHECK (revoked_reason IN ('logout', 'refresh_token_reused', 'role_changed', 'admin'))
);
COMMENT ON TABLE sessions IS 'multistore: login sessions; a session is a family of refresh tokens, and access tokens name it in "sid"';
CREATE INDEX sessions_user_idx ON sessions (user_id);
COMMENT ON INDEX sessions_user_idx IS 'multistore: the sessions of one user';

CREATE TABLE refresh_tokens (
	token_hash bytea PRIMARY KEY,
	session_id uuid NOT NULL REFERENCES sessions ON DELETE CASCADE,
	issued_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	replaced_at timestamptz,
	CONSTRAINT refresh_tokens_hash_is_sha256 CHECK (length(token_hash) = 32)
);
COMMENT ON TABLE refresh_tokens IS 'multistore: refresh tokens, stored only as SHA-256; replaced_at is set when one is exchanged';
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
COMMENT ON INDEX refresh_tokens_session_idx IS 'multistore: the tokens of one session family';

------------------------------------------------------------------------------
-- Reservations
------------------------------------------------------------------------------

CREATE TABLE reservations (
	store_id text NOT NULL REFERENCES stores ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	status text NOT NULL DEFAULT 'active',
	owner_type text NOT NULL,
	owner_ref text,
	created_by uuid REFERENCES users ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	-- id first: reservations are found by id; store_id in the key for distribution
	PRIMARY KEY (id, store_id),
	CONSTRAINT reservations_status_known CHECK (status IN ('active', 'consumed', 'released', 'expired')),
	CONSTRAINT reservations_owner_known CHECK (owner_type IN ('order', 'cart', 'external'))
);
COMMENT ON TABLE reservations IS 'multistore: stock held at one store for a while; an active reservation past expires_at is expired';
-- Few indexes on purpose: a reservation touches reservations, holds, inventory,
-- stores, products, users and sessions, and PostgreSQL keeps only 16 relation
-- locks per backend off its shared lock table; past that, 64 sessions queue on it.
CREATE INDEX reservations_due_idx ON reservations (expires_at) WHERE status = 'active';
COMMENT ON INDEX reservations_due_idx IS 'multistore: the sweep finds overdue reservations';

CREATE TABLE reservation_holds (
	store_id text NOT NULL,
	reservation_id uuid NOT NULL,
	product_id text NOT NULL,
	bucket smallint NOT NULL,
	quantity integer NOT NULL,
	state text NOT NULL DEFAULT 'active',
	expires_at timestamptz NOT NULL,
	PRIMARY KEY (reservation_id, store_id, product_id, bucket),
	FOREIGN KEY (reservation_id, store_id) REFERENCES reservations ON DELETE CASCADE,
	CONSTRAINT reservation_holds_quantity_positive CHECK (quantity > 0),
	CONSTRAINT reservation_holds_state_known CHECK (state IN ('active', 'consumed', 'released', 'expired'))
);
COMMENT ON TABLE reservation_holds IS 'multistore: what a reservation holds in each bucket; a hold changes state only under its bucket''s row lock';
CREATE INDEX reservation_holds_due_idx ON reservation_holds (store_id, product_id, expires_at) WHERE state = 'active';
COMMENT ON INDEX reservation_holds_due_idx IS 'multistore: overdue holds of a product, counted as released by readers and written down by writers';

------------------------------------------------------------------------------
-- Carts and orders
------------------------------------------------------------------------------

CREATE TABLE carts (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	store_id text REFERENCES stores ON DELETE SET NULL,
	currency char(3),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT carts_one_per_user UNIQUE (user_id)
);
COMMENT ON TABLE carts IS 'multistore: one cart per user, in one currency (set by its first line), optionally for a store';

CREATE TABLE cart_items (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	cart_id uuid NOT NULL REFERENCES carts ON DELETE CASCADE,
	product_id text NOT NULL REFERENCES products,
	quantity integer NOT NULL,
	added_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT cart_items_one_line_per_product UNIQUE (cart_id, product_id),
	CONSTRAINT cart_items_quantity_range CHECK (quantity BETWEEN 1 AND 99)
);
COMMENT ON TABLE cart_items IS 'multistore: cart lines; prices are not stored here but computed by the pricing function';

CREATE TABLE orders (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	store_id text NOT NULL REFERENCES stores,
	user_id uuid NOT NULL REFERENCES users,
	status text NOT NULL DEFAULT 'pending_payment',
	delivery_type text NOT NULL,
	delivery_address jsonb,
	notes text,
	currency char(3) NOT NULL,
	subtotal numeric(12, 2) NOT NULL,
	discount numeric(12, 2) NOT NULL DEFAULT 0,
	total numeric(12, 2) NOT NULL,
	reservation_id uuid,
	payment_due_at timestamptz NOT NULL,
	paid_at timestamptz,
	refund_required boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	-- id first: orders are found by id; store_id in the key for distribution
	PRIMARY KEY (id, store_id),
	CONSTRAINT orders_status_known CHECK (status IN ('pending_payment', 'confirmed', 'preparing', 'ready_for_pickup',
	                                                 'out_for_delivery', 'completed', 'delivered', 'cancelled', 'expired')),
	CONSTRAINT orders_delivery_type_known CHECK (delivery_type IN ('delivery', 'pickup')),
	CONSTRAINT orders_money_not_negative CHECK (subtotal >= 0 AND discount >= 0 AND total >= 0)
);
COMMENT ON TABLE orders IS 'multistore: orders at one store; money is numeric with a currency; status follows the state machine of orders_status.c';
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC, id DESC);
COMMENT ON INDEX orders_user_idx IS 'multistore: a customer''s orders, newest first (cursor pagination)';
CREATE INDEX orders_store_idx ON orders (store_id, created_at DESC, id DESC);
COMMENT ON INDEX orders_store_idx IS 'multistore: a store''s orders, newest first (cursor pagination)';
CREATE INDEX orders_due_idx ON orders (payment_due_at) WHERE status = 'pending_payment';
COMMENT ON INDEX orders_due_idx IS 'multistore: unpaid orders past their payment deadline, for the expiry job';

CREATE TABLE order_items (
	order_id uuid NOT NULL,
	store_id text NOT NULL,
	line smallint NOT NULL,
	product_id text NOT NULL,
	name text NOT NULL,
	unit_price numeric(12, 2) NOT NULL,
	quantity integer NOT NULL,
	discount numeric(12, 2) NOT NULL DEFAULT 0,
	line_total numeric(12, 2) NOT NULL,
	promotion_id text,
	promotion_code text,
	PRIMARY KEY (order_id, store_id, line),
	FOREIGN KEY (order_id, store_id) REFERENCES orders ON DELETE CASCADE
);
COMMENT ON TABLE order_items IS 'multistore: what was ordered, with the name, price and promotion at the time (snapshots)';

CREATE TABLE order_status_history (
	order_id uuid NOT NULL,
	store_id text NOT NULL,
	seq smallint NOT NULL,
	from_status text,
	to_status text NOT NULL,
	actor_id uuid,
	actor text NOT NULL,
	note text,
	at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (order_id, store_id, seq),
	FOREIGN KEY (order_id, store_id) REFERENCES orders ON DELETE CASCADE
);
COMMENT ON TABLE order_status_history IS 'multistore: every status change of an order, who (a user, the payment provider or the expiry job) and when';

CREATE TABLE idempotency_keys (
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	key text NOT NULL,
	request_hash bytea NOT NULL,
	status integer NOT NULL,
	response json NOT NULL,
	order_id uuid,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, key)
);
COMMENT ON TABLE idempotency_keys IS 'multistore: the outcome of each order request by (user, Idempotency-Key), replayed for 24 hours';
CREATE INDEX idempotency_keys_age_idx ON idempotency_keys (created_at);
COMMENT ON INDEX idempotency_keys_age_idx IS 'multistore: purging keys older than 24 hours';

CREATE TABLE payment_events (
	id text PRIMARY KEY,
	type text NOT NULL,
	order_id uuid,
	amount numeric, -- as sent, unrounded: the evidence of what the provider said
	currency char(3),
	outcome text NOT NULL,
	payload jsonb NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT payment_events_outcome_known
		CHECK (outcome IN ('confirmed', 'cancelled', 'mismatch', 'refund_required', 'ignored'))
);
COMMENT ON TABLE payment_events IS 'multistore: every payment event applied, once each, with what it did';

------------------------------------------------------------------------------
-- Strapi ingestion (strapi.c): what was last applied of each CMS document,
-- so that stale and repeated deliveries change nothing
------------------------------------------------------------------------------

CREATE TABLE strapi_documents (
	model text NOT NULL,
	document_id text NOT NULL,
	target_id text NOT NULL,
	live_updated_at timestamptz,
	live_published_at timestamptz,
	live_event smallint,
	draft_updated_at timestamptz,
	deleted_at timestamptz,
	applied_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (model, document_id),
	CONSTRAINT strapi_documents_model_known CHECK (model IN ('product', 'inventory', 'promotion'))
);
COMMENT ON TABLE strapi_documents IS 'multistore: per CMS document, the version of the last delivery applied: (entry.updatedAt, entry.publishedAt, event) orders deliveries; a deleted document takes nothing more';
COMMENT ON COLUMN strapi_documents.target_id IS 'the row it feeds: a product or promotion id, or store_id/product_id for stock';
COMMENT ON COLUMN strapi_documents.live_event IS 'rank of the event last applied to the live row: 0 create, 1 update, 2 publish, 3 unpublish';
COMMENT ON COLUMN strapi_documents.draft_updated_at IS 'entry.updatedAt of the last draft seen (Strapi 5 drafts do not change what is for sale)';

CREATE TABLE strapi_pending (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	model text NOT NULL,
	event text NOT NULL,
	reason text NOT NULL,
	payload jsonb NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE strapi_pending IS 'multistore: deliveries that could not be applied (entry.publish with entry null): strapi-sync reconciles and clears them';

------------------------------------------------------------------------------
-- The SQL API.  Every function returns the response body as json; errors
-- carry a SQLSTATE of class M4/M5 and DETAIL {"code":...} (docs/errors.md).
------------------------------------------------------------------------------

CREATE FUNCTION health()
RETURNS json
AS 'MODULE_PATHNAME', 'ms_health'
LANGUAGE C STABLE;
COMMENT ON FUNCTION health() IS
'{"db":"ok","extensionVersion":...,"libraryVersion":...}: the installed version and the loaded library''s';

CREATE FUNCTION stores_nearby(latitude float8, longitude float8, radius_km float8 DEFAULT 10,
                              max_results integer DEFAULT 20, basket text[] DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_stores_nearby'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION stores_nearby(float8, float8, float8, integer, text[]) IS
'stores within radius_km (0 < r <= 100) of a point, nearest first: {"stores":[{id,name,address,location,distanceKm,isOpen,acceptingOrders}]}; with a basket (''prod_1:2'', ''prod_7''), only stores where every product is available now in that quantity';

CREATE FUNCTION store_get(store_id text)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_store_get'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION store_get(text) IS
'one store with its hours, time zone and whether it is open now: {"store":{...}}';

CREATE FUNCTION store_availability(store_id text, product_ids text[] DEFAULT '{}',
                                   at timestamptz DEFAULT now())
RETURNS json
AS 'MODULE_PATHNAME', 'ms_store_availability'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION store_availability(text, text[], timestamptz) IS
'whether a store is open at a time in its own time zone, when it next opens, whether it takes orders, and stock available per product';

CREATE FUNCTION store_create(session_id uuid, store jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_store_create'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION store_create(uuid, jsonb) IS
'creates a store (admin): {id?,name,address,phone?,location:{latitude,longitude},timeZone,openingHours,hoursExceptions?,deliveryRadiusKm?,acceptingOrders?}';

CREATE FUNCTION store_update(session_id uuid, store_id text, store jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_store_update'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION store_update(uuid, text, jsonb) IS
'changes the given fields of a store (admin); absent fields keep their value';

CREATE FUNCTION inventory_set(session_id uuid, store_id text, product_id text, stock jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_inventory_set'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION inventory_set(uuid, text, text, jsonb) IS
'sets stock on hand {"onHand":n} (managers of the store, admins): {"stock":{storeId,productId,onHand,held,available}}; below what is held leaves available at 0';

CREATE FUNCTION reservation_create(session_id uuid, store_id text, reservation jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_reservation_create'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION reservation_create(uuid, text, jsonb) IS
'holds stock at a store, every line or none (managers of the store, admins): {items:[{productId,quantity}],ttlSeconds?,reference?} -> {"reservation":{...}}; out_of_stock names every short line';

CREATE FUNCTION reservation_get(session_id uuid, reservation_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_reservation_get'
LANGUAGE C STABLE;
COMMENT ON FUNCTION reservation_get(uuid, uuid) IS
'{"reservation":{id,storeId,status,ownerType,ownerRef,items,createdAt,expiresAt,updatedAt}} for managers of its store and admins';

CREATE FUNCTION reservation_release(session_id uuid, reservation_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_reservation_release'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION reservation_release(uuid, uuid) IS
'releases a reservation: held stock returns; releasing a released or expired one changes nothing';

CREATE FUNCTION reservation_consume(session_id uuid, reservation_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_reservation_consume'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION reservation_consume(uuid, uuid) IS
'turns a reservation into a sale: on hand goes down by what was held and the holds end';

CREATE FUNCTION reservation_extend(session_id uuid, reservation_id uuid, ttl_seconds integer)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_reservation_extend'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION reservation_extend(uuid, uuid, integer) IS
'makes an active reservation expire ttl_seconds from now';

CREATE FUNCTION reservations_expire()
RETURNS bigint
AS 'MODULE_PATHNAME', 'ms_reservations_expire'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION reservations_expire() IS
'the sweep: writes down overdue reservations as expired and returns their stock, skipping rows in use; returns how many it expired';
REVOKE ALL ON FUNCTION reservations_expire() FROM public;
-- Run by pg_cron (jobs_schedule) as the extension's owner; grant to a DBA role if needed.

CREATE FUNCTION cart_get(session_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_cart_get'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cart_get(uuid) IS
'the caller''s cart: {"cart":{id,storeId,items:[{id,productId,name,quantity,unitPrice,discount,lineTotal,available}],subtotal,discount,total,currency,updatedAt}}; money as strings';

CREATE FUNCTION cart_add_item(session_id uuid, item jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_cart_add_item'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cart_add_item(uuid, jsonb) IS
'adds {productId,quantity,storeId?} to the caller''s cart (a product already there gets the quantities added, up to 99): {"cart":{...}}';

CREATE FUNCTION cart_set_item(session_id uuid, item_id uuid, item jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_cart_set_item'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cart_set_item(uuid, uuid, jsonb) IS
'sets the quantity of a cart line {quantity}; 0 removes it: {"cart":{...}}';

CREATE FUNCTION cart_remove_item(session_id uuid, item_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_cart_remove_item'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cart_remove_item(uuid, uuid) IS
'removes a line from the caller''s cart: {"cart":{...}}';

CREATE FUNCTION cart_clear(session_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_cart_clear'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cart_clear(uuid) IS
'empties the caller''s cart: {"cart":{...}}';

CREATE FUNCTION order_place(session_id uuid, idempotency_key text, order_request jsonb,
                            OUT status integer, OUT body json, OUT replayed boolean)
AS 'MODULE_PATHNAME', 'ms_order_place'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION order_place(uuid, text, jsonb) IS
'turns the caller''s cart into an order {storeId,deliveryType,deliveryAddress?,notes?} once per idempotency key: (201, {"order":{...}}, false), a stored refusal (409 out_of_stock, store_closed ...), or the first outcome again with replayed = true';

CREATE FUNCTION order_get(session_id uuid, order_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_order_get'
LANGUAGE C STABLE;
COMMENT ON FUNCTION order_get(uuid, uuid) IS
'{"order":{...,items,history}} for its owner, managers of its store and admins; not_found for anyone else';

CREATE FUNCTION orders_list(session_id uuid, cursor text DEFAULT NULL, max_results integer DEFAULT 20)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_orders_list'
LANGUAGE C STABLE;
COMMENT ON FUNCTION orders_list(uuid, text, integer) IS
'the caller''s orders, newest first: {"orders":[{id,storeId,status,deliveryType,total,currency,itemCount,createdAt}],"nextCursor":...}';

CREATE FUNCTION store_orders(session_id uuid, store_id text, status text DEFAULT NULL,
                             cursor text DEFAULT NULL, max_results integer DEFAULT 20)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_store_orders'
LANGUAGE C STABLE;
COMMENT ON FUNCTION store_orders(uuid, text, text, text, integer) IS
'a store''s orders, newest first, optionally of one status, for its managers and admins';

CREATE FUNCTION order_set_status(session_id uuid, order_id uuid, change jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_order_set_status'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION order_set_status(uuid, uuid, jsonb) IS
'moves an order along the state machine {status,note?} (managers of its store, admins); anything else is invalid_transition';

CREATE FUNCTION order_cancel(session_id uuid, order_id uuid, note text DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_order_cancel'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION order_cancel(uuid, uuid, text) IS
'cancels an order: its owner while unpaid or confirmed, managers and admins until it is handed over; releases or restocks its stock';

CREATE FUNCTION payment_apply(event jsonb, OUT status integer, OUT body json, OUT replayed boolean)
AS 'MODULE_PATHNAME', 'ms_payment_apply'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION payment_apply(jsonb) IS
'applies a payment event {id,type,orderId,amount,currency} once (the caller checked its signature): confirms and sells, or cancels, or records a mismatch (422) or a refund to make';
REVOKE ALL ON FUNCTION payment_apply(jsonb) FROM public;
-- For the role of the payment webhook (the proxy).

------------------------------------------------------------------------------
-- Strapi ingestion and the catalogue (strapi.c, catalogue.c)
------------------------------------------------------------------------------

CREATE FUNCTION strapi_product_apply(delivery jsonb, OUT status integer, OUT body json, OUT replayed boolean)
AS 'MODULE_PATHNAME', 'ms_strapi_product_apply'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION strapi_product_apply(jsonb) IS
'applies one Strapi webhook delivery {event,model,uid,entry} for a product (v4 or v5); status 200 with {"status":"created|updated|unpublished|deleted|draft|stale|duplicate"}, or 202 with "ignored" or "deferred"';
REVOKE ALL ON FUNCTION strapi_product_apply(jsonb) FROM public;

CREATE FUNCTION strapi_inventory_apply(delivery jsonb, OUT status integer, OUT body json, OUT replayed boolean)
AS 'MODULE_PATHNAME', 'ms_strapi_inventory_apply'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION strapi_inventory_apply(jsonb) IS
'applies one Strapi webhook delivery for a stock entry {store,product,quantity}: sets on hand through the reservation engine (available never negative)';
REVOKE ALL ON FUNCTION strapi_inventory_apply(jsonb) FROM public;

CREATE FUNCTION strapi_promotion_apply(delivery jsonb, OUT status integer, OUT body json, OUT replayed boolean)
AS 'MODULE_PATHNAME', 'ms_strapi_promotion_apply'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION strapi_promotion_apply(jsonb) IS
'applies one Strapi webhook delivery for a promotion {code,name,discountType,value,currency,products,stores,startsAt,endsAt,active}';
REVOKE ALL ON FUNCTION strapi_promotion_apply(jsonb) FROM public;

CREATE FUNCTION strapi_sync_entry(model text, entry jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_strapi_sync_entry'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION strapi_sync_entry(text, jsonb) IS
'applies one entry of Strapi''s REST listing (v5 flat, or v4 {id,attributes}) as published, with the webhooks'' stale rules: {"status":"created|updated|unchanged|stale","id":...}';
REVOKE ALL ON FUNCTION strapi_sync_entry(text, jsonb) FROM public;

CREATE FUNCTION strapi_sync_finish(model text, seen_ids text[], started_at timestamptz DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_strapi_sync_finish'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION strapi_sync_finish(text, text[], timestamptz) IS
'ends a reconciliation: unpublishes (never deletes) what came from Strapi, is not listed and was not applied since started_at (a webhook during the run), clears the deferred deliveries: {"unpublished":[ids]}';
REVOKE ALL ON FUNCTION strapi_sync_finish(text, text[], timestamptz) FROM public;

CREATE FUNCTION products_list(store_id text DEFAULT NULL, ids text[] DEFAULT NULL, q text DEFAULT NULL,
                              cursor text DEFAULT NULL, max_results integer DEFAULT 20)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_products_list'
LANGUAGE C STABLE;
COMMENT ON FUNCTION products_list(text, text[], text, text, integer) IS
'published products by id, with the effective price (the best promotion, at store_id when given) and the stock available there: {"products":[...],"nextCursor"}';

CREATE FUNCTION product_get(product_id text, store_id text DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_product_get'
LANGUAGE C STABLE;
COMMENT ON FUNCTION product_get(text, text) IS
'one published product with the same fields as products_list: {"product":{...}}';

CREATE FUNCTION orders_expire()
RETURNS bigint
AS 'MODULE_PATHNAME', 'ms_orders_expire'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orders_expire() IS
'the job: unpaid orders past their payment deadline become expired and release their stock; returns how many';
REVOKE ALL ON FUNCTION orders_expire() FROM public;
-- Run by pg_cron (jobs_schedule).

CREATE FUNCTION maintenance_purge()
RETURNS json
AS 'MODULE_PATHNAME', 'ms_maintenance_purge'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION maintenance_purge() IS
'removes idempotency keys past 24 hours, carts untouched for 30 days, sessions ended 30 days ago';
REVOKE ALL ON FUNCTION maintenance_purge() FROM public;
-- Run by pg_cron (jobs_schedule).

CREATE FUNCTION jobs_schedule()
RETURNS json
AS 'MODULE_PATHNAME', 'ms_jobs_schedule'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION jobs_schedule() IS
'schedules every periodic job with pg_cron in this database (idempotent); without pg_cron here, says where it is and what to run there';
REVOKE ALL ON FUNCTION jobs_schedule() FROM public;
-- For DBAs.

CREATE FUNCTION jobs_schedule_sql()
RETURNS text
AS 'MODULE_PATHNAME', 'ms_jobs_schedule_sql'
LANGUAGE C STABLE;
COMMENT ON FUNCTION jobs_schedule_sql() IS
'the cron.schedule_in_database statements that schedule this database''s jobs from pg_cron''s own database';

CREATE FUNCTION jobs_unschedule()
RETURNS bigint
AS 'MODULE_PATHNAME', 'ms_jobs_unschedule'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION jobs_unschedule() IS
'removes every job of the extension for this database from pg_cron; returns how many';
REVOKE ALL ON FUNCTION jobs_unschedule() FROM public;
-- For DBAs.

CREATE FUNCTION account_register(registration jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_account_register'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION account_register(jsonb) IS
'creates a customer {email,password,firstName,lastName,phone?} and logs in: {"user":{...},"session":{id,refreshToken,refreshTokenExpiresAt}}';

CREATE FUNCTION session_login(credentials jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_session_login'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION session_login(jsonb) IS
'logs in {email,password}: {"user":{...},"session":{...}}; invalid_credentials alike for an unknown email and a wrong password';

CREATE FUNCTION session_refresh(body jsonb)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_session_refresh'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION session_refresh(jsonb) IS
'exchanges {refreshToken} for a new one; a token already exchanged revokes the session and returns {"error":{"code":"refresh_token_reused"}} (returned, not raised, so the revocation commits)';

CREATE FUNCTION session_logout(session_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_session_logout'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION session_logout(uuid) IS
'revokes the caller''s session: its refresh token and access tokens stop working at once';

CREATE FUNCTION user_me(session_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_user_me'
LANGUAGE C STABLE;
COMMENT ON FUNCTION user_me(uuid) IS
'the caller: {"user":{id,email,firstName,lastName,phone,role,managedStores,createdAt}}';

CREATE FUNCTION user_set_role(session_id uuid, user_id uuid, role text)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_user_set_role'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION user_set_role(uuid, uuid, text) IS
'sets a user''s role to customer, store_manager or admin (admin); a user who stops being a manager stops managing stores';

CREATE FUNCTION store_manager_assign(session_id uuid, store_id text, user_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_store_manager_assign'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION store_manager_assign(uuid, text, uuid) IS
'makes a store manager manage a store (admin): {"user":{...}}';

CREATE FUNCTION store_manager_remove(session_id uuid, store_id text, user_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_store_manager_remove'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION store_manager_remove(uuid, text, uuid) IS
'stops a store manager managing a store (admin): {"user":{...}}';

CREATE FUNCTION multistore_internal.user_create(email text, password text, first_name text, last_name text,
                                                role text, phone text DEFAULT NULL)
RETURNS uuid
AS 'MODULE_PATHNAME', 'ms_user_create'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION multistore_internal.user_create(text, text, text, text, text, text) IS
'adds an account with any role and returns its id (the existing id when the email is taken): for DBAs, demo accounts and imports';
REVOKE ALL ON FUNCTION multistore_internal.user_create(text, text, text, text, text, text) FROM public;
-- For the DBA who loads accounts; never for the proxy's role.

CREATE FUNCTION stores_generate(count integer, seed integer DEFAULT 1)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ms_stores_generate'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION stores_generate(integer, integer) IS
'adds count synthetic stores gen_1..gen_<count> spread over the continental US, deterministic per seed, for benchmarks';
REVOKE ALL ON FUNCTION stores_generate(integer, integer) FROM public;
-- Grant to the role that loads benchmark data; never to the proxy's role.

CREATE FUNCTION multistore_internal.stores_nearby_explain(latitude float8, longitude float8,
                                                        radius_km float8 DEFAULT 10,
                                                        max_results integer DEFAULT 20,
                                                        basket text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ms_stores_nearby_explain'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION multistore_internal.stores_nearby_explain(float8, float8, float8, integer, text[]) IS
'the generic plan of the nearby-stores query (with a basket when one is given), EXPLAIN COSTS OFF';
REVOKE ALL ON FUNCTION multistore_internal.stores_nearby_explain(float8, float8, float8, integer, text[]) FROM public;
-- For DBAs and tests.

------------------------------------------------------------------------------
-- Real time: the event log, tickets for browsers, and their functions
-- (events.c, realtime.c).  Every change that matters writes one event row in
-- its transaction, so only committed changes are ever seen; order and
-- session events also NOTIFY their id on channel multistore_events (stock
-- events do not: see extension/events.h); the proxy reads the rows.
------------------------------------------------------------------------------

CREATE TABLE events (
	id bigserial PRIMARY KEY,
	type text NOT NULL,
	store_id text,
	user_id uuid,
	payload jsonb NOT NULL DEFAULT '{}',
	-- the writing transaction and what was in flight when the row was written:
	-- resuming after an id also returns events of transactions that took a
	-- lower id but committed later (events_since)
	xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
	snapshot pg_snapshot NOT NULL DEFAULT pg_current_snapshot(),
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT events_type_known CHECK (type IN ('order.created', 'order.status_changed', 'order.payment_succeeded',
	                                             'order.payment_failed', 'inventory.changed', 'session.revoked',
	                                             'access.changed'))
);
COMMENT ON TABLE events IS 'multistore: the event log, one row per change that matters, written in its transaction; order, session and access events also NOTIFY multistore_events with their id (stock events only with multistore.notify_stock_events: events.h); kept 24 hours';
COMMENT ON COLUMN events.user_id IS 'the user the event concerns (an order''s owner, a session''s user), NULL for store-wide events';
CREATE INDEX events_xid_idx ON events (xid);
COMMENT ON INDEX events_xid_idx IS 'multistore: events of transactions in flight when a resumed-from event was written';
CREATE INDEX events_created_idx ON events USING brin (created_at);
COMMENT ON INDEX events_created_idx IS 'multistore: the purge of events older than 24 hours (rows arrive in time order)';

CREATE TABLE realtime_tickets (
	ticket_hash bytea PRIMARY KEY,
	session_id uuid NOT NULL REFERENCES sessions ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	CONSTRAINT realtime_tickets_hash_is_sha256 CHECK (length(ticket_hash) = 32)
);
COMMENT ON TABLE realtime_tickets IS 'multistore: single-use tickets (30 s) with which a browser opens /ws or /api/events without putting its access token in a URL; stored only as SHA-256';

CREATE FUNCTION events_since(session_id uuid, after_id bigint DEFAULT 0, stores text[] DEFAULT NULL,
                             max_results integer DEFAULT 500)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_events_since'
LANGUAGE C STABLE;
COMMENT ON FUNCTION events_since(uuid, bigint, text[], integer) IS
'the events after after_id the caller may see, oldest first: {"events":[{id,type,data,at}],"lastId":n}; order events of the caller''s orders (all of a managed store''s for its managers, all for admins), inventory.changed of the given stores (session_id NULL: those only); also events with a lower id committed after after_id was written';

CREATE FUNCTION events_fetch(after_id bigint, ids bigint[] DEFAULT NULL,
                                                 max_results integer DEFAULT 1000,
                                                 OUT id bigint, OUT type text, OUT store_id text,
                                                 OUT user_id uuid, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ms_events_fetch'
LANGUAGE C STABLE;
COMMENT ON FUNCTION events_fetch(bigint, bigint[], integer) IS
'every event by id (ids) or after after_id (with those of a lower id committed later), each with its routing and its message {id,type,data,at} as text: for the realtime proxy, which fans them out by rule';
REVOKE ALL ON FUNCTION events_fetch(bigint, bigint[], integer) FROM public;
-- For the role of the realtime proxy: it sees every event and applies the rule itself.

CREATE FUNCTION events_last_id()
RETURNS bigint
AS 'MODULE_PATHNAME', 'ms_events_last_id'
LANGUAGE C STABLE;
COMMENT ON FUNCTION events_last_id() IS
'the id of the last event written (0: none): where the realtime proxy''s listener starts';
REVOKE ALL ON FUNCTION events_last_id() FROM public;

-- The readers of the log plan once for any cursor; the plan's estimate made JIT
-- spend 1.7 s compiling a query that runs in 0.2 ms, on every call.
ALTER FUNCTION events_since(uuid, bigint, text[], integer) SET jit = off;
ALTER FUNCTION events_fetch(bigint, bigint[], integer) SET jit = off;

CREATE FUNCTION events_purge()
RETURNS bigint
AS 'MODULE_PATHNAME', 'ms_events_purge'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION events_purge() IS
'removes events older than 24 hours and realtime tickets older than an hour; returns how many events';
REVOKE ALL ON FUNCTION events_purge() FROM public;
-- Run by pg_cron (jobs_schedule).

CREATE FUNCTION realtime_ticket_issue(session_id uuid)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_realtime_ticket_issue'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION realtime_ticket_issue(uuid) IS
'a single-use ticket for the caller''s session, valid 30 seconds: {"ticket":...,"expiresIn":30,"expiresAt":...}; a browser passes it as ?ticket= to /ws or /api/events';

CREATE FUNCTION realtime_authorize(session_id uuid DEFAULT NULL, ticket text DEFAULT NULL,
                                   since bigint DEFAULT NULL, stores text[] DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'ms_realtime_authorize'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION realtime_authorize(uuid, text, bigint, text[]) IS
'who may open a realtime stream: a session, or a ticket (redeemed once), or nobody with stores to watch: {"user":{id,role,sessionId,managedStores}|null,"stores":[...],"since":n|null}; unknown stores are not_found';
REVOKE ALL ON FUNCTION realtime_authorize(uuid, text, bigint, text[]) FROM public;
-- For the proxy's role: it redeems tickets.

------------------------------------------------------------------------------
-- Every function runs as its owner with a pinned search_path: this schema,
-- then the schemas of PostGIS and pgcrypto wherever they were installed, so
-- a caller's search_path can neither break nor hijack what they call.
------------------------------------------------------------------------------

DO $pin$
DECLARE
	path text;
	fn regprocedure;
BEGIN
	SELECT string_agg(DISTINCT quote_ident(n.nspname), ', ')
	  INTO path
	  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname IN ('postgis', 'pgcrypto') AND n.nspname <> 'multistore';
	path := 'pg_catalog, multistore' || COALESCE(', ' || path, '') || ', pg_temp';
	FOR fn IN
		SELECT p.oid FROM pg_proc p
		 WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
	LOOP
		EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %s', fn, path);
	END LOOP;
END
$pin$;

------------------------------------------------------------------------------
-- pg_dump carries the rows of these tables (they belong to the extension).
------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('stores', '');
SELECT pg_catalog.pg_extension_config_dump('products', '');
SELECT pg_catalog.pg_extension_config_dump('inventory', '');
SELECT pg_catalog.pg_extension_config_dump('reservations', '');
SELECT pg_catalog.pg_extension_config_dump('reservation_holds', '');
SELECT pg_catalog.pg_extension_config_dump('carts', '');
SELECT pg_catalog.pg_extension_config_dump('cart_items', '');
SELECT pg_catalog.pg_extension_config_dump('orders', '');
SELECT pg_catalog.pg_extension_config_dump('order_items', '');
SELECT pg_catalog.pg_extension_config_dump('order_status_history', '');
SELECT pg_catalog.pg_extension_config_dump('idempotency_keys', '');
SELECT pg_catalog.pg_extension_config_dump('payment_events', '');
SELECT pg_catalog.pg_extension_config_dump('users', '');
SELECT pg_catalog.pg_extension_config_dump('store_managers', '');
SELECT pg_catalog.pg_extension_config_dump('sessions', '');
SELECT pg_catalog.pg_extension_config_dump('refresh_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('promotions', '');
SELECT pg_catalog.pg_extension_config_dump('strapi_documents', '');
SELECT pg_catalog.pg_extension_config_dump('strapi_pending', '');
SELECT pg_catalog.pg_extension_config_dump('strapi_pending_id_seq', '');
-- the event log with its sequence (a restored log must not reuse ids), and live tickets
SELECT pg_catalog.pg_extension_config_dump('events', '');
SELECT pg_catalog.pg_extension_config_dump('events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('realtime_tickets', '');

------------------------------------------------------------------------------
-- Privileges.  The API is for the role multistore_api (NOLOGIN, created here
-- when the cluster has none): the proxy's login role and backend apps are
-- made members of it.  It may use the schema and execute the API functions,
-- nothing else: no table, no sequence, no CREATE anywhere.  PUBLIC executes
-- nothing.  A function of schema multistore is part of the API unless its
-- definition above revokes it from public (the jobs, the generator, ...);
-- payment_apply is revoked from public but is the proxy's payment webhook.
-- So a function added later is granted, and pinned above, without a line
-- of its own; tests/pgtap/095_privileges.sql checks every one.
------------------------------------------------------------------------------

DO $roles$
BEGIN
	IF to_regrole('multistore_api') IS NULL THEN
		CREATE ROLE multistore_api NOLOGIN;
		COMMENT ON ROLE multistore_api IS 'multistore: may execute the API functions of the extension and nothing else; grant it to the proxy''s login role';
	END IF;
END
$roles$;

GRANT USAGE ON SCHEMA multistore TO multistore_api;
-- revoked from public where they are defined, but the proxy's to call: its
-- webhooks, and the realtime listener (which sees every event and applies the rule)
GRANT EXECUTE ON FUNCTION payment_apply(jsonb) TO multistore_api;
GRANT EXECUTE ON FUNCTION strapi_product_apply(jsonb) TO multistore_api;
GRANT EXECUTE ON FUNCTION strapi_inventory_apply(jsonb) TO multistore_api;
GRANT EXECUTE ON FUNCTION strapi_promotion_apply(jsonb) TO multistore_api;
GRANT EXECUTE ON FUNCTION realtime_authorize(uuid, text, bigint, text[]) TO multistore_api;
GRANT EXECUTE ON FUNCTION events_fetch(bigint, bigint[], integer) TO multistore_api;
GRANT EXECUTE ON FUNCTION events_last_id() TO multistore_api;

DO $grants$
DECLARE
	fn regprocedure;
BEGIN
	FOR fn IN
		SELECT p.oid FROM pg_proc p
		 WHERE p.pronamespace = 'multistore'::regnamespace
		   AND has_function_privilege('public', p.oid, 'EXECUTE')
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO multistore_api', fn);
	END LOOP;
	FOR fn IN
		SELECT p.oid FROM pg_proc p
		 WHERE p.pronamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace)
	LOOP
		EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
	END LOOP;
END
$grants$;
