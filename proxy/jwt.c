/*
 * jwt.c
 *	  HS256 JSON Web Tokens with the algorithm pinned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt.h"

#define SIG_BYTES 32

size_t
Base64UrlEncode(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *) out, in, (int) len);

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (int i = 0; i < n; i++)
	{
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return (size_t) n;
}

/* The value of a base64url character, or -1 */
static int
Sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

long
Base64UrlDecode(const char *in, size_t len, unsigned char *out, size_t out_size)
{
	size_t padded = (len + 3) / 4 * 4;
	char  *buf;
	int	   n;
	size_t pad = padded - len;

	if (len % 4 == 1 || (len + 3) / 4 * 3 > out_size)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (Sextet(in[i]) < 0)
			return -1;
	/*
	 * The bits of the last character past the last byte must be zero (RFC
	 * 4648 3.5): otherwise several texts decode alike, and one signed token
	 * would have other spellings that verify too.
	 */
	if ((len % 4 == 2 && (Sextet(in[len - 1]) & 0x0f) != 0) ||
		(len % 4 == 3 && (Sextet(in[len - 1]) & 0x03) != 0))
		return -1;
	buf = malloc(padded + 1);
	for (size_t i = 0; i < len; i++)
		buf[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	for (size_t i = len; i < padded; i++)
		buf[i] = '=';
	buf[padded] = '\0';
	n = padded ? EVP_DecodeBlock(out, (unsigned char *) buf, (int) padded) : 0;
	free(buf);
	if (n < 0)
		return -1;
	return (long) ((size_t) n - pad);
}

static void
Hmac(const JwtKey *key, const char *data, size_t len, unsigned char sig[SIG_BYTES])
{
	unsigned int sig_len = SIG_BYTES;

	HMAC(EVP_sha256(), key->secret, (int) key->secret_len, (const unsigned char *) data, len, sig, &sig_len);
}

char *
JwtSign(const JwtKey *key, const char *sub, const char *role, const char *sid, long long now, int ttl)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	json_t *payload = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "sub", sub, "role", role, "sid", sid, "iat",
								(json_int_t) now, "exp", (json_int_t) (now + ttl), "iss", key->issuer, "aud",
								key->audience);
	char   *payload_text = json_dumps(payload, JSON_COMPACT);
	size_t	plen = strlen(payload_text);
	size_t	cap = (sizeof(header) + plen) * 4 / 3 + 64 + 4;
	char   *token = malloc(cap);
	size_t	n;
	unsigned char sig[SIG_BYTES];

	n = Base64UrlEncode((const unsigned char *) header, sizeof(header) - 1, token);
	token[n++] = '.';
	n += Base64UrlEncode((const unsigned char *) payload_text, plen, token + n);
	Hmac(key, token, n, sig);
	token[n++] = '.';
	Base64UrlEncode(sig, SIG_BYTES, token + n);
	free(payload_text);
	json_decref(payload);
	return token;
}

/* Decodes one base64url JSON part into an object; NULL when it is not one */
static json_t *
DecodePart(const char *part, size_t len)
{
	unsigned char buf[JWT_MAX_BYTES];
	long		  n = Base64UrlDecode(part, len, buf, sizeof(buf));
	json_t		 *doc;

	if (n <= 0)
		return NULL;
	doc = json_loadb((const char *) buf, (size_t) n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc))
	{
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* Copies a string claim that is present, a string, and fits */
static bool
StringClaim(json_t *payload, const char *name, char *out, size_t size)
{
	json_t *v = json_object_get(payload, name);

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= size)
		return false;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

static bool
NumberClaim(json_t *payload, const char *name, long long *out)
{
	json_t *v = json_object_get(payload, name);
	double	seconds = json_number_value(v);

	/* beyond +-1e18 s it is no time, and converting it to long long would be undefined */
	if (!json_is_number(v) || !(seconds > -1e18 && seconds < 1e18))
		return false;
	*out = (long long) seconds;
	return true;
}

/* Does aud (a string or a list of strings) name our audience? */
static bool
AudienceMatches(json_t *aud, const char *audience)
{
	size_t	i;
	json_t *item;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), audience) == 0;
	if (!json_is_array(aud))
		return false;
	json_array_foreach(aud, i, item)
	{
		if (json_is_string(item) && strcmp(json_string_value(item), audience) == 0)
			return true;
	}
	return false;
}

JwtResult
JwtVerify(const JwtKey *key, const char *token, long long now, JwtClaims *claims, const char **why)
{
	const char	 *dot1, *dot2;
	size_t		  len;
	json_t		 *header = NULL, *payload = NULL;
	json_t		 *alg, *typ;
	unsigned char sig[SIG_BYTES + 4];
	unsigned char expected[SIG_BYTES];
	long long	  nbf = 0, iat = 0;
	JwtResult	  result = JWT_INVALID;
	const char	 *reason = "malformed token";

	memset(claims, 0, sizeof(*claims));
	if (token == NULL || (len = strlen(token)) == 0 || len > JWT_MAX_BYTES)
	{
		reason = "empty or oversized token";
		goto done;
	}
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		goto done;

	/* the header must say HS256 and nothing we do not understand */
	header = DecodePart(token, (size_t) (dot1 - token));
	if (header == NULL)
		goto done;
	alg = json_object_get(header, "alg");
	typ = json_object_get(header, "typ");
	if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0)
	{
		reason = "algorithm is not HS256";
		goto done;
	}
	if ((typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) ||
		json_object_get(header, "crit") != NULL)
	{
		reason = "unsupported header";
		goto done;
	}

	/* the signature, before anything in the payload is believed */
	if (Base64UrlDecode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig)) != SIG_BYTES)
	{
		reason = "malformed signature";
		goto done;
	}
	Hmac(key, token, (size_t) (dot2 - token), expected);
	if (CRYPTO_memcmp(sig, expected, SIG_BYTES) != 0)
	{
		reason = "bad signature";
		goto done;
	}

	payload = DecodePart(dot1 + 1, (size_t) (dot2 - dot1 - 1));
	if (payload == NULL)
		goto done;
	if (!NumberClaim(payload, "exp", &claims->exp))
	{
		reason = "no exp";
		goto done;
	}
	if (!StringClaim(payload, "sub", claims->sub, sizeof(claims->sub)) ||
		!StringClaim(payload, "sid", claims->sid, sizeof(claims->sid)) ||
		!StringClaim(payload, "role", claims->role, sizeof(claims->role)))
	{
		reason = "missing sub, sid or role";
		goto done;
	}
	if (!json_is_string(json_object_get(payload, "iss")) ||
		strcmp(json_string_value(json_object_get(payload, "iss")), key->issuer) != 0)
	{
		reason = "wrong issuer";
		goto done;
	}
	if (!AudienceMatches(json_object_get(payload, "aud"), key->audience))
	{
		reason = "wrong audience";
		goto done;
	}
	if (json_object_get(payload, "nbf") &&
		(!NumberClaim(payload, "nbf", &nbf) || nbf > now + JWT_LEEWAY_SECONDS))
	{
		reason = "not yet valid";
		goto done;
	}
	if (json_object_get(payload, "iat") &&
		(!NumberClaim(payload, "iat", &iat) || iat > now + JWT_LEEWAY_SECONDS))
	{
		reason = "issued in the future";
		goto done;
	}
	claims->iat = json_object_get(payload, "iat") ? iat : 0;
	if (now > claims->exp + JWT_LEEWAY_SECONDS)
	{
		reason = "expired";
		result = JWT_EXPIRED;
		goto done;
	}
	reason = NULL;
	result = JWT_OK;

done:
	json_decref(header);
	json_decref(payload);
	if (why)
		*why = reason;
	return result;
}
