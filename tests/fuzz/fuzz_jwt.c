/*
 * fuzz_jwt.c
 *	  Access tokens: JwtVerify, Base64UrlDecode, and JwtSign round trips.
 *
 * The first byte picks what the rest is:
 *	  'v'	a token (the Authorization header after "Bearer "), verified with
 *			a fixed key: what any client can send;
 *	  'd'	an output size byte, then base64url text for Base64UrlDecode into
 *			a buffer of exactly that size;
 *	  's'	header and payload JSON text, newline-separated, signed here with
 *			the key: what JwtVerify believes once the signature holds (only
 *			the proxy can make those, but nothing in them may crash it);
 *	  'r'	sub, role, sid, issuer, audience, a clock and a lifetime,
 *			newline-separated: JwtSign's token must verify to the same
 *			claims whenever they fit JwtClaims.
 * Any other first byte is taken as 'v'.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <jansson.h>

#include "fuzz.h"
#include "jwt.h"

#define NOW 1800000000LL

static const JwtKey key = {(const unsigned char *) "0123456789abcdef0123456789abcdef", 32, "multistore",
						   "multistore-api"};

static void
CheckVerify(const JwtKey *k, const char *token, long long now)
{
	JwtClaims	claims;
	const char *why = NULL;
	JwtResult	r = JwtVerify(k, token, now, &claims, &why);

	FuzzAssert(r == JWT_OK || r == JWT_INVALID || r == JWT_EXPIRED, "result %d", (int) r);
	FuzzAssert((r == JWT_OK) == (why == NULL), "result %d with reason %s", (int) r, why ? why : "(null)");
	if (r == JWT_OK)
	{
		FuzzAssert(memchr(claims.sub, '\0', sizeof(claims.sub)) &&
					   memchr(claims.sid, '\0', sizeof(claims.sid)) &&
					   memchr(claims.role, '\0', sizeof(claims.role)),
				   "claims not terminated");
		FuzzAssert(claims.sub[0] && claims.sid[0] && claims.role[0], "empty claim accepted");
		FuzzAssert(now <= claims.exp + JWT_LEEWAY_SECONDS, "expired token accepted");
	}
}

static void
FuzzDecode(const char *in, size_t len)
{
	size_t		   out_size = len ? (unsigned char) in[0] : 0;
	unsigned char *out;
	long		   n;

	if (len)
		in++, len--;
	/* libcrypto is not instrumented: guard bytes catch a write past out_size */
	out = malloc(out_size + 64);
	memset(out, 0xA5, out_size + 64);
	n = Base64UrlDecode(in, len, out, out_size);
	for (size_t i = out_size; i < out_size + 64; i++)
		FuzzAssert(out[i] == 0xA5, "Base64UrlDecode wrote past %zu bytes", out_size);
	if (n >= 0)
	{
		char *again = malloc(4 * ((size_t) n / 3 + 1) + 1);

		FuzzAssert((size_t) n <= out_size && (size_t) n == len * 3 / 4, "decoded %ld bytes of %zu", n, len);
		/* only the canonical spelling decodes: encoding gives the text back */
		Base64UrlEncode(out, (size_t) n, again);
		FuzzAssert(strlen(again) == len && memcmp(again, in, len) == 0,
				   "%zu characters gave %ld bytes that encode otherwise", len, n);
		free(again);
	}
	free(out);
}

/* A token for any header and payload text, signed with the key */
static void
FuzzSigned(const char *header, size_t hlen, const char *payload, size_t plen)
{
	char		 *t;
	size_t		  n;
	unsigned char sig[32];
	unsigned int  sig_len = sizeof(sig);

	if (hlen + plen > JWT_MAX_BYTES)
		return;
	t = malloc(4 * ((hlen + plen) / 3 + 2) + 64 + 8);
	n = Base64UrlEncode((const unsigned char *) header, hlen, t);
	t[n++] = '.';
	n += Base64UrlEncode((const unsigned char *) payload, plen, t + n);
	HMAC(EVP_sha256(), key.secret, (int) key.secret_len, (unsigned char *) t, n, sig, &sig_len);
	t[n++] = '.';
	Base64UrlEncode(sig, sizeof(sig), t + n);
	CheckVerify(&key, t, NOW);
	free(t);
}

static bool
Fits(const char *s, size_t size)
{
	size_t len = strlen(s);

	return len > 0 && len < size;
}

/*
 * JwtSign's strings come from jansson (handlers.c: the SQL call's answer)
 * and the settings (JWT_ISSUER, JWT_AUDIENCE); jansson's are valid UTF-8.
 */
static void
FuzzRoundTrip(Fields *f)
{
	const char *sub = f->field[0], *role = f->field[1], *sid = f->field[2];
	JwtKey		k = key;
	long long	now = (long long) strtoll(f->field[5], NULL, 10);
	int			ttl = 60 + (int) (strtoul(f->field[6], NULL, 10) % (86400 - 60 + 1));
	char	   *token;
	JwtClaims	claims;
	const char *why = NULL;

	/* and ConfigLoad refuses an issuer or audience that is not UTF-8 */
	for (int i = 0; i < 5; i++)
		if (!Utf8IsValid(f->field[i], strlen(f->field[i])))
			return;
	if (f->field[3][0])
		k.issuer = f->field[3];
	if (f->field[4][0])
		k.audience = f->field[4];
	/* a clock of this world: seconds since 1970, before 2100 */
	if (now < 0 || now > 4102444800LL)
		now = NOW;
	token = JwtSign(&k, sub, role, sid, now, ttl);
	FuzzAssert(token != NULL, "JwtSign gave NULL (issuer \"%s\", audience \"%s\")", k.issuer, k.audience);
	CheckVerify(&k, token, now);
	/*
	 * JwtVerify reads JWT_MAX_BYTES at most: a long issuer or audience
	 * (control characters take 6 bytes of JSON each) makes longer tokens,
	 * which JwtSign does not refuse.  Reported, not a memory error.
	 */
	if (Fits(sub, sizeof(claims.sub)) && Fits(sid, sizeof(claims.sid)) && Fits(role, sizeof(claims.role)) &&
		strlen(token) <= JWT_MAX_BYTES)
	{
		JwtResult r = JwtVerify(&k, token, now + ttl, &claims, &why);

		FuzzAssert(r == JWT_OK, "signed token refused: %s", why);
		FuzzAssert(strcmp(claims.sub, sub) == 0 && strcmp(claims.role, role) == 0 &&
					   strcmp(claims.sid, sid) == 0 && claims.iat == now && claims.exp == now + ttl,
				   "claims changed");
		FuzzAssert(JwtVerify(&k, token, now + ttl + JWT_LEEWAY_SECONDS + 1, &claims, &why) == JWT_EXPIRED,
				   "expired token not refused");
	}
	/* with another secret, never */
	k.secret = (const unsigned char *) "another secret of thirty-two bytes!";
	k.secret_len = strlen((const char *) k.secret);
	FuzzAssert(JwtVerify(&k, token, now, &claims, &why) == JWT_INVALID, "token verified with another key");
	free(token);
}

FUZZ_FIXED_JANSSON_SEED

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char  *text;
	Fields f;

	if (size == 0)
		return 0;
	switch (data[0])
	{
		case 'd':
			FuzzDecode((const char *) data + 1, size - 1);
			break;
		case 's':
			FieldsSplit(&f, data + 1, size - 1, 2);
			FuzzSigned(f.field[0], f.len[0], f.field[1], f.len[1]);
			FieldsFree(&f);
			break;
		case 'r':
			FieldsSplit(&f, data + 1, size - 1, 7);
			FuzzRoundTrip(&f);
			FieldsFree(&f);
			break;
		default:
			/* a header value: a C string */
			text = malloc(size);
			memcpy(text, data + 1, size - 1);
			text[size - 1] = '\0';
			CheckVerify(&key, text, NOW);
			free(text);
			break;
	}
	return 0;
}
