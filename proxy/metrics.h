/*
 * metrics.h
 *	  Counters for GET /metrics, in the Prometheus text format: requests
 *	  by route template, method and status, a latency histogram per route,
 *	  database errors by SQLSTATE class, rate-limited requests.  Labels are
 *	  route templates, never raw paths, so their number is bounded by the
 *	  route table.  Every counter is a relaxed atomic: recording costs no
 *	  lock on the request path.
 */
#ifndef PROXY_METRICS_H
#define PROXY_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routes.h"

/* the statuses the proxy answers, each its own series; anything else is counted as "other" */
#define METRICS_NSTATUS 23
/* upper bounds of the latency buckets, in seconds; +Inf is implicit */
#define METRICS_NBUCKETS 12
/* methods of requests that matched no route, each a series of route "unmatched" */
#define METRICS_NMETHODS 8
/* why a read the replica may answer went to the primary */
typedef enum ReplicaFallback
{
	REPLICA_DOWN,	 /* unreachable */
	REPLICA_LAG,	 /* more than REPLICA_MAX_LAG behind */
	REPLICA_BUSY,	 /* no replica connection came free in time */
	REPLICA_CONFLICT /* the standby cancelled the read (recovery conflict) */
} ReplicaFallback;
#define METRICS_NREPLICA_REASONS 4
/* rate classes (RateClass) */
#define METRICS_NRATE 4

typedef struct Metrics
{
	const Route		 *routes;
	size_t			  nroutes;
	size_t			  nrows;			  /* routes, then one row per method of unmatched requests */
	_Atomic uint64_t *requests;			  /* [nrows][METRICS_NSTATUS] */
	_Atomic uint64_t *latency;			  /* [nrows][METRICS_NBUCKETS + 1], not cumulative */
	_Atomic uint64_t *latency_sum_us;	  /* [nrows] */
	_Atomic uint64_t  db_errors[36 * 36]; /* by SQLSTATE class: two characters of [0-9A-Z] */
	_Atomic uint64_t  rate_limited[METRICS_NRATE];
	_Atomic uint64_t  replica_reads;							   /* answered by the replica */
	_Atomic uint64_t  replica_fallbacks[METRICS_NREPLICA_REASONS]; /* sent to the primary instead */
} Metrics;

/* Gauges read at scrape time, from the pool and the daemon */
typedef struct MetricsGauges
{
	int			db_pool_size;
	int			db_pool_in_use;
	uint64_t	db_pool_waits;		  /* acquisitions that found no idle connection */
	double		db_pool_wait_seconds; /* total time spent waiting */
	unsigned	http_connections;	  /* open client connections */
	const char *extension_version;	  /* NULL when the database is unreachable */
	const char *proxy_version;
	/* realtime streams */
	unsigned realtime_ws_clients;
	unsigned realtime_sse_clients;
	uint64_t realtime_events_received;
	uint64_t realtime_events_delivered;
	uint64_t realtime_slow_dropped;
	uint64_t realtime_listener_reconnects;
	int		 realtime_listener_up;
	bool	 replica;			  /* DATABASE_READ_URL is set */
	double	 replica_lag_seconds; /* last measured; negative when unreachable */
} MetricsGauges;

extern Metrics *MetricsCreate(const Route *routes, size_t nroutes);
extern void		MetricsDestroy(Metrics *m);

/* One answered request: route index or -1, its method, status, duration in seconds */
extern void MetricsRecordRequest(Metrics *m, int route, const char *method, int status, double seconds);

/* A database call that failed with this SQLSTATE ("08006"; NULL for a lost connection) */
extern void MetricsRecordDbError(Metrics *m, const char *sqlstate);

/* A request refused by the rate limit of this class */
extern void MetricsRecordRateLimited(Metrics *m, int rate_class);

/* A read answered by the replica, or sent to the primary instead and why */
extern void MetricsRecordReplicaRead(Metrics *m);
extern void MetricsRecordReplicaFallback(Metrics *m, ReplicaFallback why);

/* The whole exposition as a malloc'd NUL-terminated string */
extern char *MetricsRender(Metrics *m, const MetricsGauges *g);

#endif /* PROXY_METRICS_H */
