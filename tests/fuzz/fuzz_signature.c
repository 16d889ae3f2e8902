/*
 * fuzz_signature.c
 *	  The payment webhook's Multistore-Signature: SignatureVerify on any
 *	  header and body, and SignatureMake / SignatureVerify round trips.
 *
 * Input, newline-separated: the header value, a secret (empty: a fixed
 * one), a clock offset in seconds; the rest is the raw body (any bytes).
 * The header is verified against the body as sent; then the body is
 * signed at now + offset and the proxy's own header, alone, after junk
 * entries or after a wrong v1=, must verify (SIGNATURE_OK inside the
 * window, SIGNATURE_STALE outside it, SIGNATURE_MISMATCH with another
 * secret or another body).  The same header is also checked as Strapi's
 * Authorization: Bearer <secret> (BearerSecretVerify), which must agree
 * with a plain comparison.
 */
#include <stdbool.h>
#include <strings.h>

#include "fuzz.h"
#include "signature.h"

#define NOW 1800000000LL

static void
CheckVerify(const char *header, const char *secret, const char *body, size_t len, SignatureResult want)
{
	SignatureResult r = SignatureVerify(header, secret, body, len, NOW);

	FuzzAssert(r == want, "SignatureVerify(\"%s\") is %d, not %d", header, (int) r, (int) want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fields			f;
	SignatureResult r;
	const char	   *secret;
	const char	   *body;
	size_t			len;
	long long		offset, t;
	char		   *made, *header;
	size_t			hsize;
	SignatureResult in_window;

	FieldsSplit(&f, data, size, 4);
	/* PAYMENT_WEBHOOK_SECRET: ConfigLoad takes an empty one for unset */
	secret = f.field[1][0] ? f.field[1] : "whsec_0123456789abcdef0123456789abcdef";
	body = f.field[3];
	len = f.len[3];

	r = SignatureVerify(f.field[0], secret, body, len, NOW);
	FuzzAssert(r == SIGNATURE_OK || r == SIGNATURE_MALFORMED || r == SIGNATURE_STALE ||
				   r == SIGNATURE_MISMATCH,
			   "result %d", (int) r);
	FuzzAssert(SignatureVerify(NULL, secret, body, len, NOW) == SIGNATURE_MALFORMED,
			   "no header is malformed");

	/* Strapi's shared secret: the constant-time check says what strcmp says */
	{
		BearerResult b = BearerSecretVerify(f.field[0], secret);
		bool		 bearer = strncasecmp(f.field[0], "Bearer ", 7) == 0;

		FuzzAssert(bearer ? (b == (strcmp(f.field[0] + 7, secret) == 0 ? BEARER_OK : BEARER_MISMATCH))
						  : b == BEARER_MALFORMED,
				   "BearerSecretVerify(\"%s\") is %d", f.field[0], (int) b);
		FuzzAssert(BearerSecretVerify(NULL, secret) == BEARER_MISSING, "no Authorization is missing");
	}

	/* any clock offset strtoll reads, kept to what a timestamp can be */
	offset = strtoll(f.field[2], NULL, 10);
	if (offset < -NOW || offset > NOW)
		offset = 0;
	t = NOW + offset;
	in_window = (offset >= -SIGNATURE_TOLERANCE_SECONDS && offset <= SIGNATURE_TOLERANCE_SECONDS)
					? SIGNATURE_OK
					: SIGNATURE_STALE;
	made = SignatureMake(secret, t, body, len);
	FuzzAssert(made != NULL && strlen(made) <= 100, "SignatureMake gave \"%s\"", made ? made : "(null)");
	CheckVerify(made, secret, body, len, in_window);

	/* a second v1= (a secret being rotated) before ours; and the fuzzed header's entries after ours */
	hsize = strlen(made) + 80 + f.len[0] + 2;
	header = malloc(hsize);
	snprintf(header, hsize, "%s,v1=%064d", made, 0);
	CheckVerify(header, secret, body, len, in_window);
	snprintf(header, hsize, "%s,%s", made, f.field[0]);
	r = SignatureVerify(header, secret, body, len, NOW);
	/* ours still counts, unless the rest is malformed or the header too long to read */
	if (r != SIGNATURE_MALFORMED)
		FuzzAssert(r == in_window || strlen(header) > 1024, "\"%s\" is %d", header, (int) r);

	/* another secret, another body: a mismatch (in the window) */
	if (in_window == SIGNATURE_OK)
	{
		if (strcmp(secret, "another secret") != 0)
			CheckVerify(made, "another secret", body, len, SIGNATURE_MISMATCH);
		if (len > 0)
			CheckVerify(made, secret, body, len - 1, SIGNATURE_MISMATCH);
	}
	free(header);
	free(made);
	FieldsFree(&f);
	return 0;
}
