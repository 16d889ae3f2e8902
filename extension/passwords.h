/*-------------------------------------------------------------------------
 *
 * passwords.h
 *	  Password hashing: Argon2id (libargon2) in PHC string form, and
 *	  verification of bcrypt hashes imported from the Node.js system.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_PASSWORDS_H
#define MULTISTORE_PASSWORDS_H

/* OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1 */
#define PASSWORDS_DEFAULT_MEMORY_KIB  19456
#define PASSWORDS_DEFAULT_ITERATIONS  2
#define PASSWORDS_DEFAULT_PARALLELISM 1
#define PASSWORDS_MIN_LENGTH		  8	   /* characters */
#define PASSWORDS_MAX_LENGTH		  1024 /* characters */
#define PASSWORDS_BCRYPT_MAX_BYTES	  72   /* bcrypt ignores what follows */

extern int multistore_argon2_memory_kib;
extern int multistore_argon2_iterations;
extern int multistore_argon2_parallelism;

extern void PasswordsInit(void);

/* An Argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash) at the current settings */
extern char *PasswordHash(const char *password);

/*
 * PasswordVerify checks a password against a stored hash (Argon2id, or
 * bcrypt $2a$/$2b$/$2y$ through pgcrypto; call inside SPI).  *needs_rehash
 * is set when the hash is bcrypt or Argon2id at other settings.
 */
extern bool PasswordVerify(const char *password, const char *stored, bool *needs_rehash);

/* Spends what a verification costs, for logins of unknown emails */
extern void PasswordVerifyDummy(const char *password);

#endif /* MULTISTORE_PASSWORDS_H */
