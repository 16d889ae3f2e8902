-- tests/ops/schema.sql: the extension's schema as sorted text lines, one
-- per object and property, for diffing an upgraded database against a
-- fresh install: schemas, tables, columns (by name: ALTER TABLE ADD COLUMN
-- can only append, so position is not compared), constraints, indexes,
-- triggers, views, sequences, types, functions (signature, result,
-- language, symbol, volatility, strictness, security, settings), every
-- privilege (ACL entries, sorted) and initial privilege, comments, the
-- extension's members and what pg_dump carries (extconfig).
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET client_min_messages = warning;

WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'multistore'),
nsp AS (SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('multistore', 'multistore_internal')),
-- an ACL as sorted "grantee:privilege[*]" entries (grantor and order left out)
acl(kind, oid, entries) AS (
  SELECT 'relation', c.oid, (SELECT string_agg(coalesce(nullif(a.grantee::regrole::text, '-'), 'PUBLIC') || ':' || a.privilege_type ||
                                               CASE WHEN a.is_grantable THEN '*' ELSE '' END, ' ' ORDER BY 1)
                             FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner)
    FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace
  UNION ALL
  SELECT 'function', p.oid, (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END || ':' ||
                                               a.privilege_type, ' ' ORDER BY 1)
                             FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee <> p.proowner)
    FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace
  UNION ALL
  SELECT 'schema', n.oid, (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END || ':' ||
                                             a.privilege_type, ' ' ORDER BY 1)
                           FROM pg_namespace n2, aclexplode(n2.nspacl) a WHERE n2.oid = n.oid AND a.grantee <> n2.nspowner)
    FROM nsp n
),
lines(line) AS (
  -- schemas
  SELECT format('schema %s owner=%s comment=%L acl=%s', n.nspname, n2.nspowner::regrole, obj_description(n.oid, 'pg_namespace'),
                (SELECT entries FROM acl WHERE kind = 'schema' AND acl.oid = n.oid))
    FROM nsp n JOIN pg_namespace n2 ON n2.oid = n.oid
  -- relations
  UNION ALL
  SELECT format('relation %s kind=%s persistence=%s options=%s rls=%s comment=%L acl=%s dumped=%s condition=%L',
                c.oid::regclass, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity,
                obj_description(c.oid, 'pg_class'), (SELECT entries FROM acl WHERE kind = 'relation' AND acl.oid = c.oid),
                c.oid = ANY (ext.extconfig),
                ext.extcondition[array_position(ext.extconfig, c.oid)])
    FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace, ext
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
  -- columns
  UNION ALL
  SELECT format('column %s.%s type=%s notnull=%s default=%s identity=%L generated=%L collation=%s comment=%L',
                c.oid::regclass, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END,
                col_description(c.oid, a.attnum))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN nsp ON nsp.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
  -- constraints
  UNION ALL
  SELECT format('constraint %s %s %s deferrable=%s comment=%L', coalesce(k.conrelid::regclass::text, k.contypid::regtype::text),
                k.conname, pg_get_constraintdef(k.oid), k.condeferrable, obj_description(k.oid, 'pg_constraint'))
    FROM pg_constraint k JOIN nsp ON nsp.oid = k.connamespace
  -- indexes
  UNION ALL
  SELECT format('index %s comment=%L', pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class'))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN nsp ON nsp.oid = c.relnamespace
  -- triggers
  UNION ALL
  SELECT format('trigger %s comment=%L', pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger'))
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN nsp ON nsp.oid = c.relnamespace
   WHERE NOT t.tgisinternal
  -- views
  UNION ALL
  SELECT format('view %s %s', c.oid::regclass, pg_get_viewdef(c.oid))
    FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
  -- sequences
  UNION ALL
  SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cycle=%s owned_by=%s',
                s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle,
                (SELECT d.refobjid::regclass || '.' || d.refobjsubid FROM pg_depend d
                  WHERE d.objid = s.seqrelid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                    AND d.refclassid = 'pg_class'::regclass))
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN nsp ON nsp.oid = c.relnamespace
  -- types
  UNION ALL
  SELECT format('type %s kind=%s enum=%s domain=%s comment=%L', t.oid::regtype, t.typtype,
                (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
                CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
                obj_description(t.oid, 'pg_type'))
    FROM pg_type t JOIN nsp ON nsp.oid = t.typnamespace
   WHERE t.typtype IN ('e', 'd', 'c', 'r') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  -- functions
  UNION ALL
  SELECT format('function %s returns=%s language=%s symbol=%s library=%s volatility=%s strict=%s parallel=%s '
                'security_definer=%s leakproof=%s cost=%s rows=%s config=%s args=%L comment=%L acl=%s',
                p.oid::regprocedure, pg_get_function_result(p.oid), l.lanname,
                CASE WHEN l.lanname = 'c' THEN p.prosrc ELSE md5(p.prosrc) END, p.probin, p.provolatile, p.proisstrict,
                p.proparallel, p.prosecdef, p.proleakproof, p.procost, p.prorows, p.proconfig,
                pg_get_function_arguments(p.oid), obj_description(p.oid, 'pg_proc'),
                (SELECT entries FROM acl WHERE kind = 'function' AND acl.oid = p.oid))
    FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
  -- initial privileges (what pg_dump compares against)
  UNION ALL
  SELECT format('initprivs %s %s %s', i.classoid::regclass,
                CASE i.classoid WHEN 'pg_proc'::regclass THEN i.objoid::regprocedure::text
                                WHEN 'pg_class'::regclass THEN i.objoid::regclass::text
                                WHEN 'pg_namespace'::regclass THEN i.objoid::regnamespace::text
                                ELSE i.objoid::text END || coalesce('.' || nullif(i.objsubid, 0), ''),
                (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END || ':' ||
                                   a.privilege_type, ' ' ORDER BY 1) FROM aclexplode(i.initprivs) a))
    FROM pg_init_privs i
   WHERE (i.classoid = 'pg_proc'::regclass AND i.objoid IN (SELECT p.oid FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace))
      OR (i.classoid = 'pg_class'::regclass AND i.objoid IN (SELECT c.oid FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace))
      OR (i.classoid = 'pg_namespace'::regclass AND i.objoid IN (SELECT oid FROM nsp))
  -- objects in the extension's schemas that the extension does not own
  UNION ALL
  SELECT format('not a member of the extension: %s', pg_describe_object(d.classid, d.objid, 0))
    FROM (SELECT 'pg_class'::regclass AS classid, c.oid AS objid FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          UNION ALL
          SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace) d, ext
   WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classid AND x.objid = d.objid
                        AND x.refclassid = 'pg_extension'::regclass AND x.refobjid = ext.oid AND x.deptype = 'e')
  -- the extension itself and the role it grants to
  UNION ALL
  SELECT format('extension multistore version=%s schema=%s relocatable=%s requires=%s', e.extversion,
                e.extnamespace::regnamespace, e.extrelocatable,
                (SELECT string_agg(r.extname, ',' ORDER BY r.extname) FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid
                  WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid AND d.refclassid = 'pg_extension'::regclass))
    FROM pg_extension e WHERE e.extname = 'multistore'
  UNION ALL
  SELECT format('role %s login=%s', rolname, rolcanlogin) FROM pg_roles WHERE rolname = 'multistore_api'
)
SELECT line FROM lines ORDER BY line COLLATE "C";
