/*-------------------------------------------------------------------------
 *
 * accounts.c
 *	  The caller of an API function: its session, user and role.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "accounts.h"
#include "errors.h"
#include "multistore.h"

static SPIPlanPtr caller_plan = NULL;

void
AccountsInit(void)
{
}

const char *
AccountsRoleName(MsRole role)
{
	switch (role)
	{
		case MS_ROLE_CUSTOMER:
			return "customer";
		case MS_ROLE_STORE_MANAGER:
			return "store_manager";
		case MS_ROLE_ADMIN:
			return "admin";
	}
	elog(ERROR, "unknown role %d", (int) role);
}

static MsRole
RoleFromName(const char *name)
{
	if (strcmp(name, "admin") == 0)
		return MS_ROLE_ADMIN;
	if (strcmp(name, "store_manager") == 0)
		return MS_ROLE_STORE_MANAGER;
	if (strcmp(name, "customer") == 0)
		return MS_ROLE_CUSTOMER;
	elog(ERROR, "unknown role \"%s\" stored", name);
}

MsCaller
AccountsCaller(FunctionCallInfo fcinfo, int argno)
{
	MsCaller	caller;
	Oid			types[1] = {UUIDOID};
	Datum		values[1];
	bool		isnull;

	if (PG_ARGISNULL(argno))
		MsError(ERRCODE_MS_UNAUTHORIZED, "unauthorized", "authentication required");
	values[0] = PG_GETARG_DATUM(argno);
	if (MsExecute(MsPlan(&caller_plan,
						 "SELECT u.id, u.role "
						 "  FROM multistore.sessions s "
						 "  JOIN multistore.users u ON u.id = s.user_id "
						 " WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()",
						 1, types),
				  values, NULL, true, 1) == 0)
		MsError(ERRCODE_MS_UNAUTHORIZED, "invalid_token", "the session has ended; log in again");

	caller.user_id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	caller.session_id = *DatumGetUUIDP(values[0]);
	caller.role = RoleFromName(MsColumnText(0, 2));
	return caller;
}

void
AccountsRequireAdmin(const MsCaller *caller)
{
	if (caller->role != MS_ROLE_ADMIN)
		MsError(ERRCODE_MS_FORBIDDEN, "forbidden", "this action needs the admin role");
}
