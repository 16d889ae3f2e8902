/*
 * server.h
 *	  What every request handler shares: settings, routes, the pool.
 *	  One Server lives in main() and reaches handlers as the MHD closure;
 *	  there is no global server state.
 */
#ifndef PROXY_SERVER_H
#define PROXY_SERVER_H

#include <stdatomic.h>

#include "config.h"
#include "db.h"
#include "jwt.h"
#include "metrics.h"
#include "ratelimit.h"
#include "routes.h"

#define PROXY_VERSION "0.2.0"

typedef struct Server
{
	Config			   config;
	const Route		  *routes;
	size_t			   nroutes;
	CompiledRoute	  *compiled;
	DbPool			  *pool;
	DbPool			  *replica;		/* DATABASE_READ_URL's, or NULL */
	JwtKey			   jwt;			/* points into config */
	RateLimiter		  *limiters[4]; /* by RateClass (none at RATE_NONE); keys "ip:..." and "user:..." */
	Metrics			  *metrics;
	struct MHD_Daemon *daemon;
	struct Realtime	  *realtime;		/* the listener and the streams; NULL until started */
	atomic_int		   active_requests; /* started and not yet completed */
} Server;

#endif /* PROXY_SERVER_H */
