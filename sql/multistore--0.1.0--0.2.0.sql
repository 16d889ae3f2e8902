-- multistore 0.1.0 -> 0.2.0.  Released scripts are frozen: a fix goes into
-- the next one.  tests/ops/upgrade.sh checks that 0.1.0 updated by this
-- script equals a fresh install of 0.2.0 (functions, tables, columns,
-- indexes, constraints, grants, comments, pg_dump registrations).

\echo Use "ALTER EXTENSION multistore UPDATE TO '0.2.0'" to load this file. \quit

------------------------------------------------------------------------------
-- What 0.2.0 changes or adds (tables, columns, functions) goes here, above
-- the privileges: the two loops below pin and grant whatever is new.
------------------------------------------------------------------------------

-- Issue 7: Strapi ingestion, promotions, the catalogue.  pg_trgm is
-- required from 0.2.0 (products_search_idx): an update script cannot create
-- another extension, so make migrate (scripts/migrate) creates it first.

ALTER TABLE products ADD COLUMN deleted_at timestamptz;
ALTER TABLE products ADD CONSTRAINT products_deleted_not_published CHECK (deleted_at IS NULL OR NOT published);
COMMENT ON COLUMN products.published IS 'for sale: carts and orders take only published products';
COMMENT ON COLUMN products.deleted_at IS 'deleted in the CMS: kept, unpublished, for the orders that name it';
DROP INDEX products_sku_key;
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

ALTER TABLE order_items ADD COLUMN promotion_id text;
ALTER TABLE order_items ADD COLUMN promotion_code text;
COMMENT ON TABLE order_items IS 'multistore: what was ordered, with the name, price and promotion at the time (snapshots)';

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

-- Issue 8: real time

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

SELECT pg_catalog.pg_extension_config_dump('promotions', '');
SELECT pg_catalog.pg_extension_config_dump('strapi_documents', '');
SELECT pg_catalog.pg_extension_config_dump('strapi_pending', '');
SELECT pg_catalog.pg_extension_config_dump('strapi_pending_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('events', '');
SELECT pg_catalog.pg_extension_config_dump('events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('realtime_tickets', '');

------------------------------------------------------------------------------
-- Every function runs as its owner with a pinned search_path (as at the end
-- of multistore.sql; a function added above gets it too).
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
-- Privileges (new in 0.2.0; as at the end of multistore.sql).  The API is
-- for the role multistore_api, created here when the cluster has none;
-- PUBLIC executes nothing.  Functions still executable by PUBLIC here are
-- those of 0.1.0 not revoked where they were defined, and any added above
-- without a REVOKE: they are the API.
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
