/*
 * ratelimit.c
 *	  Token buckets in a fixed open-addressing table.  A key probes a few
 *	  slots; when all are taken by other keys, the least recently used is
 *	  reused, so memory never grows and idle keys are forgotten first.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define PROBES 8

RateLimiter *
RateLimiterCreate(int per_minute, size_t max_keys)
{
	RateLimiter *l = calloc(1, sizeof(RateLimiter));
	size_t		 n = 16;

	while (n < max_keys)
		n *= 2;
	l->slots = calloc(n, sizeof(RateBucket));
	l->nslots = n;
	l->per_minute = per_minute;
	l->per_second = per_minute / 60.0;
	l->burst = per_minute;
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void
RateLimiterDestroy(RateLimiter *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->slots);
	free(l);
}

/* FNV-1a */
static uint64_t
Hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *) key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

bool
RateLimitTake(RateLimiter *l, const char *key, double now, int *retry_after, int *remaining)
{
	size_t		mask = l->nslots - 1;
	size_t		start = (size_t) Hash(key) & mask;
	RateBucket *bucket = NULL;
	RateBucket *oldest = NULL;
	bool		allowed;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < PROBES; i++)
	{
		RateBucket *b = &l->slots[(start + i) & mask];

		if (b->key[0] == '\0' || strcmp(b->key, key) == 0)
		{
			bucket = b;
			break;
		}
		if (oldest == NULL || b->updated < oldest->updated)
			oldest = b;
	}
	if (bucket == NULL)
		bucket = oldest;
	if (strcmp(bucket->key, key) != 0)
	{
		/* a new key, or one taking over the least recently used slot */
		strncpy(bucket->key, key, sizeof(bucket->key) - 1);
		bucket->key[sizeof(bucket->key) - 1] = '\0';
		bucket->tokens = l->burst;
		bucket->updated = now;
	}

	bucket->tokens = fmin(l->burst, bucket->tokens + (now - bucket->updated) * l->per_second);
	bucket->updated = now;
	allowed = bucket->tokens >= 1.0;
	if (allowed)
		bucket->tokens -= 1.0;
	*remaining = (int) floor(bucket->tokens);
	*retry_after = allowed ? 0 : (int) ceil((1.0 - bucket->tokens) / l->per_second);
	pthread_mutex_unlock(&l->lock);
	return allowed;
}
