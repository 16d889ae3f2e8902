/*
 * metrics.c
 *	  Request, latency, database and rate-limit counters, and their
 *	  rendering in the Prometheus text exposition format (version 0.0.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const int	statuses[METRICS_NSTATUS] = {101, 200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409,
												 410, 413, 415, 422, 429, 431, 500, 502, 503, 504, 0};
static const double bounds[METRICS_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
												0.1,   0.25,   0.5,	  1,	2.5,   5};
static const char *const methods[METRICS_NMETHODS] = {"GET",   "POST", "PUT",	  "DELETE",
													  "PATCH", "HEAD", "OPTIONS", "other"};
static const char *const rate_names[METRICS_NRATE] = {"none", "auth", "read", "write"};

#define RELAXED memory_order_relaxed

Metrics *
MetricsCreate(const Route *routes, size_t nroutes)
{
	Metrics *m = calloc(1, sizeof(Metrics));

	m->routes = routes;
	m->nroutes = nroutes;
	m->nrows = nroutes + METRICS_NMETHODS;
	m->requests = calloc(m->nrows * METRICS_NSTATUS, sizeof(_Atomic uint64_t));
	m->latency = calloc(m->nrows * (METRICS_NBUCKETS + 1), sizeof(_Atomic uint64_t));
	m->latency_sum_us = calloc(m->nrows, sizeof(_Atomic uint64_t));
	return m;
}

void
MetricsDestroy(Metrics *m)
{
	if (m == NULL)
		return;
	free(m->requests);
	free(m->latency);
	free(m->latency_sum_us);
	free(m);
}

static size_t
StatusIndex(int status)
{
	for (size_t i = 0; i < METRICS_NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return METRICS_NSTATUS - 1;
}

static size_t
Row(const Metrics *m, int route, const char *method)
{
	size_t k;

	if (route >= 0 && (size_t) route < m->nroutes)
		return (size_t) route;
	for (k = 0; k < METRICS_NMETHODS - 1; k++)
		if (method && strcmp(method, methods[k]) == 0)
			break;
	return m->nroutes + k;
}

void
MetricsRecordRequest(Metrics *m, int route, const char *method, int status, double seconds)
{
	size_t row = Row(m, route, method);
	size_t b = 0;

	while (b < METRICS_NBUCKETS && seconds > bounds[b])
		b++;
	atomic_fetch_add_explicit(&m->requests[row * METRICS_NSTATUS + StatusIndex(status)], 1, RELAXED);
	atomic_fetch_add_explicit(&m->latency[row * (METRICS_NBUCKETS + 1) + b], 1, RELAXED);
	atomic_fetch_add_explicit(&m->latency_sum_us[row], (uint64_t) (seconds * 1e6), RELAXED);
}

static int
ClassDigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

void
MetricsRecordDbError(Metrics *m, const char *sqlstate)
{
	/* no SQLSTATE: the connection was lost, which is class 08 */
	const char *s = sqlstate && strlen(sqlstate) >= 2 ? sqlstate : "08";
	int			a = ClassDigit(s[0]), b = ClassDigit(s[1]);

	if (a >= 0 && b >= 0)
		atomic_fetch_add_explicit(&m->db_errors[a * 36 + b], 1, RELAXED);
}

void
MetricsRecordRateLimited(Metrics *m, int rate_class)
{
	if (rate_class >= 0 && rate_class < METRICS_NRATE)
		atomic_fetch_add_explicit(&m->rate_limited[rate_class], 1, RELAXED);
}

void
MetricsRecordReplicaRead(Metrics *m)
{
	atomic_fetch_add_explicit(&m->replica_reads, 1, RELAXED);
}

void
MetricsRecordReplicaFallback(Metrics *m, ReplicaFallback why)
{
	if ((int) why >= 0 && why < METRICS_NREPLICA_REASONS)
		atomic_fetch_add_explicit(&m->replica_fallbacks[why], 1, RELAXED);
}

/* The labels of a row: route template and method */
static void
RowLabels(const Metrics *m, size_t row, const char **route, const char **method)
{
	if (row < m->nroutes)
	{
		*route = m->routes[row].pattern;
		*method = m->routes[row].method;
	}
	else
	{
		*route = "unmatched";
		*method = methods[row - m->nroutes];
	}
}

/* Label values may not hold a backslash, a quote or a newline unescaped */
static void
PrintLabel(FILE *f, const char *value)
{
	for (const char *p = value; *p; p++)
	{
		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

static void
Header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *
MetricsRender(Metrics *m, const MetricsGauges *g)
{
	char  *text = NULL;
	size_t size = 0;
	FILE  *f = open_memstream(&text, &size);

	if (f == NULL)
		return NULL;

	Header(f, "multistore_build_info", "gauge",
		   "Versions of the proxy and of the extension in the database.");
	fputs("multistore_build_info{version=\"", f);
	PrintLabel(f, g->proxy_version);
	fputs("\",extension_version=\"", f);
	PrintLabel(f, g->extension_version ? g->extension_version : "unknown");
	fputs("\"} 1\n", f);

	Header(f, "multistore_http_requests_total", "counter",
		   "HTTP requests answered, by route template, method and status.");
	for (size_t r = 0; r < m->nrows; r++)
		for (size_t s = 0; s < METRICS_NSTATUS; s++)
		{
			uint64_t	n = atomic_load_explicit(&m->requests[r * METRICS_NSTATUS + s], RELAXED);
			const char *route, *method;

			if (n == 0)
				continue;
			RowLabels(m, r, &route, &method);
			fputs("multistore_http_requests_total{route=\"", f);
			PrintLabel(f, route);
			fprintf(f, "\",method=\"%s\",status=\"", method);
			if (statuses[s])
				fprintf(f, "%d", statuses[s]);
			else
				fputs("other", f);
			fprintf(f, "\"} %llu\n", (unsigned long long) n);
		}

	Header(f, "multistore_http_request_duration_seconds", "histogram",
		   "Time from the first byte of a request to its answer, by route template and method.");
	for (size_t r = 0; r < m->nrows; r++)
	{
		uint64_t	cumulative = 0;
		const char *route, *method;

		for (size_t b = 0; b <= METRICS_NBUCKETS; b++)
			cumulative += atomic_load_explicit(&m->latency[r * (METRICS_NBUCKETS + 1) + b], RELAXED);
		if (cumulative == 0)
			continue;
		RowLabels(m, r, &route, &method);
		cumulative = 0;
		for (size_t b = 0; b <= METRICS_NBUCKETS; b++)
		{
			cumulative += atomic_load_explicit(&m->latency[r * (METRICS_NBUCKETS + 1) + b], RELAXED);
			fputs("multistore_http_request_duration_seconds_bucket{route=\"", f);
			PrintLabel(f, route);
			if (b < METRICS_NBUCKETS)
				fprintf(f, "\",method=\"%s\",le=\"%g\"} %llu\n", method, bounds[b],
						(unsigned long long) cumulative);
			else
				fprintf(f, "\",method=\"%s\",le=\"+Inf\"} %llu\n", method, (unsigned long long) cumulative);
		}
		fputs("multistore_http_request_duration_seconds_sum{route=\"", f);
		PrintLabel(f, route);
		fprintf(f, "\",method=\"%s\"} %.6f\n", method,
				(double) atomic_load_explicit(&m->latency_sum_us[r], RELAXED) / 1e6);
		fputs("multistore_http_request_duration_seconds_count{route=\"", f);
		PrintLabel(f, route);
		fprintf(f, "\",method=\"%s\"} %llu\n", method, (unsigned long long) cumulative);
	}

	Header(f, "multistore_http_connections", "gauge", "Open client connections.");
	fprintf(f, "multistore_http_connections %u\n", g->http_connections);

	Header(f, "multistore_db_pool_size", "gauge", "Connections in the database pool.");
	fprintf(f, "multistore_db_pool_size %d\n", g->db_pool_size);
	Header(f, "multistore_db_pool_in_use", "gauge", "Pool connections serving a request now.");
	fprintf(f, "multistore_db_pool_in_use %d\n", g->db_pool_in_use);
	Header(f, "multistore_db_pool_waits_total", "counter", "Requests that found no idle pool connection.");
	fprintf(f, "multistore_db_pool_waits_total %llu\n", (unsigned long long) g->db_pool_waits);
	Header(f, "multistore_db_pool_wait_seconds_total", "counter",
		   "Time requests spent waiting for a pool connection.");
	fprintf(f, "multistore_db_pool_wait_seconds_total %.6f\n", g->db_pool_wait_seconds);

	Header(f, "multistore_db_errors_total", "counter",
		   "Database calls that failed, by SQLSTATE class (08: connection lost).");
	for (int i = 0; i < 36 * 36; i++)
	{
		uint64_t n = atomic_load_explicit(&m->db_errors[i], RELAXED);
		char	 cls[3] = {"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i / 36],
						   "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % 36], '\0'};

		if (n)
			fprintf(f, "multistore_db_errors_total{class=\"%s\"} %llu\n", cls, (unsigned long long) n);
	}

	Header(f, "multistore_rate_limited_total", "counter", "Requests refused with 429, by rate class.");
	for (int i = 1; i < METRICS_NRATE; i++)
		fprintf(f, "multistore_rate_limited_total{class=\"%s\"} %llu\n", rate_names[i],
				(unsigned long long) atomic_load_explicit(&m->rate_limited[i], RELAXED));

	Header(f, "multistore_realtime_clients", "gauge", "Open realtime streams, by transport.");
	fprintf(f, "multistore_realtime_clients{transport=\"websocket\"} %u\n", g->realtime_ws_clients);
	fprintf(f, "multistore_realtime_clients{transport=\"sse\"} %u\n", g->realtime_sse_clients);
	Header(f, "multistore_realtime_events_received_total", "counter",
		   "Committed events the listener read from the database.");
	fprintf(f, "multistore_realtime_events_received_total %llu\n",
			(unsigned long long) g->realtime_events_received);
	Header(f, "multistore_realtime_events_delivered_total", "counter",
		   "Event messages sent to stream clients.");
	fprintf(f, "multistore_realtime_events_delivered_total %llu\n",
			(unsigned long long) g->realtime_events_delivered);
	Header(f, "multistore_realtime_slow_clients_dropped_total", "counter",
		   "Stream clients closed because they did not read what was sent.");
	fprintf(f, "multistore_realtime_slow_clients_dropped_total %llu\n",
			(unsigned long long) g->realtime_slow_dropped);
	Header(f, "multistore_realtime_listener_reconnects_total", "counter",
		   "Times the database listener reconnected after losing its connection.");
	fprintf(f, "multistore_realtime_listener_reconnects_total %llu\n",
			(unsigned long long) g->realtime_listener_reconnects);
	Header(f, "multistore_realtime_listener_up", "gauge", "1 when the database listener is connected.");
	fprintf(f, "multistore_realtime_listener_up %d\n", g->realtime_listener_up);
	if (g->replica)
	{
		static const char *const reasons[METRICS_NREPLICA_REASONS] = {"down", "lag", "busy", "conflict"};

		Header(f, "multistore_db_replica_reads_total", "counter",
			   "Public reads answered by the replica (DATABASE_READ_URL).");
		fprintf(f, "multistore_db_replica_reads_total %llu\n",
				(unsigned long long) atomic_load_explicit(&m->replica_reads, RELAXED));
		Header(f, "multistore_db_replica_fallbacks_total", "counter",
			   "Reads the replica may answer that went to the primary, by reason.");
		for (int i = 0; i < METRICS_NREPLICA_REASONS; i++)
			fprintf(f, "multistore_db_replica_fallbacks_total{reason=\"%s\"} %llu\n", reasons[i],
					(unsigned long long) atomic_load_explicit(&m->replica_fallbacks[i], RELAXED));
		Header(f, "multistore_db_replica_lag_seconds", "gauge",
			   "Replication lag of the replica when last measured; -1 when it could not be reached.");
		fprintf(f, "multistore_db_replica_lag_seconds %.3f\n", g->replica_lag_seconds);
	}

	fclose(f);
	return text;
}
