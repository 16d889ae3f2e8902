/*
 * signature.h
 *	  The payment webhook's signature: header
 *	    Multistore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
 *	  checked in constant time, within a tolerance window (5 minutes).
 *	  Several v1= entries may be given (a secret being rotated); one must
 *	  match.  Pure functions: tests/proxy/test_signature.c.
 *	  Also the shared secret of Strapi's webhooks (below).
 */
#ifndef PROXY_SIGNATURE_H
#define PROXY_SIGNATURE_H

#include <stddef.h>

#define SIGNATURE_TOLERANCE_SECONDS 300

typedef enum SignatureResult
{
	SIGNATURE_OK,
	SIGNATURE_MALFORMED, /* not t=...,v1=... */
	SIGNATURE_STALE,	 /* t outside the tolerance window */
	SIGNATURE_MISMATCH
} SignatureResult;

extern SignatureResult SignatureVerify(const char *header, const char *secret, const char *body,
									   size_t body_len, long long now);

/* The header value for body at time t; caller frees (for tests and tools) */
extern char *SignatureMake(const char *secret, long long t, const char *body, size_t body_len);

/*
 * Strapi's webhooks carry a shared secret as configured in its admin:
 *	  Authorization: Bearer <STRAPI_WEBHOOK_SECRET>
 * compared in constant time.
 */
typedef enum BearerResult
{
	BEARER_OK,
	BEARER_MISSING,	  /* no Authorization header */
	BEARER_MALFORMED, /* not "Bearer <secret>" */
	BEARER_MISMATCH
} BearerResult;

extern BearerResult BearerSecretVerify(const char *authorization, const char *secret);

#endif /* PROXY_SIGNATURE_H */
