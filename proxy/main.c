/*
 * main.c
 *	  multistore-proxy: start-up, the HTTP daemon, and shutdown.
 *
 * Start-up reads the settings (one clear line and exit code 2 when one is
 * missing or bad), checks and compiles the route table, and starts
 * libmicrohttpd with a pool of epoll threads, each request running its SQL
 * call on a pooled connection.  SIGINT/SIGTERM stop accepting, let
 * in-flight requests finish (up to 10 s), then exit.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "realtime.h"
#include "request.h"
#include "routes.h"
#include "server.h"
#include "strapi_sync.h"

#define SHUTDOWN_GRACE_MS 10000

static const char *
RealGetEnv(const char *name)
{
	return getenv(name);
}

static void
Usage(void)
{
	fprintf(stderr,
			"usage: multistore-proxy            serve HTTP (settings from the environment; see env.example)\n"
			"       multistore-proxy --routes   print the route table and its SQL calls\n"
			"       multistore-proxy strapi-sync  reconcile the catalogue from Strapi's REST API, then exit\n"
			"       multistore-proxy --version\n");
}

/* Prints the route table as the proxy understands it */
static void
PrintRoutes(const Route *table, const CompiledRoute *compiled, size_t n)
{
	static const char *const access[] = {"public", "user", "admin", "manager", "payment", "realtime"};

	for (size_t i = 0; i < n; i++)
		printf("%-6s %-40s %-7s %s\n", table[i].method, table[i].pattern, access[table[i].access],
			   compiled[i].sql ? compiled[i].sql : "(proxy)");
}

/* Swagger UI next to the binary: proxy/node_modules/swagger-ui-dist, where make installs it */
static char *
DefaultDocsDir(void)
{
	char	exe[4096];
	char	dir[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char   *slash;

	if (n <= 0)
		return strdup("node_modules/swagger-ui-dist");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/node_modules/swagger-ui-dist", exe);
	return strdup(dir);
}

static struct MHD_Daemon *
StartDaemon(Server *server)
{
	struct sockaddr_in addr;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) server->config.port);
	if (inet_pton(AF_INET, server->config.host, &addr.sin_addr) != 1)
	{
		fprintf(stderr, "multistore-proxy: HOST must be an IPv4 address (got \"%s\")\n", server->config.host);
		exit(2);
	}

	return MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE |
			MHD_ALLOW_SUSPEND_RESUME,
		(uint16_t) server->config.port, NULL, NULL, RequestAccess, server, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *) &addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) server->config.http_threads,
		MHD_OPTION_URI_LOG_CALLBACK, RequestUriLog, server, MHD_OPTION_NOTIFY_COMPLETED, RequestCompleted,
		server, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) server->config.connection_timeout,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int) server->config.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) server->config.max_connections_per_ip,
		/* per connection: request headers must fit; reset on every request */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (16 * 1024),
		/* no MHD_OPTION_LISTENING_ADDRESS_REUSE: its SO_REUSEPORT would let a
		 * second proxy bind the same port and silently take half the traffic;
		 * the default SO_REUSEADDR is enough to restart at once */
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int) 1, MHD_OPTION_END);
}

/* Waits for SIGINT or SIGTERM; every thread started later inherits the block */
static int
WaitForSignal(sigset_t *set)
{
	int sig = 0;

	sigwait(set, &sig);
	return sig;
}

int
main(int argc, char **argv)
{
	Server	 server;
	char	 err[512];
	sigset_t signals;
	int		 sig;
	int64_t	 deadline;

	memset(&server, 0, sizeof(server));
	server.routes = routes;
	server.nroutes = route_count;

	if (argc > 1 && strcmp(argv[1], "--version") == 0)
	{
		printf("multistore-proxy %s\n", PROXY_VERSION);
		return 0;
	}
	/* a one-shot command sharing the binary: no HTTP, no route table */
	if (argc > 1 && strcmp(argv[1], "strapi-sync") == 0)
		return StrapiSyncMain(argc, argv);
	server.compiled = RoutesCompile(routes, route_count, err, sizeof(err));
	if (server.compiled == NULL)
	{
		fprintf(stderr, "multistore-proxy: %s\n", err);
		return 2;
	}
	if (!RoutesMarkReplica(routes, route_count, server.compiled, replica_routes, replica_route_count, err,
						   sizeof(err)))
	{
		fprintf(stderr, "multistore-proxy: %s\n", err);
		RoutesFree(server.compiled, route_count);
		return 2;
	}
	if (argc > 1 && strcmp(argv[1], "--routes") == 0)
	{
		PrintRoutes(routes, server.compiled, route_count);
		RoutesFree(server.compiled, route_count);
		return 0;
	}
	if (argc > 1)
	{
		Usage();
		RoutesFree(server.compiled, route_count);
		return 2;
	}
	if (!ConfigLoad(&server.config, RealGetEnv, err, sizeof(err)))
	{
		fprintf(stderr, "multistore-proxy: %s\n", err);
		ConfigFree(&server.config);
		RoutesFree(server.compiled, route_count);
		return 2;
	}
	LogInit(server.config.log_level);
	if (server.config.docs_dir == NULL)
		server.config.docs_dir = DefaultDocsDir();

	/* block the stop signals in every thread; main waits for them */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);

	server.jwt.secret = (const unsigned char *) server.config.jwt_secret;
	server.jwt.secret_len = strlen(server.config.jwt_secret);
	server.jwt.issuer = server.config.jwt_issuer;
	server.jwt.audience = server.config.jwt_audience;
	/* 65,536 keys per class at most: idle buckets are evicted, memory stays bounded */
	server.limiters[RATE_AUTH] = RateLimiterCreate(server.config.rate_limit_auth_per_minute, 65536);
	server.limiters[RATE_READ] = RateLimiterCreate(server.config.rate_limit_read_per_minute, 65536);
	server.limiters[RATE_WRITE] = RateLimiterCreate(server.config.rate_limit_write_per_minute, 65536);
	server.metrics = MetricsCreate(routes, route_count);
	server.pool = DbPoolCreate(server.config.database_url, server.config.db_pool_size, server.compiled,
							   route_count, server.config.db_connect_timeout,
							   server.config.db_statement_timeout, server.config.db_prepared_statements);
	/* a hot standby for the public reads of replica_routes: a pool of its own, as large */
	if (server.config.database_read_url)
		server.replica =
			DbPoolCreate(server.config.database_read_url, server.config.db_pool_size, server.compiled,
						 route_count, server.config.db_connect_timeout, server.config.db_statement_timeout,
						 server.config.db_prepared_statements);
	{
		RealtimeConfig rc = {
			.database_url = server.config.database_url,
			.connect_timeout = server.config.db_connect_timeout,
			.ping_interval = server.config.realtime_ping_interval,
			.idle_timeout = server.config.realtime_idle_timeout,
			.sse_heartbeat = server.config.realtime_sse_heartbeat,
			.poll_interval = server.config.realtime_poll_interval,
			.max_per_user = server.config.realtime_max_per_user,
			.send_buffer = (size_t) server.config.realtime_send_buffer,
			.max_message = (size_t) server.config.realtime_max_message,
			.cors_origins = server.config.cors_origins,
		};

		server.realtime = RealtimeStart(&rc);
	}
	server.daemon = StartDaemon(&server);
	if (server.daemon == NULL)
	{
		fprintf(stderr, "multistore-proxy: cannot listen on %s:%d (in use, or not allowed)\n",
				server.config.host, server.config.port);
		RealtimeDestroy(server.realtime);
		DbPoolDestroy(server.pool);
		DbPoolDestroy(server.replica);
		for (int i = 0; i < 4; i++)
			RateLimiterDestroy(server.limiters[i]);
		MetricsDestroy(server.metrics);
		ConfigFree(&server.config);
		RoutesFree(server.compiled, route_count);
		return 1;
	}
	LogWrite(LOG_INFO, "listening",
			 json_pack("{s:s,s:i,s:i,s:i,s:s,s:b,s:b}", "host", server.config.host, "port",
					   server.config.port, "threads", server.config.http_threads, "dbPoolSize",
					   server.config.db_pool_size, "version", PROXY_VERSION, "replica",
					   server.replica != NULL, "preparedStatements", server.config.db_prepared_statements));

	sig = WaitForSignal(&signals);
	LogWrite(LOG_INFO, "stopping", json_pack("{s:s}", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));

	/* stop accepting, let requests in flight finish, then close everything */
	{
		/* closing the listening socket refuses new connections at once */
		MHD_socket listener = MHD_quiesce_daemon(server.daemon);

		if (listener != MHD_INVALID_SOCKET)
			close(listener);
	}
	/* WebSockets get 1001 and streams end, so their requests can complete */
	RealtimeStop(server.realtime);
	deadline = DbNowMs() + SHUTDOWN_GRACE_MS;
	while (atomic_load(&server.active_requests) > 0 && DbNowMs() < deadline)
	{
		struct timespec pause = {0, 20 * 1000000L};

		nanosleep(&pause, NULL);
	}
	MHD_stop_daemon(server.daemon);
	RealtimeDestroy(server.realtime);
	DbPoolDestroy(server.pool);
	DbPoolDestroy(server.replica);
	for (int i = 0; i < 4; i++)
		RateLimiterDestroy(server.limiters[i]);
	MetricsDestroy(server.metrics);
	LogWrite(LOG_INFO, "stopped", NULL);
	ConfigFree(&server.config);
	RoutesFree(server.compiled, route_count);
	return 0;
}
