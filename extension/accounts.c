/*-------------------------------------------------------------------------
 *
 * accounts.c
 *	  The caller of an API function: its session, user and role.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/timestamp.h"

#include "accounts.h"
#include "jsonb_read.h"
#include "passwords.h"
#include "errors.h"
#include "events.h"
#include "multistore.h"
#include "stores.h"

static SPIPlanPtr caller_plan = NULL;
static SPIPlanPtr user_plan = NULL;
static SPIPlanPtr manages_plan = NULL;
static SPIPlanPtr set_role_plan = NULL;
static SPIPlanPtr assign_plan = NULL;
static SPIPlanPtr unassign_plan = NULL;
static SPIPlanPtr create_plan = NULL;

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
	MsCaller caller;
	Oid		 types[1] = {UUIDOID};
	Datum	 values[1];
	bool	 isnull;

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

	caller.user_id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
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

/*
 * AccountsEmailNormalise trims and lower-cases an email and checks its form:
 * one "@", no spaces or control characters, a dot in the domain, at most
 * 254 characters.  Returns NULL when it is not an email.
 */
char *
AccountsEmailNormalise(const char *raw)
{
	const char *start = raw;
	const char *end = raw + strlen(raw);
	char	   *email;
	char	   *at;

	while (*start == ' ' || *start == '\t')
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - start < 3 || end - start > 254)
		return NULL;
	email = str_tolower(start, end - start, DEFAULT_COLLATION_OID);
	at = strchr(email, '@');
	if (at == NULL || at == email || strchr(at + 1, '@') != NULL || at - email > 64)
		return NULL;
	for (const char *p = email; *p; p++)
		if ((unsigned char) *p <= ' ' || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
			return NULL;
	if (strchr(at + 1, '.') == NULL || at[1] == '.' || email[strlen(email) - 1] == '.')
		return NULL;
	return email;
}

bool
AccountsManages(const MsCaller *caller, const char *store_id)
{
	Oid	  types[2] = {UUIDOID, TEXTOID};
	Datum values[2];

	if (caller->role == MS_ROLE_ADMIN)
		return true;
	if (caller->role != MS_ROLE_STORE_MANAGER)
		return false;
	values[0] = UUIDPGetDatum(&caller->user_id);
	values[1] = CStringGetTextDatum(store_id);
	return MsExecute(MsPlan(&manages_plan,
							"SELECT 1 FROM multistore.store_managers WHERE user_id = $1 AND store_id = $2", 2,
							types),
					 values, NULL, true, 1) == 1;
}

void
AccountsRequireManagerOf(const MsCaller *caller, const char *store_id)
{
	if (!AccountsManages(caller, store_id))
		MsError(ERRCODE_MS_FORBIDDEN, "forbidden", "only a manager of store \"%s\" or an admin may do this",
				store_id);
}

void
AccountsWriteUser(JsonWriter *w, Datum user_id)
{
	Oid		  types[1] = {UUIDOID};
	Datum	  values[1];
	HeapTuple tuple;
	TupleDesc desc;
	bool	  isnull;
	Datum	  stores;
	Datum	 *elems;
	bool	 *nulls;
	int		  n;

	values[0] = user_id;
	if (MsExecute(MsPlan(&user_plan,
						 "SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.role, u.created_at, "
						 "       ARRAY(SELECT m.store_id FROM multistore.store_managers m "
						 "              WHERE m.user_id = u.id ORDER BY m.store_id) "
						 "  FROM multistore.users u WHERE u.id = $1",
						 1, types),
				  values, NULL, false, 1) == 0)
		elog(ERROR, "user vanished");
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	JwObjectStart(w, "user");
	JwString(w, "id", MsColumnText(0, 1));
	JwString(w, "email", MsColumnText(0, 2));
	JwString(w, "firstName", MsColumnText(0, 3));
	JwString(w, "lastName", MsColumnText(0, 4));
	JwStringOrNull(w, "phone", MsColumnText(0, 5));
	JwString(w, "role", MsColumnText(0, 6));
	JwArrayStart(w, "managedStores");
	stores = SPI_getbinval(tuple, desc, 8, &isnull);
	deconstruct_array(DatumGetArrayTypeP(stores), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		JwString(w, NULL, TextDatumGetCString(elems[i]));
	JwArrayEnd(w);
	JwTimestamp(w, "createdAt", DatumGetTimestampTz(SPI_getbinval(tuple, desc, 7, &isnull)));
	JwObjectEnd(w);
}

/* Runs the body of a {"user":...} answer and leaves SPI */
static Datum
UserAnswer(Datum user_id)
{
	JsonWriter w;
	Datum	   result;

	JwInit(&w);
	JwObjectStart(&w, NULL);
	AccountsWriteUser(&w, user_id);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	return result;
}

/*
 * user_me(session_id) returns {"user":{...}} of the caller.
 */
PG_FUNCTION_INFO_V1(ms_user_me);
Datum
ms_user_me(PG_FUNCTION_ARGS)
{
	MsCaller caller;

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	PG_RETURN_DATUM(UserAnswer(UUIDPGetDatum(&caller.user_id)));
}

/* Reads a uuid argument that must name an existing user */
static Datum
UserArgument(FunctionCallInfo fcinfo, int argno)
{
	static SPIPlanPtr exists_plan = NULL;
	Oid				  types[1] = {UUIDOID};
	Datum			  values[1];

	if (PG_ARGISNULL(argno))
		MsInvalidArgument("userId", "is required");
	values[0] = PG_GETARG_DATUM(argno);
	if (MsExecute(MsPlan(&exists_plan, "SELECT 1 FROM multistore.users WHERE id = $1", 1, types), values,
				  NULL, false, 1) == 0)
		MsErrorDetail(ERRCODE_MS_NOT_FOUND, "not_found", "\"resource\":\"user\"", "user not found");
	return values[0];
}

/*
 * Announces that what a user may see changed (a role, a store managed):
 * the proxy closes the user's realtime streams, which were opened with the
 * old rights, and the client reconnects with since= under the new ones.
 */
static void
AccessChanged(Datum user_id)
{
	EventsEmit("access.changed", NULL, DatumGetUUIDP(user_id), "{}");
}

/*
 * user_set_role(session_id, user_id, role) changes a user's role (admin).
 * A user who stops being a store manager stops managing their stores.
 */
PG_FUNCTION_INFO_V1(ms_user_set_role);
Datum
ms_user_set_role(PG_FUNCTION_ARGS)
{
	MsCaller caller;
	Datum	 user_id;
	char	*role;
	Oid		 types[2] = {UUIDOID, TEXTOID};
	Datum	 values[2];

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	AccountsRequireAdmin(&caller);
	user_id = UserArgument(fcinfo, 1);
	role = PG_ARGISNULL(2) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(role, "customer") != 0 && strcmp(role, "store_manager") != 0 && strcmp(role, "admin") != 0)
		MsInvalidArgument("role", "must be customer, store_manager or admin");
	values[0] = user_id;
	values[1] = CStringGetTextDatum(role);
	if (MsExecute(MsPlan(&set_role_plan,
						 "WITH u AS (UPDATE multistore.users n SET role = $2, updated_at = now() "
						 "             FROM multistore.users o WHERE n.id = $1 AND o.id = n.id "
						 "           RETURNING n.id, n.role, o.role AS was), "
						 "     d AS (DELETE FROM multistore.store_managers m USING u "
						 "            WHERE m.user_id = u.id AND u.role <> 'store_manager') "
						 "SELECT 1 FROM u WHERE role <> was",
						 2, types),
				  values, NULL, false, 0) > 0)
		AccessChanged(user_id);
	PG_RETURN_DATUM(UserAnswer(user_id));
}

/*
 * store_manager_assign(session_id, store_id, user_id) makes a store manager
 * manage a store (admin); store_manager_remove undoes it.  Both return the
 * user.
 */
static Datum
ManagerChange(FunctionCallInfo fcinfo, bool assign)
{
	static SPIPlanPtr is_manager_plan = NULL;
	static SPIPlanPtr store_exists_plan = NULL;
	MsCaller		  caller;
	char			 *store_id;
	Datum			  user_id;
	Oid				  types[2] = {TEXTOID, UUIDOID};
	Datum			  values[2];

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	AccountsRequireAdmin(&caller);
	if (PG_ARGISNULL(1))
		MsInvalidArgument("storeId", "is required");
	store_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	user_id = UserArgument(fcinfo, 2);
	values[0] = CStringGetTextDatum(store_id);
	values[1] = user_id;

	if (!assign)
	{
		if (MsExecute(MsPlan(&unassign_plan,
							 "DELETE FROM multistore.store_managers WHERE store_id = $1 AND user_id = $2", 2,
							 types),
					  values, NULL, false, 0) > 0)
			AccessChanged(user_id);
		return UserAnswer(user_id);
	}
	if (MsExecute(MsPlan(&store_exists_plan, "SELECT 1 FROM multistore.stores WHERE id = $1", 1, types),
				  values, NULL, false, 1) == 0)
		StoreNotFound(store_id);
	if (MsExecute(
			MsPlan(
				&is_manager_plan,
				"SELECT 1 FROM multistore.users WHERE id = $2 AND role = 'store_manager' AND $1 IS NOT NULL",
				2, types),
			values, NULL, false, 1) == 0)
		MsInvalidArgument("userId", "must be a user with the role store_manager");
	if (MsExecute(MsPlan(&assign_plan,
						 "INSERT INTO multistore.store_managers (store_id, user_id) VALUES ($1, $2) "
						 "ON CONFLICT DO NOTHING",
						 2, types),
				  values, NULL, false, 0) > 0)
		AccessChanged(user_id);
	return UserAnswer(user_id);
}

PG_FUNCTION_INFO_V1(ms_store_manager_assign);
Datum
ms_store_manager_assign(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(ManagerChange(fcinfo, true));
}

PG_FUNCTION_INFO_V1(ms_store_manager_remove);
Datum
ms_store_manager_remove(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(ManagerChange(fcinfo, false));
}

/*
 * user_create(email, password, first_name, last_name, role, phone) adds an
 * account with any role, for DBAs (demo accounts, imports); it is not
 * routed and not granted to public.  Returns the id, or the existing
 * account's id when the email is taken.
 */
PG_FUNCTION_INFO_V1(ms_user_create);
Datum
ms_user_create(PG_FUNCTION_ARGS)
{
	Oid		   types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum	   values[6];
	char	   nulls[6] = "      ";
	char	  *password;
	char	  *email;
	pg_uuid_t *id;
	bool	   isnull;

	for (int i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			MsInvalidArgument(i == 0   ? "email"
							  : i == 1 ? "password"
							  : i == 4 ? "role"
									   : "name",
							  "is required");
	password = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (pg_mbstrlen(password) < PASSWORDS_MIN_LENGTH || pg_mbstrlen(password) > PASSWORDS_MAX_LENGTH)
		MsInvalidArgument("password", "must be %d to %d characters", PASSWORDS_MIN_LENGTH,
						  PASSWORDS_MAX_LENGTH);

	email = AccountsEmailNormalise(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (email == NULL)
		MsInvalidArgument("email", "must be an email address");

	SPI_connect();
	values[0] = CStringGetTextDatum(email);
	values[1] = CStringGetTextDatum(PasswordHash(password));
	values[2] = PG_GETARG_DATUM(2);
	values[3] = PG_GETARG_DATUM(3);
	values[4] = PG_GETARG_DATUM(4);
	if (PG_ARGISNULL(5))
		nulls[5] = 'n';
	else
		values[5] = PG_GETARG_DATUM(5);
	MsExecute(
		MsPlan(&create_plan,
			   "WITH ins AS (INSERT INTO multistore.users (email, password_hash, first_name, last_name, "
			   "role, phone) "
			   "             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id) "
			   "SELECT id FROM ins UNION ALL SELECT id FROM multistore.users WHERE email = $1 LIMIT 1",
			   6, types),
		values, nulls, false, 1);
	id = SPI_palloc(UUID_LEN);
	memcpy(id, DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
		   UUID_LEN);
	SPI_finish();
	PG_RETURN_UUID_P(id);
}
