-- multistore 0.1.0 -> 0.2.0.  Released scripts are frozen: a fix goes into
-- the next one.  tests/ops/upgrade.sh checks that 0.1.0 updated by this
-- script equals a fresh install of 0.2.0 (functions, tables, columns,
-- indexes, constraints, grants, comments, pg_dump registrations).

\echo Use "ALTER EXTENSION multistore UPDATE TO '0.2.0'" to load this file. \quit

------------------------------------------------------------------------------
-- What 0.2.0 changes or adds (tables, columns, functions) goes here, above
-- the privileges: the two loops below pin and grant whatever is new.
------------------------------------------------------------------------------

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
GRANT EXECUTE ON FUNCTION payment_apply(jsonb) TO multistore_api;

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
