/*
 * db.h
 *	  A fixed pool of libpq connections.  A connection belongs to one
 *	  request at a time; each keeps its own prepared statements, one per
 *	  route, prepared on first use.
 */
#ifndef PROXY_DB_H
#define PROXY_DB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "routes.h"

typedef struct DbConn
{
	PGconn *conn;	  /* NULL until connected, and after a failure */
	bool   *prepared; /* per route: statement prepared on conn */
	int		slot;
} DbConn;

typedef struct DbPool
{
	char				*url;
	int					 size;
	DbConn				*conns;
	int					*idle; /* stack of idle slot numbers */
	int					 nidle;
	pthread_mutex_t		 lock;
	pthread_cond_t		 available;
	const CompiledRoute *routes;
	size_t				 nroutes;
	int					 connect_timeout;	/* seconds */
	int					 statement_timeout; /* milliseconds, 0 for none */
	bool				 prepared;			/* named statements; off: unnamed, and no session state */
	_Atomic int64_t		 down_until_ms;		/* after a failed connect, fail fast until then */
	atomic_int			 in_use;
	_Atomic uint64_t	 waits;	  /* acquisitions that found no idle connection */
	_Atomic uint64_t	 wait_us; /* and the time they waited */
	/* a replica's pool: its replication lag, measured at most once a second */
	_Atomic int64_t lag_checked_ms; /* when it was last measured (monotonic) */
	_Atomic int64_t lag_ms;			/* what was measured; DB_LAG_UNKNOWN when unreachable */
} DbPool;

#define DB_LAG_UNKNOWN (-1)

/* How a call ended */
typedef enum DbStatus
{
	DB_OK,	  /* one row: the body, or (status, body, replayed) */
	DB_ERROR, /* the function raised: result has the error fields */
	DB_DOWN,  /* no connection to the database */
	DB_BUSY	  /* no pooled connection came free in time */
} DbStatus;

typedef struct DbResult
{
	DbStatus  status;
	PGresult *result;	   /* owned; PQclear with DbResultClear */
	bool	  reconnected; /* the call had to open a new connection */
} DbResult;

/*
 * With prepared, each connection prepares a named statement per route on
 * first use and statement_timeout is a connection option.  Without (behind
 * a pooler in transaction mode, where consecutive transactions of one
 * client connection may run on different server connections), every call
 * is an unnamed statement and statement_timeout is set for its transaction
 * alone (set_config(..., true) in the same pipeline): no state outlives a
 * transaction.
 */
extern DbPool *DbPoolCreate(const char *url, int size, const CompiledRoute *routes, size_t nroutes,
							int connect_timeout, int statement_timeout, bool prepared);
extern void	   DbPoolDestroy(DbPool *pool);

/* A connection for one request, waiting up to wait_ms; NULL when none came free */
extern DbConn *DbAcquire(DbPool *pool, int wait_ms);
extern void	   DbRelease(DbPool *pool, DbConn *conn);

/*
 * DbCall runs route's statement with the given text parameters (NULL for
 * SQL NULL) on conn, connecting and preparing first when needed.
 */
extern void DbCall(DbPool *pool, DbConn *conn, int route, const char *const *values, DbResult *out);
extern void DbResultClear(DbResult *r);

/*
 * DbMeasureLag measures a hot standby's replication lag on conn: 0 when it
 * has replayed all it received (or is not in recovery), else the age of the
 * last transaction it replayed.  Stores it, in ms, in pool->lag_ms
 * (DB_LAG_UNKNOWN when the standby cannot be reached) and returns it.
 */
extern int64_t DbMeasureLag(DbPool *pool, DbConn *conn);

/* Milliseconds on the monotonic clock */
extern int64_t DbNowMs(void);

#endif /* PROXY_DB_H */
