/*
 * ratelimit.h
 *	  Token buckets keyed by client (IP address, user id), in bounded
 *	  memory.  Limits are per proxy instance: N proxies allow N times as
 *	  much in total.
 */
#ifndef PROXY_RATELIMIT_H
#define PROXY_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct RateBucket
{
	char   key[64];
	double tokens;
	double updated; /* seconds, monotonic */
} RateBucket;

typedef struct RateLimiter
{
	pthread_mutex_t lock;
	RateBucket	   *slots;
	size_t			nslots;		/* a power of two */
	double			per_second; /* refill rate */
	double			burst;		/* bucket size */
	int				per_minute; /* as configured, for headers */
} RateLimiter;

/* A limiter of per_minute requests per key, remembering up to max_keys keys */
extern RateLimiter *RateLimiterCreate(int per_minute, size_t max_keys);
extern void			RateLimiterDestroy(RateLimiter *limiter);

/*
 * RateLimitTake spends one token of key's bucket at time now (seconds).
 * Returns false when the bucket is empty, with *retry_after the seconds
 * until a token is back; *remaining is what is left either way.
 */
extern bool RateLimitTake(RateLimiter *limiter, const char *key, double now, int *retry_after,
						  int *remaining);

#endif /* PROXY_RATELIMIT_H */
