/*-------------------------------------------------------------------------
 *
 * idempotency.h
 *	  Idempotency keys, with the semantics of Stripe and of the IETF
 *	  Idempotency-Key draft: per user, kept 24 hours; the same key with the
 *	  same request replays the first outcome (status and body); with another
 *	  request it is idempotency_key_reused (422); while the first request is
 *	  still running it is idempotency_key_in_use (409).  A request refused
 *	  before any work (a validation error) leaves nothing behind.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_IDEMPOTENCY_H
#define MULTISTORE_IDEMPOTENCY_H

#include "utils/uuid.h"

#define IDEMPOTENCY_KEY_MAX 255
#define IDEMPOTENCY_HOURS	24

typedef struct IdempotentOutcome
{
	int	  status;
	char *body; /* the response body, JSON text */
} IdempotentOutcome;

/* Raises idempotency_key_required for NULL, validation_failed for a bad key */
extern void IdempotencyCheckKey(const char *key);

/* SHA-256 of a request, to tell a retry from another request */
extern bytea *IdempotencyHash(const char *request);

/*
 * IdempotencyBegin claims (user, key) for this transaction, inside SPI.
 * Returns true with the stored outcome when the same request already ran;
 * raises idempotency_key_in_use or idempotency_key_reused; returns false
 * when the work is to be done (then call IdempotencyRecord).
 */
extern bool IdempotencyBegin(pg_uuid_t user_id, const char *key, bytea *hash, IdempotentOutcome *stored);

/* Stores the outcome of the work, in the same transaction as the work */
extern void IdempotencyRecord(pg_uuid_t user_id, const char *key, bytea *hash, int status, const char *body,
							  pg_uuid_t *order_id);

#endif /* MULTISTORE_IDEMPOTENCY_H */
