-- tests/ops/filled.sql: an error when a table of the extension is empty
-- (after tests/ops/fill.sql and the fill-<version>.sql files): a table
-- added without calls that fill it fails the upgrade and backup tests.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- every table of the extension has rows now
DO $check$
DECLARE
	t regclass;
	filled boolean;
	empty text[] := '{}';
BEGIN
	FOR t IN SELECT c.oid FROM pg_class c
	          WHERE c.relnamespace = 'multistore'::regnamespace AND c.relkind = 'r' ORDER BY c.relname
	LOOP
		EXECUTE format('SELECT EXISTS (SELECT FROM %s)', t) INTO filled;
		IF NOT filled THEN
			empty := empty || t::text;
		END IF;
	END LOOP;
	IF cardinality(empty) > 0 THEN
		RAISE EXCEPTION 'fill.sql: tables left empty: % (add calls that fill them to tests/ops/fill.sql)',
			array_to_string(empty, ', ');
	END IF;
END
$check$;
