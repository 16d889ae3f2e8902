/*-------------------------------------------------------------------------
 *
 * passwords.c
 *	  Argon2id hashing and verification, bcrypt verification, and the
 *	  dummy verification that makes unknown emails cost the same.
 *
 * Nothing is truncated: passwords are hashed whole (up to 1,024
 * characters).  bcrypt only reads 72 bytes, so a longer password never
 * verifies against a bcrypt hash; such an account has to reset its password.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <argon2.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "multistore.h"
#include "passwords.h"

#define SALT_BYTES 16
#define HASH_BYTES 32

int multistore_argon2_memory_kib = PASSWORDS_DEFAULT_MEMORY_KIB;
int multistore_argon2_iterations = PASSWORDS_DEFAULT_ITERATIONS;
int multistore_argon2_parallelism = PASSWORDS_DEFAULT_PARALLELISM;

static SPIPlanPtr bcrypt_plan = NULL;

/* The dummy hash of the current settings, made once per backend */
static char *dummy_hash = NULL;

void
PasswordsInit(void)
{
	DefineCustomIntVariable(
		"multistore.argon2_memory_kib", "Sets the memory cost of Argon2id password hashes.",
		"In KiB, from 8 to 4194304; OWASP recommends at least 19456 (19 MiB).", &multistore_argon2_memory_kib,
		PASSWORDS_DEFAULT_MEMORY_KIB, 8, 4194304, PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("multistore.argon2_iterations",
							"Sets the time cost (passes over memory) of Argon2id password hashes.",
							"From 1 to 100; OWASP recommends at least 2 at 19 MiB.",
							&multistore_argon2_iterations, PASSWORDS_DEFAULT_ITERATIONS, 1, 100, PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("multistore.argon2_parallelism", "Sets the lanes of Argon2id password hashes.",
							"From 1 to 16; hashes run in one thread whatever the lanes.",
							&multistore_argon2_parallelism, PASSWORDS_DEFAULT_PARALLELISM, 1, 16, PGC_SUSET,
							0, NULL, NULL, NULL);
}

char *
PasswordHash(const char *password)
{
	uint8  salt[SALT_BYTES];
	size_t len = argon2_encodedlen(multistore_argon2_iterations, multistore_argon2_memory_kib,
								   multistore_argon2_parallelism, SALT_BYTES, HASH_BYTES, Argon2_id);
	char  *encoded = palloc(len);
	int	   rc;

	if (!pg_strong_random(salt, sizeof(salt)))
		elog(ERROR, "could not generate a random salt");
	rc = argon2id_hash_encoded(multistore_argon2_iterations, multistore_argon2_memory_kib,
							   multistore_argon2_parallelism, password, strlen(password), salt, sizeof(salt),
							   HASH_BYTES, encoded, len);
	if (rc != ARGON2_OK)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
						errmsg("password hashing failed: %s", argon2_error_message(rc))));
	return encoded;
}

/* Are the parameters of a stored Argon2id hash the current ones? */
static bool
ArgonParamsCurrent(const char *stored)
{
	char want[64];

	snprintf(want, sizeof(want), "$argon2id$v=%d$m=%d,t=%d,p=%d$", ARGON2_VERSION_NUMBER,
			 multistore_argon2_memory_kib, multistore_argon2_iterations, multistore_argon2_parallelism);
	return strncmp(stored, want, strlen(want)) == 0;
}

/* bcrypt through pgcrypto's crypt(); $2b$ and $2y$ are $2a$ for passwords under 72 bytes */
static bool
BcryptVerify(const char *password, const char *stored)
{
	Oid	  types[2] = {TEXTOID, TEXTOID};
	Datum values[2];
	char *as_2a;
	bool  isnull;

	if (strlen(password) > PASSWORDS_BCRYPT_MAX_BYTES)
		return false;
	as_2a = pstrdup(stored);
	as_2a[2] = 'a';
	values[0] = CStringGetTextDatum(password);
	values[1] = CStringGetTextDatum(as_2a);
	if (MsExecute(MsPlan(&bcrypt_plan, "SELECT crypt($1, $2) = $2", 2, types), values, NULL, true, 1) != 1)
		elog(ERROR, "bcrypt verification returned no row");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

bool
PasswordVerify(const char *password, const char *stored, bool *needs_rehash)
{
	*needs_rehash = false;
	if (strncmp(stored, "$argon2id$", 10) == 0)
	{
		if (argon2id_verify(stored, password, strlen(password)) != ARGON2_OK)
			return false;
		*needs_rehash = !ArgonParamsCurrent(stored);
		return true;
	}
	if (strlen(stored) == 60 && stored[0] == '$' && stored[1] == '2' &&
		(stored[2] == 'a' || stored[2] == 'b' || stored[2] == 'y') && stored[3] == '$')
	{
		if (!BcryptVerify(password, stored))
			return false;
		*needs_rehash = true;
		return true;
	}
	/* an unknown scheme verifies nothing */
	return false;
}

void
PasswordVerifyDummy(const char *password)
{
	if (dummy_hash == NULL || !ArgonParamsCurrent(dummy_hash))
	{
		char *made = PasswordHash("not the password of anyone");

		if (dummy_hash)
			pfree(dummy_hash);
		dummy_hash = MemoryContextStrdup(TopMemoryContext, made);
	}
	(void) argon2id_verify(dummy_hash, password, strlen(password));
}
