/*
 * test_ratelimit.c
 *	  Token buckets: the budget, refill, separate keys, bounded memory.
 */
#include <stdio.h>

#include "ratelimit.h"
#include "tap.h"

int
main(void)
{
	RateLimiter *l = RateLimiterCreate(10, 64);
	int			 retry, remaining;
	int			 allowed = 0;
	char		 key[32];

	for (int i = 0; i < 15; i++)
		allowed += RateLimitTake(l, "10.0.0.1", 100.0, &retry, &remaining);
	is_int(allowed, 10, "10 a minute: the first 10 pass, the rest wait");
	ok(!RateLimitTake(l, "10.0.0.1", 100.0, &retry, &remaining), "the 16th is refused");
	is_int(retry, 6, "and told to retry in 6 s (one token every 6 s)");
	is_int(remaining, 0, "with nothing remaining");
	ok(RateLimitTake(l, "10.0.0.2", 100.0, &retry, &remaining), "another address has its own budget");
	is_int(remaining, 9, "of which 9 remain");
	ok(RateLimitTake(l, "10.0.0.1", 106.0, &retry, &remaining), "a token is back after 6 s");
	ok(!RateLimitTake(l, "10.0.0.1", 106.0, &retry, &remaining), "only one");
	allowed = 0;
	for (int i = 0; i < 20; i++)
		allowed += RateLimitTake(l, "10.0.0.1", 1000.0, &retry, &remaining);
	is_int(allowed, 10, "after a long pause the bucket is full again, never more");

	/* far more keys than slots: memory stays fixed, and new keys still get served */
	for (int i = 0; i < 10000; i++)
	{
		snprintf(key, sizeof(key), "192.0.2.%d/%d", i % 250, i);
		RateLimitTake(l, key, 2000.0 + i, &retry, &remaining);
	}
	is_int((long long) l->nslots, 64, "the table never grows");
	ok(RateLimitTake(l, "203.0.113.9", 20000.0, &retry, &remaining),
	   "a new address is served after the flood");
	RateLimiterDestroy(l);
	return done_testing();
}
