/*
 * test_jwt.c
 *	  Signing and verification of access tokens, and every way a token can
 *	  be wrong.
 */
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt.h"
#include "tap.h"

static const JwtKey	   key = {(const unsigned char *) "0123456789abcdef0123456789abcdef", 32, "multistore",
							  "multistore-api"};
static const long long NOW = 1800000000;

/* A token with any header and payload text, signed with secret */
static char *
Forge(const char *header, const char *payload, const char *secret)
{
	char		 *t = malloc(8192);
	size_t		  n = Base64UrlEncode((const unsigned char *) header, strlen(header), t);
	unsigned char sig[32];
	unsigned int  sig_len = 32;

	t[n++] = '.';
	n += Base64UrlEncode((const unsigned char *) payload, strlen(payload), t + n);
	HMAC(EVP_sha256(), secret, (int) strlen(secret), (unsigned char *) t, n, sig, &sig_len);
	t[n++] = '.';
	Base64UrlEncode(sig, 32, t + n);
	return t;
}

static JwtResult
Verify(const char *token)
{
	JwtClaims c;

	return JwtVerify(&key, token, NOW, &c, NULL);
}

#define GOOD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define CLAIMS(extra)                                                                                        \
	"{\"sub\":\"u1\",\"sid\":\"s1\",\"role\":\"customer\",\"iss\":\"multistore\",\"aud\":\"multistore-"      \
	"api\"" extra "}"

static void
Check(const char *header, const char *payload, const char *secret, JwtResult want, const char *what)
{
	char *t = Forge(header, payload, secret);

	is_int(Verify(t), want, "%s", what);
	free(t);
}

int
main(void)
{
	const char *secret = (const char *) key.secret;
	char	   *t = JwtSign(&key, "user-1", "admin", "session-1", NOW, 900);
	JwtClaims	c;
	const char *why;
	char	   *copy;

	/* valid */
	is_int(JwtVerify(&key, t, NOW, &c, &why), JWT_OK, "a token we signed verifies");
	is_str(c.sub, "user-1", "sub");
	is_str(c.role, "admin", "role");
	is_str(c.sid, "session-1", "sid");
	is_int(c.exp, NOW + 900, "exp is now + ttl");
	is_int(c.iat, NOW, "iat is now");
	is_int(JwtVerify(&key, t, NOW + 900 + 30, &c, NULL), JWT_OK, "still valid within 30 s of leeway");
	is_int(JwtVerify(&key, t, NOW + 900 + 31, &c, &why), JWT_EXPIRED, "expired after the leeway");
	ok(strchr(t, '=') == NULL && strchr(t, '+') == NULL && strchr(t, '/') == NULL,
	   "base64url without padding");

	/* tampering */
	copy = strdup(t);
	copy[strchr(copy, '.') - copy + 5] ^= 1;
	is_int(Verify(copy), JWT_INVALID, "a tampered payload is refused");
	free(copy);
	copy = strdup(t);
	copy[strlen(copy) - 3] = copy[strlen(copy) - 3] == 'A' ? 'B' : 'A';
	is_int(Verify(copy), JWT_INVALID, "a tampered signature is refused");
	free(copy);
	copy = strdup(t);
	copy[strlen(copy) - 10] = '\0';
	is_int(Verify(copy), JWT_INVALID, "a truncated token is refused");
	free(copy);
	{
		/* the signature's 43rd character carries 2 bits past its 32 bytes: set one, the bytes stay alike */
		static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		size_t			  last;

		copy = strdup(t);
		last = strlen(copy) - 1;
		copy[last] = alphabet[(strchr(alphabet, copy[last]) - alphabet) | 1];
		is_int(Verify(copy), JWT_INVALID, "another spelling of the same signature is refused");
		free(copy);
	}
	free(t);

	/* claims */
	Check(GOOD_HEADER, CLAIMS(",\"exp\":1800000100"), secret, JWT_OK,
		  "a forged-but-correctly-signed token verifies (the test's own signer is right)");
	Check(GOOD_HEADER, CLAIMS(",\"exp\":1800000100"), "another-secret-another-secret-xx", JWT_INVALID,
		  "signed with another secret");
	Check(GOOD_HEADER, CLAIMS(",\"exp\":1799999000"), secret, JWT_EXPIRED, "expired");
	Check(GOOD_HEADER, CLAIMS(",\"exp\":1800000100,\"nbf\":1800000100"), secret, JWT_INVALID,
		  "not yet valid (nbf)");
	Check(GOOD_HEADER, CLAIMS(",\"exp\":1800000100,\"nbf\":1800000020"), secret, JWT_OK,
		  "nbf within the leeway");
	Check(GOOD_HEADER, CLAIMS(",\"exp\":1800000100,\"iat\":1800001000"), secret, JWT_INVALID,
		  "issued in the future");
	Check(GOOD_HEADER, CLAIMS(""), secret, JWT_INVALID, "no exp");
	Check(GOOD_HEADER, CLAIMS(",\"exp\":\"1800000100\""), secret, JWT_INVALID, "exp as a string");
	Check(GOOD_HEADER,
		  "{\"sub\":\"u1\",\"sid\":\"s1\",\"role\":\"customer\",\"iss\":\"evil\",\"aud\":\"multistore-api\","
		  "\"exp\":1800000100}",
		  secret, JWT_INVALID, "wrong issuer");
	Check(GOOD_HEADER,
		  "{\"sub\":\"u1\",\"sid\":\"s1\",\"role\":\"customer\",\"iss\":\"multistore\",\"aud\":\"other\","
		  "\"exp\":1800000100}",
		  secret, JWT_INVALID, "wrong audience");
	Check(GOOD_HEADER,
		  "{\"sub\":\"u1\",\"sid\":\"s1\",\"role\":\"customer\",\"iss\":\"multistore\",\"aud\":[\"x\","
		  "\"multistore-api\"],\"exp\":1800000100}",
		  secret, JWT_OK, "an audience list naming us");
	Check(GOOD_HEADER,
		  "{\"sub\":\"u1\",\"role\":\"customer\",\"iss\":\"multistore\",\"aud\":\"multistore-api\",\"exp\":"
		  "1800000100}",
		  secret, JWT_INVALID, "no sid");
	Check(GOOD_HEADER, "[1,2,3]", secret, JWT_INVALID, "a payload that is not an object");
	Check(GOOD_HEADER,
		  "{\"sub\":\"u1\",\"sub\":\"u2\",\"sid\":\"s1\",\"role\":\"c\",\"iss\":\"multistore\",\"aud\":"
		  "\"multistore-api\",\"exp\":1800000100}",
		  secret, JWT_INVALID, "duplicate claims");

	/* algorithms */
	Check("{\"alg\":\"none\",\"typ\":\"JWT\"}", CLAIMS(",\"exp\":1800000100"), secret, JWT_INVALID,
		  "alg none, even with a valid HS256 signature");
	Check("{\"alg\":\"RS256\"}", CLAIMS(",\"exp\":1800000100"), secret, JWT_INVALID, "alg RS256");
	Check("{\"alg\":\"HS512\"}", CLAIMS(",\"exp\":1800000100"), secret, JWT_INVALID, "alg HS512");
	Check("{\"alg\":\"hs256\"}", CLAIMS(",\"exp\":1800000100"), secret, JWT_INVALID, "alg in lower case");
	Check("{\"typ\":\"JWT\"}", CLAIMS(",\"exp\":1800000100"), secret, JWT_INVALID, "no alg");
	Check("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", CLAIMS(",\"exp\":1800000100"), secret, JWT_INVALID,
		  "a critical extension");
	Check("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", CLAIMS(",\"exp\":1800000100"), secret, JWT_INVALID,
		  "another typ");
	{
		/* "alg":"none" with an empty signature, the classic */
		char   unsigned_token[512];
		size_t n = Base64UrlEncode((const unsigned char *) "{\"alg\":\"none\"}", 14, unsigned_token);

		unsigned_token[n++] = '.';
		n += Base64UrlEncode((const unsigned char *) CLAIMS(",\"exp\":1800000100"),
							 strlen(CLAIMS(",\"exp\":1800000100")), unsigned_token + n);
		unsigned_token[n++] = '.';
		unsigned_token[n] = '\0';
		is_int(Verify(unsigned_token), JWT_INVALID, "alg none without a signature");
	}

	/* shapes */
	is_int(Verify(""), JWT_INVALID, "empty");
	is_int(Verify("abc"), JWT_INVALID, "no dots");
	is_int(Verify("a.b"), JWT_INVALID, "two parts");
	is_int(Verify("a.b.c.d"), JWT_INVALID, "four parts");
	is_int(Verify("!!!.###.$$$"), JWT_INVALID, "not base64url");
	is_int(Verify("eyJhbGciOiJIUzI1NiJ9=.e30.AAAA"), JWT_INVALID, "padding is not base64url");
	is_int(Verify("e.e.e"), JWT_INVALID, "a base64url length that cannot be");
	{
		char *huge = malloc(JWT_MAX_BYTES + 100);

		memset(huge, 'A', JWT_MAX_BYTES + 99);
		huge[10] = '.';
		huge[20] = '.';
		huge[JWT_MAX_BYTES + 99] = '\0';
		is_int(Verify(huge), JWT_INVALID, "an oversized token");
		free(huge);
	}
	{
		/* a header of 3 KiB of padding keys */
		char  header[3200];
		char *tok;

		snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"x\":\"%03000d\"}", 0);
		tok = Forge(header, CLAIMS(",\"exp\":1800000100"), secret);
		is_int(Verify(tok), JWT_INVALID, "an oversized header");
		free(tok);
	}

	/* base64url itself */
	{
		unsigned char out[16];

		is_int(Base64UrlDecode("YQ", 2, out, sizeof(out)), 1, "YQ decodes to one byte");
		is_int(out[0], 'a', "which is a");
		is_int(Base64UrlDecode("YWI", 3, out, sizeof(out)), 2, "YWI decodes to two bytes");
		is_int(Base64UrlDecode("Y", 1, out, sizeof(out)), -1, "one character cannot be");
		is_int(Base64UrlDecode("-_-_", 4, out, sizeof(out)), 3, "- and _ are the url alphabet");
		is_int(Base64UrlDecode("YR", 2, out, sizeof(out)), -1, "YR (a with 4 stray bits) is not canonical");
		is_int(Base64UrlDecode("YWJ", 3, out, sizeof(out)), -1,
			   "YWJ (ab with 2 stray bits) is not canonical");
	}
	return done_testing();
}
