/*
 * jwt.h
 *	  Access tokens: JWT signed with HS256 (HMAC-SHA256, OpenSSL), claims
 *	  read with jansson.
 *
 * Verification pins the algorithm: only {"alg":"HS256"} is accepted, never
 * "none", RS256 or any other, whatever the token says; then the signature
 * (constant-time), exp and nbf with at most 30 s of leeway, iss and aud.
 * Pure functions: tests/proxy/test_jwt.c.
 */
#ifndef PROXY_JWT_H
#define PROXY_JWT_H

#include <stdbool.h>
#include <stddef.h>

#define JWT_LEEWAY_SECONDS 30
#define JWT_MAX_BYTES	   4096
#define JWT_CLAIM_TEXT_MAX 256 /* bytes of JWT_ISSUER, JWT_AUDIENCE: their tokens stay under JWT_MAX_BYTES */

typedef struct JwtKey
{
	const unsigned char *secret;
	size_t				 secret_len;
	const char			*issuer;
	const char			*audience;
} JwtKey;

typedef struct JwtClaims
{
	char	  sub[64]; /* user id */
	char	  sid[64]; /* session id */
	char	  role[32];
	long long iat;
	long long exp;
} JwtClaims;

typedef enum JwtResult
{
	JWT_OK,
	JWT_INVALID, /* 401 invalid_token */
	JWT_EXPIRED	 /* 401 token_expired */
} JwtResult;

/* A signed token for these claims, valid for ttl seconds from now; caller frees */
extern char *JwtSign(const JwtKey *key, const char *sub, const char *role, const char *sid, long long now,
					 int ttl);

/* Checks a token; on JWT_OK fills claims.  *why says what was wrong, for logs */
extern JwtResult JwtVerify(const JwtKey *key, const char *token, long long now, JwtClaims *claims,
						   const char **why);

/* base64url without padding, exposed for tests; out must hold 4 * ceil(len / 3) + 1 */
extern size_t Base64UrlEncode(const unsigned char *in, size_t len, char *out);

/* Decodes base64url without padding; returns the length or -1 when malformed */
extern long Base64UrlDecode(const char *in, size_t len, unsigned char *out, size_t out_size);

#endif /* PROXY_JWT_H */
