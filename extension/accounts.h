/*-------------------------------------------------------------------------
 *
 * accounts.h
 *	  Users, roles, store managers and sessions: who is calling, and what
 *	  they may do.
 *
 * Every API function that acts for someone takes the caller's session id
 * (the "sid" of the access token the proxy verified).  The session is checked
 * on every call, so logging out or a detected refresh-token theft stops the
 * session's access tokens at once, not when they expire.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_ACCOUNTS_H
#define MULTISTORE_ACCOUNTS_H

#include "fmgr.h"
#include "utils/uuid.h"

#include "json_build.h"

typedef enum MsRole
{
	MS_ROLE_CUSTOMER,
	MS_ROLE_STORE_MANAGER,
	MS_ROLE_ADMIN
} MsRole;

typedef struct MsCaller
{
	pg_uuid_t user_id;
	pg_uuid_t session_id;
	MsRole	  role;
} MsCaller;

/*
 * AccountsCaller resolves argument argno (a session id) to the caller, inside
 * SPI.  NULL raises unauthorized; a session that is unknown, revoked or
 * expired raises invalid_token.
 */
extern MsCaller AccountsCaller(FunctionCallInfo fcinfo, int argno);

/* Raises forbidden unless the caller is an admin */
extern void AccountsRequireAdmin(const MsCaller *caller);

extern const char *AccountsRoleName(MsRole role);

/* A trimmed, lower-cased email, or NULL when the text is not an email */
extern char *AccountsEmailNormalise(const char *raw);

/* Writes the member "user":{id,email,firstName,lastName,phone,role,managedStores,createdAt}, inside SPI */
extern void AccountsWriteUser(JsonWriter *w, Datum user_id);

/* Does the caller manage store_id (or is an admin)?  Inside SPI. */
extern bool AccountsManages(const MsCaller *caller, const char *store_id);

/* Raises forbidden unless the caller manages store_id or is an admin */
extern void AccountsRequireManagerOf(const MsCaller *caller, const char *store_id);

#endif /* MULTISTORE_ACCOUNTS_H */
