/*
 * config.c
 *	  Settings from the environment, each checked with a one-line reason.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jwt.h"
#include "params.h"

/* A setting's value, or NULL when unset or empty */
const char *
ConfigValue(GetEnv getenv_fn, const char *name)
{
	const char *v = getenv_fn(name);

	return v && *v ? v : NULL;
}

bool
ConfigReadInt(GetEnv getenv_fn, const char *name, int def, int min, int max, int *out, char *err,
			  size_t errlen)
{
	const char *v = ConfigValue(getenv_fn, name);
	char	   *end;
	long		n;

	if (v == NULL)
	{
		*out = def;
		return true;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || n < min || n > max)
	{
		snprintf(err, errlen, "%s must be an integer from %d to %d (got \"%.40s\")", name, min, max, v);
		return false;
	}
	*out = (int) n;
	return true;
}

static char *
Dup(const char *v)
{
	return v ? strdup(v) : NULL;
}

/* Is text short enough for a token's iss or aud, and free of control characters? */
static bool
ClaimTextFits(const char *text)
{
	size_t len = strlen(text);

	if (len > JWT_CLAIM_TEXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) text[i] < 0x20 || text[i] == 0x7f)
			return false;
	return true;
}

bool
ConfigLoad(Config *c, GetEnv getenv_fn, char *err, size_t errlen)
{
	const char *v;
	int			body_bytes;

	memset(c, 0, sizeof(*c));

	if ((v = ConfigValue(getenv_fn, "DATABASE_URL")) == NULL)
	{
		snprintf(err, errlen,
				 "DATABASE_URL is required (a libpq URL such as postgresql://user@host:5432/db)");
		return false;
	}
	c->database_url = strdup(v);
	c->database_read_url = Dup(ConfigValue(getenv_fn, "DATABASE_READ_URL"));
	c->host = strdup(ConfigValue(getenv_fn, "HOST") ? ConfigValue(getenv_fn, "HOST") : "0.0.0.0");

	if (!ConfigReadInt(getenv_fn, "PORT", 4000, 1, 65535, &c->port, err, errlen))
		return false;

	if ((v = ConfigValue(getenv_fn, "JWT_SECRET")) == NULL)
	{
		snprintf(err, errlen, "JWT_SECRET is required (at least 32 bytes; e.g. openssl rand -hex 32)");
		return false;
	}
	if (strlen(v) < 32)
	{
		snprintf(err, errlen, "JWT_SECRET must be at least 32 bytes long (got %zu)", strlen(v));
		return false;
	}
	c->jwt_secret = strdup(v);
	c->jwt_issuer =
		strdup(ConfigValue(getenv_fn, "JWT_ISSUER") ? ConfigValue(getenv_fn, "JWT_ISSUER") : "multistore");
	c->jwt_audience = strdup(ConfigValue(getenv_fn, "JWT_AUDIENCE") ? ConfigValue(getenv_fn, "JWT_AUDIENCE")
																	: "multistore-api");
	/*
	 * Both go into every token's JSON: jansson refuses text that is not
	 * UTF-8, and longer ones (a control character is escaped in six bytes)
	 * would make tokens past what JwtVerify reads (JWT_MAX_BYTES): every
	 * login would mint a token no request can use.
	 */
	if (!Utf8IsValid(c->jwt_issuer, strlen(c->jwt_issuer)) ||
		!Utf8IsValid(c->jwt_audience, strlen(c->jwt_audience)))
	{
		snprintf(err, errlen, "JWT_ISSUER and JWT_AUDIENCE must be UTF-8 text");
		return false;
	}
	if (!ClaimTextFits(c->jwt_issuer) || !ClaimTextFits(c->jwt_audience))
	{
		snprintf(err, errlen,
				 "JWT_ISSUER and JWT_AUDIENCE must be at most %d bytes each, without control characters",
				 JWT_CLAIM_TEXT_MAX);
		return false;
	}
	if (!ConfigReadInt(getenv_fn, "ACCESS_TOKEN_TTL", 900, 60, 86400, &c->access_token_ttl, err, errlen) ||
		!ConfigReadInt(getenv_fn, "DB_POOL_SIZE", 8, 1, 256, &c->db_pool_size, err, errlen) ||
		!ConfigReadInt(getenv_fn, "HTTP_THREADS", c->db_pool_size, 1, 256, &c->http_threads, err, errlen) ||
		!ConfigReadInt(getenv_fn, "MAX_BODY_BYTES", 1048576, 1024, 64 * 1048576, &body_bytes, err, errlen) ||
		!ConfigReadInt(getenv_fn, "MAX_CONNECTIONS", 4096, 16, 1000000, &c->max_connections, err, errlen) ||
		!ConfigReadInt(getenv_fn, "CONNECTION_TIMEOUT", 30, 1, 3600, &c->connection_timeout, err, errlen) ||
		!ConfigReadInt(getenv_fn, "DB_CONNECT_TIMEOUT", 2, 1, 60, &c->db_connect_timeout, err, errlen) ||
		!ConfigReadInt(getenv_fn, "DB_STATEMENT_TIMEOUT", 10000, 0, 3600000, &c->db_statement_timeout, err,
					   errlen) ||
		!ConfigReadInt(getenv_fn, "RATE_LIMIT_AUTH_PER_MINUTE", 10, 1, 1000000,
					   &c->rate_limit_auth_per_minute, err, errlen) ||
		!ConfigReadInt(getenv_fn, "RATE_LIMIT_READ_PER_MINUTE", 1200, 1, 100000000,
					   &c->rate_limit_read_per_minute, err, errlen) ||
		!ConfigReadInt(getenv_fn, "RATE_LIMIT_WRITE_PER_MINUTE", 300, 1, 100000000,
					   &c->rate_limit_write_per_minute, err, errlen) ||
		!ConfigReadInt(getenv_fn, "MAX_CONNECTIONS_PER_IP", 256, 1, 1000000, &c->max_connections_per_ip, err,
					   errlen) ||
		!ConfigReadInt(getenv_fn, "BODY_TIMEOUT", 30, 1, 3600, &c->body_timeout, err, errlen) ||
		!ConfigReadInt(getenv_fn, "REPLICA_MAX_LAG", 5, 0, 86400, &c->replica_max_lag, err, errlen) ||
		!ConfigReadInt(getenv_fn, "REALTIME_PING_INTERVAL", 25, 1, 3600, &c->realtime_ping_interval, err,
					   errlen) ||
		!ConfigReadInt(getenv_fn, "REALTIME_IDLE_TIMEOUT", 60, 2, 86400, &c->realtime_idle_timeout, err,
					   errlen) ||
		!ConfigReadInt(getenv_fn, "REALTIME_SSE_HEARTBEAT", 15, 1, 3600, &c->realtime_sse_heartbeat, err,
					   errlen) ||
		!ConfigReadInt(getenv_fn, "REALTIME_POLL_INTERVAL_MS", 5, 1, 10000, &c->realtime_poll_interval, err,
					   errlen) ||
		!ConfigReadInt(getenv_fn, "REALTIME_MAX_PER_USER", 8, 1, 100000, &c->realtime_max_per_user, err,
					   errlen) ||
		!ConfigReadInt(getenv_fn, "REALTIME_SEND_BUFFER", 262144, 4096, 64 * 1048576,
					   &c->realtime_send_buffer, err, errlen) ||
		!ConfigReadInt(getenv_fn, "REALTIME_MAX_MESSAGE", 4096, 128, 1048576, &c->realtime_max_message, err,
					   errlen))
		return false;
	c->max_body_bytes = (size_t) body_bytes;

	c->strapi_webhook_secret = Dup(ConfigValue(getenv_fn, "STRAPI_WEBHOOK_SECRET"));
	c->payment_webhook_secret = Dup(ConfigValue(getenv_fn, "PAYMENT_WEBHOOK_SECRET"));
	c->cors_origins = Dup(ConfigValue(getenv_fn, "CORS_ORIGINS"));
	c->trusted_proxies = Dup(ConfigValue(getenv_fn, "TRUSTED_PROXIES"));
	c->metrics_allow = Dup(ConfigValue(getenv_fn, "METRICS_ALLOW"));
	c->docs_dir = Dup(ConfigValue(getenv_fn, "DOCS_DIR"));

	/* a pooler in transaction mode (pgbouncer before 1.21) cannot keep named statements */
	v = ConfigValue(getenv_fn, "DB_PREPARED_STATEMENTS");
	if (v == NULL || strcmp(v, "on") == 0)
		c->db_prepared_statements = true;
	else if (strcmp(v, "off") == 0)
		c->db_prepared_statements = false;
	else
	{
		snprintf(err, errlen, "DB_PREPARED_STATEMENTS must be on or off (got \"%.20s\")", v);
		return false;
	}

	v = ConfigValue(getenv_fn, "HSTS");
	if (v == NULL || strcmp(v, "off") == 0)
		c->hsts = false;
	else if (strcmp(v, "on") == 0)
		c->hsts = true;
	else
	{
		snprintf(err, errlen, "HSTS must be on or off (got \"%.20s\")", v);
		return false;
	}

	v = ConfigValue(getenv_fn, "LOG_LEVEL");
	if (v == NULL || strcmp(v, "info") == 0)
		c->log_level = LOG_INFO;
	else if (strcmp(v, "debug") == 0)
		c->log_level = LOG_DEBUG;
	else if (strcmp(v, "warn") == 0)
		c->log_level = LOG_WARN;
	else if (strcmp(v, "error") == 0)
		c->log_level = LOG_ERROR;
	else
	{
		snprintf(err, errlen, "LOG_LEVEL must be debug, info, warn or error (got \"%.20s\")", v);
		return false;
	}
	return true;
}

void
ConfigFree(Config *c)
{
	free(c->database_url);
	free(c->database_read_url);
	free(c->host);
	free(c->jwt_secret);
	free(c->jwt_issuer);
	free(c->jwt_audience);
	free(c->strapi_webhook_secret);
	free(c->payment_webhook_secret);
	free(c->cors_origins);
	free(c->trusted_proxies);
	free(c->metrics_allow);
	free(c->docs_dir);
	memset(c, 0, sizeof(*c));
}
