/*
 * signature.c
 *	  HMAC-SHA256 webhook signatures and shared secrets (OpenSSL), compared in
 *	  constant time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "signature.h"

#define MAC_BYTES 32

/* HMAC-SHA256 of "<t>.<body>" with the EVP_MAC interface of OpenSSL 3 */
static void
Mac(const char *secret, long long t, const char *body, size_t body_len, unsigned char out[MAC_BYTES])
{
	char		 prefix[32];
	int			 n = snprintf(prefix, sizeof(prefix), "%lld.", t);
	EVP_MAC		*mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM	 params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0),
							 OSSL_PARAM_construct_end()};
	size_t		 len = 0;

	EVP_MAC_init(ctx, (const unsigned char *) secret, strlen(secret), params);
	EVP_MAC_update(ctx, (const unsigned char *) prefix, (size_t) n);
	EVP_MAC_update(ctx, (const unsigned char *) body, body_len);
	EVP_MAC_final(ctx, out, &len, MAC_BYTES);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

static int
HexValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
SignatureMake(const char *secret, long long t, const char *body, size_t body_len)
{
	unsigned char mac[MAC_BYTES];
	char		 *out = malloc(32 + 4 + 2 * MAC_BYTES + 1);
	int			  n;

	Mac(secret, t, body, body_len, mac);
	n = sprintf(out, "t=%lld,v1=", t);
	for (int i = 0; i < MAC_BYTES; i++)
		n += sprintf(out + n, "%02x", mac[i]);
	return out;
}

SignatureResult
SignatureVerify(const char *header, const char *secret, const char *body, size_t body_len, long long now)
{
	long long	  t = -1;
	unsigned char expected[MAC_BYTES];
	int			  candidates = 0;
	int			  matched = 0;
	const char	 *p = header;

	if (header == NULL || strlen(header) > 1024)
		return SIGNATURE_MALFORMED;
	/* t= first, then v1= entries, comma-separated */
	while (*p)
	{
		size_t len = strcspn(p, ",");

		if (strncmp(p, "t=", 2) == 0 && t < 0)
		{
			char *end;

			t = strtoll(p + 2, &end, 10);
			if (end != p + len || end == p + 2 || t < 0)
				return SIGNATURE_MALFORMED;
		}
		else if (strncmp(p, "v1=", 3) == 0)
		{
			unsigned char given[MAC_BYTES];

			if (len != 3 + 2 * MAC_BYTES)
				return SIGNATURE_MALFORMED;
			for (int i = 0; i < MAC_BYTES; i++)
			{
				int hi = HexValue(p[3 + 2 * i]), lo = HexValue(p[4 + 2 * i]);

				if (hi < 0 || lo < 0)
					return SIGNATURE_MALFORMED;
				given[i] = (unsigned char) (hi << 4 | lo);
			}
			if (candidates++ == 0)
			{
				if (t < 0)
					return SIGNATURE_MALFORMED;
				Mac(secret, t, body, body_len, expected);
			}
			matched |= CRYPTO_memcmp(given, expected, MAC_BYTES) == 0;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (t < 0 || candidates == 0)
		return SIGNATURE_MALFORMED;
	if (t < now - SIGNATURE_TOLERANCE_SECONDS || t > now + SIGNATURE_TOLERANCE_SECONDS)
		return SIGNATURE_STALE;
	return matched ? SIGNATURE_OK : SIGNATURE_MISMATCH;
}

/*
 * Both sides are hashed first, so that the comparison takes the same time
 * whatever the lengths and wherever they differ.
 */
BearerResult
BearerSecretVerify(const char *authorization, const char *secret)
{
	static const char scheme[] = "Bearer ";
	unsigned char	  given[MAC_BYTES], expected[MAC_BYTES];
	unsigned int	  len = 0;
	const char		 *token;

	if (authorization == NULL)
		return BEARER_MISSING;
	if (strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
		return BEARER_MALFORMED;
	token = authorization + sizeof(scheme) - 1;
	EVP_Digest(token, strlen(token), given, &len, EVP_sha256(), NULL);
	EVP_Digest(secret, strlen(secret), expected, &len, EVP_sha256(), NULL);
	return CRYPTO_memcmp(given, expected, MAC_BYTES) == 0 ? BEARER_OK : BEARER_MISMATCH;
}
