/*
 * test_signature.c
 *	  The payment webhook signature: a known vector (computed with
 *	  `openssl dgst -sha256 -hmac`), tampering, staleness, malformed headers
 *	  and secret rotation (several v1= entries).
 */
#include <stdlib.h>
#include <string.h>

#include "signature.h"
#include "tap.h"

#define SECRET "whsec_test"
#define BODY   "{\"a\":1}"
#define T	   1700000000LL
/* printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test */
#define MAC	  "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
#define OTHER "0000000000000000000000000000000000000000000000000000000000000000"

static SignatureResult
Verify(const char *header, const char *body, long long now)
{
	return SignatureVerify(header, SECRET, body, strlen(body), now);
}

int
main(void)
{
	char *made = SignatureMake(SECRET, T, BODY, strlen(BODY));

	is_str(made, "t=1700000000,v1=" MAC, "SignatureMake matches openssl's HMAC-SHA256 of t.body");
	free(made);

	is_int(Verify("t=1700000000,v1=" MAC, BODY, T), SIGNATURE_OK, "the right signature verifies");
	is_int(Verify("t=1700000000,v1=" MAC, BODY, T + 299), SIGNATURE_OK, "within 5 minutes after");
	is_int(Verify("t=1700000000,v1=" MAC, BODY, T - 299), SIGNATURE_OK,
		   "within 5 minutes before (clock skew)");
	is_int(Verify("t=1700000000,v1=" MAC, BODY, T + 301), SIGNATURE_STALE, "over 5 minutes old is stale");
	is_int(Verify("t=1700000000,v1=" MAC, BODY, T - 301), SIGNATURE_STALE, "over 5 minutes ahead is stale");
	is_int(Verify("t=1700000000,v1=" MAC, "{\"a\":2}", T), SIGNATURE_MISMATCH,
		   "a changed body does not verify");
	is_int(Verify("t=1700000001,v1=" MAC, BODY, T), SIGNATURE_MISMATCH,
		   "a changed timestamp does not verify");
	is_int(SignatureVerify("t=1700000000,v1=" MAC, "other", BODY, strlen(BODY), T), SIGNATURE_MISMATCH,
		   "another secret does not verify");
	is_int(Verify("t=1700000000,v1=" OTHER ",v1=" MAC, BODY, T), SIGNATURE_OK,
		   "one matching v1 among several verifies (secret rotation)");
	is_int(Verify("t=1700000000,v1=" OTHER, BODY, T), SIGNATURE_MISMATCH, "only wrong v1 entries do not");

	is_int(Verify(NULL, BODY, T), SIGNATURE_MALFORMED, "a missing header is malformed");
	is_int(Verify("", BODY, T), SIGNATURE_MALFORMED, "an empty header is malformed");
	is_int(Verify("v1=" MAC, BODY, T), SIGNATURE_MALFORMED, "no timestamp is malformed");
	is_int(Verify("t=1700000000", BODY, T), SIGNATURE_MALFORMED, "no v1 is malformed");
	is_int(Verify("t=17x,v1=" MAC, BODY, T), SIGNATURE_MALFORMED, "a non-numeric timestamp is malformed");
	is_int(Verify("t=1700000000,v1=abc", BODY, T), SIGNATURE_MALFORMED, "a short MAC is malformed");
	is_int(Verify("t=1700000000,v1="
				  "zz877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789",
				  BODY, T),
		   SIGNATURE_MALFORMED, "a non-hex MAC is malformed");
	is_int(Verify("v1=" MAC ",t=1700000000", BODY, T), SIGNATURE_MALFORMED, "the timestamp must come first");

	/* Strapi's shared secret */
	is_int(BearerSecretVerify("Bearer strapi-secret", "strapi-secret"), BEARER_OK,
		   "Strapi: the secret as Bearer");
	is_int(BearerSecretVerify("bearer strapi-secret", "strapi-secret"), BEARER_OK,
		   "the scheme in any letter case");
	is_int(BearerSecretVerify(NULL, "strapi-secret"), BEARER_MISSING, "no header is missing");
	is_int(BearerSecretVerify("strapi-secret", "strapi-secret"), BEARER_MALFORMED,
		   "the bare secret is malformed");
	is_int(BearerSecretVerify("Basic c2VjcmV0", "strapi-secret"), BEARER_MALFORMED,
		   "another scheme is malformed");
	is_int(BearerSecretVerify("Bearer strapi-secre", "strapi-secret"), BEARER_MISMATCH,
		   "a prefix does not match");
	is_int(BearerSecretVerify("Bearer strapi-secret ", "strapi-secret"), BEARER_MISMATCH,
		   "trailing space does not match");
	is_int(BearerSecretVerify("Bearer strapi-secretx", "strapi-secret"), BEARER_MISMATCH,
		   "a longer one does not");
	is_int(BearerSecretVerify("Bearer ", "strapi-secret"), BEARER_MISMATCH, "an empty one does not");
	return done_testing();
}
