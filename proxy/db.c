/*
 * db.c
 *	  The libpq connection pool.
 *
 * When the database goes away every pooled connection breaks; the next call
 * on each reconnects.  After a failed connect the pool answers DB_DOWN at
 * once for a second instead of making every request wait for a timeout, so
 * the proxy stays fast (503) during an outage and recovers by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "params.h"

#define DB_RETRY_AFTER_MS 1000

int64_t
DbNowMs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

DbPool *
DbPoolCreate(const char *url, int size, const CompiledRoute *routes, size_t nroutes, int connect_timeout,
			 int statement_timeout, bool prepared)
{
	DbPool *pool = calloc(1, sizeof(DbPool));

	pool->url = strdup(url);
	pool->size = size;
	pool->conns = calloc((size_t) size, sizeof(DbConn));
	pool->idle = calloc((size_t) size, sizeof(int));
	pool->routes = routes;
	pool->nroutes = nroutes;
	pool->connect_timeout = connect_timeout;
	pool->statement_timeout = statement_timeout;
	pool->prepared = prepared;
	atomic_store(&pool->lag_checked_ms, 0);
	atomic_store(&pool->lag_ms, DB_LAG_UNKNOWN);
	for (int i = 0; i < size; i++)
	{
		pool->conns[i].slot = i;
		pool->conns[i].prepared = calloc(nroutes, sizeof(bool));
		pool->idle[pool->nidle++] = size - 1 - i;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->available, NULL);
	atomic_store(&pool->down_until_ms, 0);
	atomic_store(&pool->in_use, 0);
	return pool;
}

static void
Disconnect(DbPool *pool, DbConn *c)
{
	if (c->conn)
		PQfinish(c->conn);
	c->conn = NULL;
	memset(c->prepared, 0, pool->nroutes * sizeof(bool));
}

void
DbPoolDestroy(DbPool *pool)
{
	if (pool == NULL)
		return;
	for (int i = 0; i < pool->size; i++)
	{
		Disconnect(pool, &pool->conns[i]);
		free(pool->conns[i].prepared);
	}
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->available);
	free(pool->conns);
	free(pool->idle);
	free(pool->url);
	free(pool);
}

DbConn *
DbAcquire(DbPool *pool, int wait_ms)
{
	DbConn		   *c = NULL;
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&pool->lock);
	if (pool->nidle == 0)
	{
		int64_t started = DbNowMs();

		while (pool->nidle == 0)
		{
			if (pthread_cond_timedwait(&pool->available, &pool->lock, &deadline) != 0)
				break;
		}
		atomic_fetch_add_explicit(&pool->waits, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&pool->wait_us, (uint64_t) (DbNowMs() - started) * 1000,
								  memory_order_relaxed);
	}
	if (pool->nidle > 0)
		c = &pool->conns[pool->idle[--pool->nidle]];
	pthread_mutex_unlock(&pool->lock);
	if (c)
		atomic_fetch_add(&pool->in_use, 1);
	return c;
}

void
DbRelease(DbPool *pool, DbConn *c)
{
	if (c == NULL)
		return;
	atomic_fetch_sub(&pool->in_use, 1);
	pthread_mutex_lock(&pool->lock);
	pool->idle[pool->nidle++] = c->slot;
	pthread_cond_signal(&pool->available);
	pthread_mutex_unlock(&pool->lock);
}

/*
 * libpq prints the server's notices (e.g. "terminating connection because
 * of crash of another server process") on stderr by default: they go to
 * the JSON log instead, one line each, like everything the proxy says.
 */
static void
NoticeToLog(void *arg, const char *message)
{
	char text[512];

	(void) arg;
	snprintf(text, sizeof(text), "%s", message);
	text[strcspn(text, "\n")] = '\0';
	LogWrite(LOG_WARN, "database notice",
			 json_pack("{s:s}", "notice", Utf8IsValid(text, strlen(text)) ? text : "(not UTF-8)"));
}

/* Opens the connection of a slot; false when the database cannot be reached */
static bool
Connect(DbPool *pool, DbConn *c)
{
	char		timeout[16];
	char		options[64];
	const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
	const char *values[] = {pool->url, timeout, "multistore-proxy", options, NULL};

	if (DbNowMs() < atomic_load(&pool->down_until_ms))
		return false;
	snprintf(timeout, sizeof(timeout), "%d", pool->connect_timeout);
	snprintf(options, sizeof(options), "-c statement_timeout=%d", pool->statement_timeout);
	/* a pooler refuses (or drops) start-up options: the timeout goes with each call instead */
	if (!pool->prepared)
		keys[3] = NULL;
	c->conn = PQconnectdbParams(keys, values, 1);
	if (PQstatus(c->conn) != CONNECTION_OK)
	{
		char msg[256];

		/* the first line of libpq's message; never the URL, which may hold a password */
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->conn));
		msg[strcspn(msg, "\n")] = '\0';
		LogWrite(LOG_WARN, "database connection failed", json_pack("{s:s}", "error", msg));
		Disconnect(pool, c);
		atomic_store(&pool->down_until_ms, DbNowMs() + DB_RETRY_AFTER_MS);
		return false;
	}
	PQsetNoticeProcessor(c->conn, NoticeToLog, NULL);
	atomic_store(&pool->down_until_ms, 0);
	return true;
}

/* Did a failed result come from a lost connection rather than the call? */
static bool
ConnectionLost(PGconn *conn, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return PQstatus(conn) != CONNECTION_OK || state == NULL || strncmp(state, "08", 2) == 0 ||
		   strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

static PGresult *ExecPrepared(DbPool *pool, DbConn *c, int route, const char *const *values, DbResult *out);
static PGresult *ExecUnnamed(DbPool *pool, DbConn *c, const CompiledRoute *r, const char *const *values);

void
DbCall(DbPool *pool, DbConn *c, int route, const char *const *values, DbResult *out)
{
	const CompiledRoute *r = &pool->routes[route];
	PGresult			*res;

	memset(out, 0, sizeof(*out));
	if (c->conn == NULL)
	{
		if (!Connect(pool, c))
		{
			out->status = DB_DOWN;
			return;
		}
		out->reconnected = true;
	}

	if (!pool->prepared)
		res = ExecUnnamed(pool, c, r, values);
	else
		res = ExecPrepared(pool, c, route, values, out);
	if (res == NULL)
		return;
	switch (PQresultStatus(res))
	{
		case PGRES_TUPLES_OK:
			/* a body, or a row (status, body, replayed) of a function that decides its status */
			if (PQntuples(res) == 1 && (PQnfields(res) == 1 || PQnfields(res) == 3))
			{
				out->status = DB_OK;
				out->result = res;
				return;
			}
			PQclear(res);
			out->status = DB_ERROR;
			return;
		default:
			if (ConnectionLost(c->conn, res))
			{
				PQclear(res);
				Disconnect(pool, c);
				out->status = DB_DOWN;
				return;
			}
			out->status = DB_ERROR;
			out->result = res;
			return;
	}
}

/*
 * ExecPrepared runs route's named statement on c, preparing it first on
 * this connection; NULL when out already says how the call ended.
 */
static PGresult *
ExecPrepared(DbPool *pool, DbConn *c, int route, const char *const *values, DbResult *out)
{
	const CompiledRoute *r = &pool->routes[route];
	PGresult			*res;

	if (!c->prepared[route])
	{
		res = PQprepare(c->conn, r->statement, r->sql, r->nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			if (ConnectionLost(c->conn, res))
			{
				PQclear(res);
				Disconnect(pool, c);
				out->status = DB_DOWN;
				return NULL;
			}
			out->status = DB_ERROR;
			out->result = res;
			return NULL;
		}
		PQclear(res);
		c->prepared[route] = true;
	}
	return PQexecPrepared(c->conn, r->statement, r->nparams, values, NULL, NULL, 0);
}

/*
 * ExecUnnamed runs r's SQL as an unnamed statement: what a pooler in
 * transaction mode allows.  With a statement timeout, set_config(...,
 * true) and the call go in one pipeline before one Sync, so they are one
 * implicit transaction and the setting ends with it.  Returns the call's
 * result, or the first failure (a lost connection: a result PQstatus tells).
 */
static PGresult *
ExecUnnamed(DbPool *pool, DbConn *c, const CompiledRoute *r, const char *const *values)
{
	PGconn	   *conn = c->conn;
	PGresult   *res, *call = NULL, *failed = NULL;
	char		timeout[16];
	const char *timeout_values[1] = {timeout};

	if (pool->statement_timeout <= 0)
		return PQexecParams(conn, r->sql, r->nparams, NULL, values, NULL, NULL, 0);

	snprintf(timeout, sizeof(timeout), "%d", pool->statement_timeout);
	if (!PQenterPipelineMode(conn) ||
		!PQsendQueryParams(conn, "SELECT pg_catalog.set_config('statement_timeout', $1, true)", 1, NULL,
						   timeout_values, NULL, NULL, 0) ||
		!PQsendQueryParams(conn, r->sql, r->nparams, NULL, values, NULL, NULL, 0) || !PQpipelineSync(conn))
	{
		/* nothing to read: the connection is gone or unusable */
		PQexitPipelineMode(conn);
		return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
	}
	/* results: set_config's, NULL, the call's, NULL, then the sync */
	for (int query = 0;;)
	{
		ExecStatusType st;

		if ((res = PQgetResult(conn)) == NULL)
		{
			/* at most three NULLs before the sync; none more from a lost connection */
			if (++query > 3 || PQstatus(conn) != CONNECTION_OK)
				break;
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			break;
		}
		if (query == 1 && call == NULL && st == PGRES_TUPLES_OK)
			call = res;
		else if (failed == NULL && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED)
			failed = res;
		else
			PQclear(res);
	}
	PQexitPipelineMode(conn);
	if (failed)
	{
		PQclear(call);
		return failed;
	}
	return call ? call : PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
}

int64_t
DbMeasureLag(DbPool *pool, DbConn *c)
{
	PGresult *res;
	int64_t	  lag = DB_LAG_UNKNOWN;

	if (c->conn == NULL && !Connect(pool, c))
	{
		atomic_store(&pool->lag_ms, DB_LAG_UNKNOWN);
		return DB_LAG_UNKNOWN;
	}
	/* receive = replay: caught up with what the primary sent, however old its last commit */
	res = PQexec(c->conn, "SELECT CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN 0"
						  " WHEN pg_catalog.pg_last_wal_receive_lsn() IS NOT DISTINCT FROM"
						  " pg_catalog.pg_last_wal_replay_lsn() THEN 0"
						  " ELSE (1000 * extract(epoch FROM pg_catalog.now() -"
						  " pg_catalog.pg_last_xact_replay_timestamp()))::bigint END");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		lag = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (ConnectionLost(c->conn, res))
		Disconnect(pool, c);
	PQclear(res);
	if (lag < 0 && lag != DB_LAG_UNKNOWN)
		lag = 0;
	atomic_store(&pool->lag_ms, lag);
	return lag;
}

void
DbResultClear(DbResult *r)
{
	if (r->result)
		PQclear(r->result);
	r->result = NULL;
}
