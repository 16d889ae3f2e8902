-- Accounts: registration rules, hashing, login, rotation, reuse detection,
-- expiry, logout, roles.  Argon2id is lowered for speed where it does not
-- matter; one test checks that the settings are honoured.
\ir helpers.psql
BEGIN;
SELECT plan(50);

SET LOCAL multistore.argon2_memory_kib = 64;
SET LOCAL multistore.argon2_iterations = 1;

CREATE FUNCTION pg_temp.reg(email text, password text DEFAULT 'correct horse battery') RETURNS jsonb LANGUAGE sql AS
$$ SELECT multistore.account_register(jsonb_build_object('email', email, 'password', password,
                                                          'firstName', 'Test', 'lastName', 'User'))::jsonb $$;
CREATE FUNCTION pg_temp.login(email text, password text) RETURNS jsonb LANGUAGE sql AS
$$ SELECT multistore.session_login(jsonb_build_object('email', email, 'password', password))::jsonb $$;
CREATE FUNCTION pg_temp.refresh(token text) RETURNS jsonb LANGUAGE sql AS
$$ SELECT multistore.session_refresh(jsonb_build_object('refreshToken', token))::jsonb $$;

-- registration
CREATE TEMP TABLE r AS SELECT pg_temp.reg('  Alice.Example@Test.Example ') AS a;
SELECT is((SELECT a->'user'->>'email' FROM r), 'alice.example@test.example', 'the email is trimmed and lower-cased');
SELECT is((SELECT a->'user'->>'role' FROM r), 'customer', 'a new account is a customer');
SELECT is((SELECT array_agg(k ORDER BY k) FROM r, jsonb_object_keys(r.a->'user') k),
          ARRAY['createdAt','email','firstName','id','lastName','managedStores','phone','role'], 'the user has the documented fields');
SELECT matches((SELECT a->'session'->>'refreshToken' FROM r), '^[A-Za-z0-9_-]{43}$', 'the refresh token is 256 bits in base64url');
SELECT pg_temp.throws_code($$SELECT pg_temp.reg('ALICE.example@test.example')$$, 'M4409', 'email_taken', 'the same email in other case is email_taken');
SELECT pg_temp.throws_code($$SELECT pg_temp.reg('bob@test.example', 'short')$$, 'M4400', 'validation_failed', 'a password under 8 characters');
SELECT is(pg_temp.error_detail($$SELECT pg_temp.reg('bob@test.example', repeat('x', 1025))$$)::jsonb->'fields'->>'password',
          'must be at most 1024 characters', 'a password over 1,024 characters is refused, not truncated');
SELECT ok(pg_temp.reg('long@test.example', repeat('é', 1024)) ? 'user', 'a password of 1,024 characters (2,048 bytes) is fine');
SELECT pg_temp.throws_code($$SELECT pg_temp.reg('not-an-email')$$, 'M4400', 'validation_failed', 'a bad email');
SELECT pg_temp.throws_code($$SELECT pg_temp.reg('two@@test.example')$$, 'M4400', 'validation_failed', 'two @ signs');
SELECT pg_temp.throws_code($$SELECT pg_temp.reg('sp ace@test.example')$$, 'M4400', 'validation_failed', 'a space inside');
SELECT is(pg_temp.error_detail($$SELECT multistore.account_register('{}')$$)::jsonb->'fields',
          '{"email":"is required","password":"is required","firstName":"is required","lastName":"is required"}'::jsonb,
          'every missing field is named');

-- hashing
SELECT matches((SELECT password_hash FROM multistore.users WHERE email = 'alice.example@test.example'),
               '^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$', 'the hash is an Argon2id PHC string at the set parameters');
SELECT is((SELECT count(*)::int FROM multistore.users WHERE password_hash LIKE '%correct horse%'), 0, 'no password in plain text');
SET LOCAL multistore.argon2_memory_kib = 19456;
SET LOCAL multistore.argon2_iterations = 2;
SELECT ok(pg_temp.reg('owasp@test.example') ? 'user', 'registering at the OWASP defaults');
SELECT matches((SELECT password_hash FROM multistore.users WHERE email = 'owasp@test.example'),
               '^\$argon2id\$v=19\$m=19456,t=2,p=1\$', 'the defaults are m=19456 KiB, t=2, p=1');
SET LOCAL multistore.argon2_memory_kib = 64;
SET LOCAL multistore.argon2_iterations = 1;

-- login
SELECT is(pg_temp.login('ALICE.EXAMPLE@test.example', 'correct horse battery')->'user'->>'email', 'alice.example@test.example', 'login with the email in any case');
SELECT pg_temp.throws_code($$SELECT pg_temp.login('alice.example@test.example', 'wrong password')$$, 'M4401', 'invalid_credentials', 'wrong password');
SELECT pg_temp.throws_code($$SELECT pg_temp.login('nobody@test.example', 'wrong password')$$, 'M4401', 'invalid_credentials', 'unknown email: the same answer');
SELECT pg_temp.throws_code($$SELECT pg_temp.login('garbage', 'wrong password')$$, 'M4401', 'invalid_credentials', 'not even an email: the same answer');
SELECT is(pg_temp.login('alice.example@test.example', 'correct horse battery')->'user'->>'id',
          (SELECT a->'user'->>'id' FROM r), 'login finds the registered user');

-- a password hash imported from the Node.js system (bcrypt), also in its $2b$ form
INSERT INTO multistore.users (email, password_hash, role)
VALUES ('legacy@test.example', crypt('legacy-password', gen_salt('bf', 4)), 'customer'),
       ('legacy2b@test.example', '$2b$' || substr(crypt('legacy-password', gen_salt('bf', 4)), 5), 'customer');
SELECT pg_temp.throws_code($$SELECT pg_temp.login('legacy@test.example', 'not-it-at-all')$$, 'M4401', 'invalid_credentials', 'bcrypt: a wrong password fails');
SELECT ok(pg_temp.login('legacy@test.example', 'legacy-password') ? 'session', 'bcrypt: the right password logs in');
SELECT matches((SELECT password_hash FROM multistore.users WHERE email = 'legacy@test.example'), '^\$argon2id\$', 'and the hash is now Argon2id');
SELECT ok(pg_temp.login('legacy@test.example', 'legacy-password') ? 'session', 'which verifies the next time');
SELECT ok(pg_temp.login('legacy2b@test.example', 'legacy-password') ? 'session', 'a $2b$ bcrypt hash verifies too');
INSERT INTO multistore.users (email, password_hash, role)
VALUES ('legacy72@test.example', crypt(repeat('a', 72), gen_salt('bf', 4)), 'customer');
SELECT pg_temp.throws_code($$SELECT pg_temp.login('legacy72@test.example', repeat('a', 72) || 'extra')$$, 'M4401', 'invalid_credentials',
                           'bcrypt never silently truncates: 72 bytes plus more does not match');

-- rotation and reuse detection
CREATE TEMP TABLE t1 AS SELECT pg_temp.login('alice.example@test.example', 'correct horse battery') AS s;
CREATE TEMP TABLE t2 AS SELECT pg_temp.refresh((SELECT s->'session'->>'refreshToken' FROM t1)) AS s;
SELECT isnt((SELECT s->'session'->>'refreshToken' FROM t2), (SELECT s->'session'->>'refreshToken' FROM t1), 'refreshing gives a new token');
SELECT is((SELECT s->'session'->>'id' FROM t2), (SELECT s->'session'->>'id' FROM t1), 'in the same session');
SELECT is((SELECT count(*)::int FROM multistore.refresh_tokens
            WHERE token_hash = digest((SELECT s->'session'->>'refreshToken' FROM t2), 'sha256')), 1, 'stored only as its SHA-256');
SELECT is(pg_temp.refresh((SELECT s->'session'->>'refreshToken' FROM t1))->'error'->>'code', 'refresh_token_reused',
          'the old token presented again is refresh_token_reused');
SELECT is((SELECT revoked_reason FROM multistore.sessions WHERE id = (SELECT (s->'session'->>'id')::uuid FROM t1)),
          'refresh_token_reused', 'and the whole family is revoked');
SELECT pg_temp.throws_code($$SELECT pg_temp.refresh((SELECT s->'session'->>'refreshToken' FROM t2))$$, 'M4401', 'invalid_token',
                           'the newest token of the family no longer works');
SELECT pg_temp.throws_code($$SELECT multistore.user_me((SELECT (s->'session'->>'id')::uuid FROM t1))$$, 'M4401', 'invalid_token',
                           'nor does the session');
SELECT pg_temp.throws_code($$SELECT pg_temp.refresh('made-up-token')$$, 'M4401', 'invalid_token', 'an unknown token');

-- expiry
CREATE TEMP TABLE t3 AS SELECT pg_temp.login('alice.example@test.example', 'correct horse battery') AS s;
UPDATE multistore.refresh_tokens SET expires_at = now() - interval '1 second'
 WHERE token_hash = digest((SELECT s->'session'->>'refreshToken' FROM t3), 'sha256');
SELECT pg_temp.throws_code($$SELECT pg_temp.refresh((SELECT s->'session'->>'refreshToken' FROM t3))$$, 'M4401', 'token_expired', 'an expired refresh token');
SET LOCAL multistore.refresh_token_ttl = 120;
SELECT cmp_ok((SELECT (pg_temp.login('alice.example@test.example', 'correct horse battery')->'session'->>'refreshTokenExpiresAt')::timestamptz),
              '<=', now() + interval '120 seconds', 'multistore.refresh_token_ttl sets the lifetime');

-- logout
CREATE TEMP TABLE t4 AS SELECT pg_temp.login('alice.example@test.example', 'correct horse battery') AS s;
SELECT is(multistore.session_logout((SELECT (s->'session'->>'id')::uuid FROM t4))::text, '{}', 'logout');
SELECT pg_temp.throws_code($$SELECT multistore.user_me((SELECT (s->'session'->>'id')::uuid FROM t4))$$, 'M4401', 'invalid_token', 'the session is over');
SELECT pg_temp.throws_code($$SELECT pg_temp.refresh((SELECT s->'session'->>'refreshToken' FROM t4))$$, 'M4401', 'invalid_token', 'and so is its refresh token');

-- roles
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin, pg_temp.session_for('customer') AS customer;
CREATE TEMP TABLE target AS SELECT (a->'user'->>'id')::uuid AS id FROM r;
SELECT pg_temp.throws_code($$SELECT multistore.user_set_role((SELECT customer FROM sess), (SELECT id FROM target), 'admin')$$,
                           'M4403', 'forbidden', 'a customer cannot make anyone admin');
SELECT pg_temp.add_store('t_role', -60, 0);
SELECT is(multistore.user_set_role((SELECT admin FROM sess), (SELECT id FROM target), 'store_manager')::jsonb->'user'->>'role',
          'store_manager', 'an admin sets a role');
SELECT is(multistore.store_manager_assign((SELECT admin FROM sess), 't_role', (SELECT id FROM target))::jsonb->'user'->'managedStores',
          '["t_role"]'::jsonb, 'and assigns a manager to a store');

SELECT is(multistore.store_manager_remove((SELECT admin FROM sess), 't_role', (SELECT id FROM target))::jsonb->'user'->'managedStores',
          '[]'::jsonb, 'and removes them');
SELECT pg_temp.throws_code($$SELECT multistore.user_set_role((SELECT admin FROM sess), (SELECT id FROM target), 'superuser')$$,
                           'M4400', 'validation_failed', 'an unknown role');
SELECT pg_temp.throws_code($$SELECT multistore.user_set_role((SELECT admin FROM sess), gen_random_uuid(), 'admin')$$,
                           'M4404', 'not_found', 'an unknown user');
SELECT pg_temp.throws_code($$SELECT multistore.store_manager_assign((SELECT admin FROM sess), 'no_such_store', (SELECT id FROM target))$$,
                           'M4404', 'not_found', 'assigning to an unknown store');
SELECT multistore.user_set_role((SELECT admin FROM sess), (SELECT id FROM target), 'customer');
SELECT pg_temp.throws_code($$SELECT multistore.store_manager_assign((SELECT admin FROM sess), 't_role', (SELECT id FROM target))$$,
                           'M4400', 'validation_failed', 'only store managers manage stores');
SELECT pg_temp.throws_code($$SELECT multistore_internal.user_create('not an email', 'long enough', 'A', 'B', 'admin')$$,
                           'M4400', 'validation_failed', 'user_create checks the email');
SELECT is(multistore_internal.user_create('ADMIN@example.com', 'another-password', 'A', 'B', 'admin'),
          (SELECT id FROM multistore.users WHERE email = 'admin@example.com'),
          'user_create returns the existing account for a taken email, in any case');

SELECT * FROM finish();
ROLLBACK;
