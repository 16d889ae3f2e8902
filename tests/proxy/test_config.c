/*
 * test_config.c
 *	  Settings: defaults, and one clear line for each missing or bad one.
 */
#include <stdlib.h>

#include "config.h"
#include "jwt.h"
#include "tap.h"

static const char *const *fake_env;

static const char *
FakeGetEnv(const char *name)
{
	for (const char *const *p = fake_env; *p; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

static bool
Load(const char *const *env, Config *c, char *err)
{
	fake_env = env;
	err[0] = '\0';
	return ConfigLoad(c, FakeGetEnv, err, 256);
}

int
main(void)
{
	Config					 c;
	char					 err[256];
	static const char *const good[] = {"DATABASE_URL", "postgresql://u@h/db", "JWT_SECRET",
									   "0123456789abcdef0123456789abcdef", NULL};
	static const char *const no_db[] = {"JWT_SECRET", "0123456789abcdef0123456789abcdef", NULL};
	static const char *const short_secret[] = {"DATABASE_URL", "x", "JWT_SECRET", "short", NULL};
	static const char *const no_secret[] = {"DATABASE_URL", "x", NULL};
	static const char *const bad_port[] = {
		"DATABASE_URL", "x", "JWT_SECRET", "0123456789abcdef0123456789abcdef", "PORT", "80a", NULL};
	static const char *const big_pool[] = {
		"DATABASE_URL", "x", "JWT_SECRET", "0123456789abcdef0123456789abcdef", "DB_POOL_SIZE", "0", NULL};
	static const char *const bad_level[] = {
		"DATABASE_URL", "x", "JWT_SECRET", "0123456789abcdef0123456789abcdef", "LOG_LEVEL", "loud", NULL};
	static const char *const pooler[] = {"DATABASE_URL",
										 "x",
										 "JWT_SECRET",
										 "0123456789abcdef0123456789abcdef",
										 "DB_PREPARED_STATEMENTS",
										 "off",
										 "REPLICA_MAX_LAG",
										 "2",
										 NULL};
	static const char *const bad_prepared[] = {
		"DATABASE_URL",			  "x",	"JWT_SECRET", "0123456789abcdef0123456789abcdef",
		"DB_PREPARED_STATEMENTS", "no", NULL};
	static const char *const bad_lag[] = {
		"DATABASE_URL", "x", "JWT_SECRET", "0123456789abcdef0123456789abcdef", "REPLICA_MAX_LAG", "-1", NULL};
	static const char *const empty_db[] = {"DATABASE_URL", "", "JWT_SECRET",
										   "0123456789abcdef0123456789abcdef", NULL};

	ok(Load(good, &c, err), "the two required settings are enough");
	is_int(c.port, 4000, "PORT defaults to 4000");
	is_int(c.access_token_ttl, 900, "ACCESS_TOKEN_TTL defaults to 900 s");
	is_int((long long) c.max_body_bytes, 1048576, "MAX_BODY_BYTES defaults to 1 MiB");
	is_int(c.http_threads, c.db_pool_size, "HTTP_THREADS defaults to the pool size");
	is_str(c.jwt_issuer, "multistore", "JWT_ISSUER has a default");
	ok(c.db_prepared_statements, "DB_PREPARED_STATEMENTS defaults to on");
	is_int(c.replica_max_lag, 5, "REPLICA_MAX_LAG defaults to 5 s");
	ok(c.database_read_url == NULL, "no DATABASE_READ_URL: no replica");
	ConfigFree(&c);

	ok(Load(pooler, &c, err), "behind a pooler: %s", err);
	ok(!c.db_prepared_statements, "DB_PREPARED_STATEMENTS=off turns named statements off");
	is_int(c.replica_max_lag, 2, "REPLICA_MAX_LAG is read");
	ConfigFree(&c);
	ok(!Load(bad_prepared, &c, err) && strstr(err, "DB_PREPARED_STATEMENTS must be on or off"),
	   "DB_PREPARED_STATEMENTS is on or off: %s", err);
	ConfigFree(&c);
	ok(!Load(bad_lag, &c, err) && strstr(err, "REPLICA_MAX_LAG"), "a negative REPLICA_MAX_LAG is refused: %s",
	   err);
	ConfigFree(&c);

	ok(!Load(no_db, &c, err), "DATABASE_URL is required");
	ok(strstr(err, "DATABASE_URL is required") == err, "saying so: %s", err);
	ConfigFree(&c);
	ok(!Load(empty_db, &c, err), "an empty DATABASE_URL counts as missing");
	ConfigFree(&c);
	ok(!Load(no_secret, &c, err) && strstr(err, "JWT_SECRET is required"), "JWT_SECRET is required: %s", err);
	ConfigFree(&c);
	ok(!Load(short_secret, &c, err) && strstr(err, "at least 32 bytes"), "a short JWT_SECRET is refused: %s",
	   err);
	ConfigFree(&c);
	ok(!Load(bad_port, &c, err) && strstr(err, "PORT must be an integer"), "a bad PORT is refused: %s", err);
	ConfigFree(&c);
	ok(!Load(big_pool, &c, err) && strstr(err, "DB_POOL_SIZE"), "a pool of 0 is refused: %s", err);
	ConfigFree(&c);
	ok(!Load(bad_level, &c, err) && strstr(err, "LOG_LEVEL"), "an unknown LOG_LEVEL is refused: %s", err);
	ConfigFree(&c);
	{
		/* an issuer or audience that would make tokens longer than JwtVerify reads */
		char			  longest[JWT_CLAIM_TEXT_MAX + 2];
		const char *const long_iss[] = {
			"DATABASE_URL", "x",	 "JWT_SECRET", "0123456789abcdef0123456789abcdef",
			"JWT_ISSUER",	longest, NULL};
		static const char *const ctl_aud[] = {
			"DATABASE_URL", "x",	   "JWT_SECRET", "0123456789abcdef0123456789abcdef",
			"JWT_AUDIENCE", "api\x01", NULL};

		memset(longest, 'i', JWT_CLAIM_TEXT_MAX);
		longest[JWT_CLAIM_TEXT_MAX] = '\0';
		ok(Load(long_iss, &c, err), "a JWT_ISSUER of %d bytes is taken: %s", JWT_CLAIM_TEXT_MAX, err);
		ConfigFree(&c);
		longest[JWT_CLAIM_TEXT_MAX] = 'i';
		longest[JWT_CLAIM_TEXT_MAX + 1] = '\0';
		ok(!Load(long_iss, &c, err) && strstr(err, "JWT_ISSUER and JWT_AUDIENCE must be at most 256 bytes"),
		   "one byte more is refused: %s", err);
		ConfigFree(&c);
		ok(!Load(ctl_aud, &c, err) && strstr(err, "without control characters"),
		   "a control character in JWT_AUDIENCE is refused: %s", err);
		ConfigFree(&c);
	}
	ok(strchr(err, '\n') == NULL, "every message is one line");
	return done_testing();
}
