/*
 * config.h
 *	  The proxy's settings, read once from the environment at start-up.
 *	  env.example lists every one of them.
 */
#ifndef PROXY_CONFIG_H
#define PROXY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum LogLevel
{
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
} LogLevel;

typedef struct Config
{
	char	*database_url;		/* required */
	char	*database_read_url; /* optional replica for public reads */
	char	*host;				/* listen address */
	int		 port;
	char	*jwt_secret; /* required, >= 32 bytes */
	char	*jwt_issuer;
	char	*jwt_audience;
	int		 access_token_ttl; /* seconds */
	int		 db_pool_size;
	int		 http_threads;
	char	*strapi_webhook_secret;
	char	*payment_webhook_secret;
	char	*cors_origins;	  /* exact origins, comma-separated, or "*" */
	char	*trusted_proxies; /* addresses and CIDRs whose X-Forwarded-For is believed */
	char	*metrics_allow;	  /* when set, only these addresses and CIDRs may read /metrics */
	char	*docs_dir;		  /* swagger-ui-dist's files, for /docs */
	bool	 hsts;			  /* send Strict-Transport-Security (behind TLS) */
	size_t	 max_body_bytes;
	int		 max_connections;
	int		 connection_timeout;		 /* seconds of idle before a connection is closed */
	int		 db_connect_timeout;		 /* seconds */
	int		 db_statement_timeout;		 /* milliseconds */
	bool	 db_prepared_statements;	 /* named prepared statements per connection (off behind pgbouncer) */
	int		 replica_max_lag;			 /* seconds of replication lag past which reads go to the primary */
	int		 rate_limit_auth_per_minute; /* login and register, per client IP */
	int		 rate_limit_read_per_minute; /* GET routes, per client IP and per user */
	int		 rate_limit_write_per_minute; /* other routes, per client IP and per user */
	int		 max_connections_per_ip;
	int		 body_timeout; /* seconds a request body may take to arrive */
	LogLevel log_level;
	/* realtime streams (realtime.h) */
	int realtime_ping_interval; /* seconds between WebSocket pings */
	int realtime_idle_timeout;	/* seconds without a frame before a WebSocket is closed */
	int realtime_sse_heartbeat; /* seconds between SSE heartbeats */
	int realtime_poll_interval; /* milliseconds between the listener's reads of the event log */
	int realtime_max_per_user;	/* streams one user may hold open */
	int realtime_send_buffer;	/* bytes queued for one client before it is dropped as slow */
	int realtime_max_message;	/* bytes of one message from a WebSocket client */
} Config;

typedef const char *(*GetEnv)(const char *name);

/*
 * ConfigLoad reads every setting through getenv (getenv itself, or a fake in
 * tests).  On a missing or bad setting it returns false with one line in err
 * naming the variable and what is wrong.
 */
extern bool ConfigLoad(Config *config, GetEnv getenv_fn, char *err, size_t errlen);

/* A setting's value, or NULL when unset or empty */
extern const char *ConfigValue(GetEnv getenv_fn, const char *name);

/* An integer setting from min to max, def when unset; else one line into err */
extern bool ConfigReadInt(GetEnv getenv_fn, const char *name, int def, int min, int max, int *out, char *err,
						  size_t errlen);
extern void ConfigFree(Config *config);

#endif /* PROXY_CONFIG_H */
