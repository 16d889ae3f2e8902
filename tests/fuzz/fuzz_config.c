/*
 * fuzz_config.c
 *	  ConfigLoad with a fake getenv serving fuzzed settings, then what
 *	  main.c builds from a loaded configuration.
 *
 * Input: lines NAME=value, as in env.example (the first line of a name
 * wins; a name without a line is unset).  ConfigLoad must either refuse
 * with one line in err, or give settings inside their documented ranges;
 * ConfigFree then frees everything (as main.c does in both cases).  A
 * loaded configuration must work: the access token JwtSign makes with
 * JWT_SECRET, JWT_ISSUER and JWT_AUDIENCE verifies, a payment signature
 * made with PAYMENT_WEBHOOK_SECRET verifies, and the lists
 * (CORS_ORIGINS, TRUSTED_PROXIES, METRICS_ALLOW) can be read.
 */
#include <jansson.h>

#include "config.h"
#include "edge.h"
#include "fuzz.h"
#include "jwt.h"
#include "signature.h"

#define NOW 1800000000LL

static char **lines;
static int	  nlines;

static const char *
FakeGetEnv(const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < nlines; i++)
		if (strncmp(lines[i], name, len) == 0 && lines[i][len] == '=')
			return lines[i] + len + 1;
	return NULL;
}

static void
CheckLoaded(const Config *c)
{
	JwtKey		key;
	char	   *token;
	JwtClaims	claims;
	const char *why = NULL;
	char		client[64];

	FuzzAssert(c->database_url && c->host && c->jwt_secret && c->jwt_issuer && c->jwt_audience,
			   "a required setting is NULL");
	FuzzAssert(strlen(c->jwt_secret) >= 32, "short JWT_SECRET taken");
	FuzzAssert(c->port >= 1 && c->port <= 65535 && c->access_token_ttl >= 60 &&
				   c->access_token_ttl <= 86400 && c->db_pool_size >= 1 && c->db_pool_size <= 256 &&
				   c->http_threads >= 1 && c->http_threads <= 256 && c->max_body_bytes >= 1024 &&
				   c->max_body_bytes <= 64 * 1048576 && c->max_connections >= 16 &&
				   c->connection_timeout >= 1 && c->db_connect_timeout >= 1 && c->db_statement_timeout >= 0 &&
				   c->rate_limit_auth_per_minute >= 1 && c->rate_limit_read_per_minute >= 1 &&
				   c->rate_limit_write_per_minute >= 1 && c->max_connections_per_ip >= 1 &&
				   c->body_timeout >= 1,
			   "a setting out of range");
	FuzzAssert(c->log_level >= LOG_DEBUG && c->log_level <= LOG_ERROR, "log level %d", (int) c->log_level);

	/* main.c's key: the settings themselves */
	key.secret = (const unsigned char *) c->jwt_secret;
	key.secret_len = strlen(c->jwt_secret);
	key.issuer = c->jwt_issuer;
	key.audience = c->jwt_audience;
	token = JwtSign(&key, "5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b", "customer",
					"7d0c3b4a-9f6e-4c2b-8a1d-5e3f2a1b0c9d", NOW, c->access_token_ttl);
	FuzzAssert(token != NULL, "JwtSign gave NULL (JWT_ISSUER \"%s\", JWT_AUDIENCE \"%s\")", c->jwt_issuer,
			   c->jwt_audience);
	/* ConfigLoad bounds JWT_ISSUER and JWT_AUDIENCE so that every token it mints is one JwtVerify reads */
	FuzzAssert(strlen(token) <= JWT_MAX_BYTES, "a token of %zu bytes", strlen(token));
	FuzzAssert(JwtVerify(&key, token, NOW, &claims, &why) == JWT_OK, "our own token is refused: %s", why);
	free(token);

	if (c->payment_webhook_secret)
	{
		char *header = SignatureMake(c->payment_webhook_secret, NOW, "{}", 2);

		FuzzAssert(SignatureVerify(header, c->payment_webhook_secret, "{}", 2, NOW) == SIGNATURE_OK,
				   "our own payment signature is refused");
		free(header);
	}
	(void) EdgeCorsAllows(c->cors_origins, "http://localhost:3000");
	(void) EdgeAddressInList(c->metrics_allow, "127.0.0.1");
	EdgeClientAddress("10.0.0.1", "203.0.113.7, 10.0.0.2", c->trusted_proxies, client, sizeof(client));
}

FUZZ_FIXED_JANSSON_SEED

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char  *buf = malloc(size + 1);
	char  *p;
	Config config;
	char   err[512];
	bool   loaded;

	memcpy(buf, data, size);
	buf[size] = '\0';
	nlines = 0;
	for (p = buf; p <= buf + size; p++)
		nlines += p == buf + size || *p == '\n';
	lines = malloc(sizeof(char *) * (size_t) nlines);
	nlines = 0;
	for (p = buf;;)
	{
		char *nl = memchr(p, '\n', (size_t) (buf + size - p));

		lines[nlines++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}

	err[0] = '\0';
	loaded = ConfigLoad(&config, FakeGetEnv, err, sizeof(err));
	if (loaded)
		CheckLoaded(&config);
	else
		FuzzAssert(err[0] != '\0' && strchr(err, '\n') == NULL, "refused without one line of reason");
	ConfigFree(&config);

	free(lines);
	free(buf);
	return 0;
}
