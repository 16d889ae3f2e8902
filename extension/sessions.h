/*-------------------------------------------------------------------------
 *
 * sessions.h
 *	  Registration, login, refresh-token rotation with reuse detection,
 *	  logout.
 *
 * A session is a family of refresh tokens.  A refresh token is 256 random
 * bits, given to the client once and stored only as its SHA-256.  Refreshing
 * rotates it: the old one stops working, and presenting it again revokes the
 * whole family (a stolen token is detected the moment either the thief or
 * the owner uses the older copy).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_SESSIONS_H
#define MULTISTORE_SESSIONS_H

#define SESSIONS_DEFAULT_REFRESH_TTL (30 * 24 * 3600) /* seconds */
#define SESSIONS_TOKEN_BYTES		 32

extern int multistore_refresh_token_ttl;

extern void SessionsInit(void);

/* SHA-256 of a token (the only form stored), and 256 fresh random bits in base64url */
extern bytea *SessionsTokenHash(const char *token);
extern char	 *SessionsNewToken(void);

#endif /* MULTISTORE_SESSIONS_H */
