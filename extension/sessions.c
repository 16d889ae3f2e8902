/*-------------------------------------------------------------------------
 *
 * sessions.c
 *	  account_register, session_login, session_refresh, session_logout.
 *
 * Each returns {"user":{...},"session":{"id","refreshToken",
 * "refreshTokenExpiresAt"}}; the proxy turns the session into a signed
 * access token.  Backend apps calling SQL use the session id directly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "accounts.h"
#include "errors.h"
#include "events.h"
#include "json_build.h"
#include "jsonb_read.h"
#include "multistore.h"
#include "passwords.h"
#include "sessions.h"

int multistore_refresh_token_ttl = SESSIONS_DEFAULT_REFRESH_TTL;

static SPIPlanPtr insert_user_plan = NULL;
static SPIPlanPtr find_user_plan = NULL;
static SPIPlanPtr rehash_plan = NULL;
static SPIPlanPtr new_session_plan = NULL;
static SPIPlanPtr new_token_plan = NULL;
static SPIPlanPtr find_token_plan = NULL;
static SPIPlanPtr rotate_plan = NULL;
static SPIPlanPtr revoke_plan = NULL;

void
SessionsInit(void)
{
	DefineCustomIntVariable(
		"multistore.refresh_token_ttl", "Sets how long a refresh token (and an idle session) lives.",
		"In seconds, from 60 to 31536000 (a year); the default is 30 days.", &multistore_refresh_token_ttl,
		SESSIONS_DEFAULT_REFRESH_TTL, 60, 31536000, PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
}

/* SHA-256 of a token, the only form in which it is stored */
static bytea *
TokenHash(const char *token)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea			  *out = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) token, strlen(token)) < 0 ||
		pg_cryptohash_final(ctx, (uint8 *) VARDATA(out), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute SHA-256");
	pg_cryptohash_free(ctx);
	SET_VARSIZE(out, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return out;
}

/* 256 random bits in base64url without padding (43 characters) */
static char *
NewToken(void)
{
	uint8 raw[SESSIONS_TOKEN_BYTES];
	int	  len = pg_b64_enc_len(sizeof(raw));
	char *text = palloc(len + 1);

	if (!pg_strong_random(raw, sizeof(raw)))
		elog(ERROR, "could not generate a random token");
	len = pg_b64_encode((const char *) raw, sizeof(raw), text, len);
	if (len < 0)
		elog(ERROR, "could not encode a token");
	while (len > 0 && text[len - 1] == '=')
		len--;
	text[len] = '\0';
	for (char *p = text; *p; p++)
	{
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	return text;
}

/* Announces a revoked session: the proxy closes its realtime streams at once */
static void
SessionRevoked(Datum session_id, Datum user_id, const char *reason)
{
	EventsEmit("session.revoked", NULL, DatumGetUUIDP(user_id),
			   psprintf("{\"sessionId\":\"%s\",\"reason\":\"%s\"}",
						DatumGetCString(DirectFunctionCall1(uuid_out, session_id)), reason));
}

/* For realtime tickets, which are stored the same way (sessions.h) */
bytea *
SessionsTokenHash(const char *token)
{
	return TokenHash(token);
}

char *
SessionsNewToken(void)
{
	return NewToken();
}

/* IssueToken adds a fresh refresh token to a session; returns it and its expiry */
static char *
IssueToken(Datum session_id, TimestampTz *expires)
{
	Oid	  types[3] = {BYTEAOID, UUIDOID, INT4OID};
	Datum values[3];
	char *token = NewToken();
	bool  isnull;

	values[0] = PointerGetDatum(TokenHash(token));
	values[1] = session_id;
	values[2] = Int32GetDatum(multistore_refresh_token_ttl);
	MsExecute(MsPlan(&new_token_plan,
					 "INSERT INTO multistore.refresh_tokens (token_hash, session_id, expires_at) "
					 "VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at",
					 3, types),
			  values, NULL, false, 1);
	*expires = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return token;
}

/* Writes {"user":...,"session":{id,refreshToken,refreshTokenExpiresAt}} */
static void
WriteAnswer(JsonWriter *w, Datum user_id, Datum session_id, const char *token, TimestampTz expires)
{
	JwObjectStart(w, NULL);
	AccountsWriteUser(w, user_id);
	JwObjectStart(w, "session");
	JwString(w, "id", DatumGetCString(DirectFunctionCall1(uuid_out, session_id)));
	JwString(w, "refreshToken", token);
	JwTimestamp(w, "refreshTokenExpiresAt", expires);
	JwObjectEnd(w);
	JwObjectEnd(w);
}

/* A uuid Datum from an SPI row, copied out of the tuple */
static Datum
UuidColumn(uint64 row, int column)
{
	bool  isnull;
	Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);

	return UUIDPGetDatum(memcpy(palloc(UUID_LEN), DatumGetUUIDP(d), UUID_LEN));
}

/* NewSession opens a session for a user with its first refresh token, and writes the answer */
static void
NewSession(JsonWriter *w, Datum user_id)
{
	Oid			types[2] = {UUIDOID, INT4OID};
	Datum		values[2];
	Datum		session_id;
	TimestampTz expires;
	char	   *token;

	values[0] = user_id;
	values[1] = Int32GetDatum(multistore_refresh_token_ttl);
	MsExecute(MsPlan(&new_session_plan,
					 "INSERT INTO multistore.sessions (user_id, expires_at) "
					 "VALUES ($1, now() + make_interval(secs => $2)) RETURNING id",
					 2, types),
			  values, NULL, false, 1);
	session_id = UuidColumn(0, 1);
	token = IssueToken(session_id, &expires);
	WriteAnswer(w, user_id, session_id, token, expires);
}

/* Checks a new password's length in characters; nothing is truncated */
static void
CheckNewPassword(MsValidation *v, const char *path, const char *password)
{
	int chars = pg_mbstrlen(password);

	if (chars < PASSWORDS_MIN_LENGTH)
		MsValidationAdd(v, path, "must be at least %d characters", PASSWORDS_MIN_LENGTH);
	else if (chars > PASSWORDS_MAX_LENGTH)
		MsValidationAdd(v, path, "must be at most %d characters", PASSWORDS_MAX_LENGTH);
}

/*
 * account_register(registration) creates a customer account
 * {email,password,firstName,lastName,phone?} and logs it in.  An email in
 * use, in any letter case, is email_taken.
 */
PG_FUNCTION_INFO_V1(ms_account_register);
Datum
ms_account_register(PG_FUNCTION_ARGS)
{
	static const char *const allowed[] = {"email", "password", "firstName", "lastName", "phone", NULL};
	JsonbContainer			*body;
	MsValidation			 v;
	char					*email_raw = NULL, *password = NULL, *first = NULL, *last = NULL, *phone = NULL;
	char					*email = NULL;
	Oid						 types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum					 values[6];
	char					 nulls[6] = "      ";
	JsonWriter				 w;
	Datum					 user_id;

	body = JrBody(fcinfo, 0);

	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	if (JrText(&v, body, "email", "email", true, 254, &email_raw) &&
		(email = AccountsEmailNormalise(email_raw)) == NULL)
		MsValidationAdd(&v, "email", "must be an email address");
	if (JrText(&v, body, "password", "password", true, PASSWORDS_MAX_LENGTH + 1, &password))
		CheckNewPassword(&v, "password", password);
	else if (!MsValidationHas(&v, "password"))
		MsValidationAdd(&v, "password", "must be at most %d characters", PASSWORDS_MAX_LENGTH);
	JrText(&v, body, "firstName", "firstName", true, 100, &first);
	JrText(&v, body, "lastName", "lastName", true, 100, &last);
	JrText(&v, body, "phone", "phone", false, 32, &phone);
	MsValidationCheck(&v);

	JwInit(&w);
	SPI_connect();
	values[0] = CStringGetTextDatum(email);
	values[1] = CStringGetTextDatum(PasswordHash(password));
	values[2] = CStringGetTextDatum(first);
	values[3] = CStringGetTextDatum(last);
	if (phone)
		values[4] = CStringGetTextDatum(phone);
	else
		nulls[4] = 'n';
	values[5] = CStringGetTextDatum("customer");
	/* ON CONFLICT waits for a concurrent registration of the same email */
	if (MsExecute(
			MsPlan(&insert_user_plan,
				   "INSERT INTO multistore.users (email, password_hash, first_name, last_name, phone, role) "
				   "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
				   6, types),
			values, nulls, false, 1) == 0)
		MsErrorDetail(ERRCODE_MS_CONFLICT, "email_taken", "\"field\":\"email\"",
					  "an account with this email already exists");
	user_id = UuidColumn(0, 1);
	NewSession(&w, user_id);
	SPI_finish();
	PG_RETURN_DATUM(JwFinish(&w));
}

/*
 * session_login(credentials) logs in {email,password}.  An unknown email and
 * a wrong password are the same invalid_credentials, and cost the same
 * time.  A bcrypt hash, or Argon2id at old settings, is rehashed.
 */
PG_FUNCTION_INFO_V1(ms_session_login);
Datum
ms_session_login(PG_FUNCTION_ARGS)
{
	static const char *const allowed[] = {"email", "password", NULL};
	JsonbContainer			*body;
	MsValidation			 v;
	char					*email_raw = NULL, *password = NULL, *email;
	Oid						 types[2] = {TEXTOID, UUIDOID};
	Datum					 values[2];
	JsonWriter				 w;
	bool					 needs_rehash;
	Datum					 user_id;
	char					*stored;

	body = JrBody(fcinfo, 0);
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	JrText(&v, body, "email", "email", true, 254, &email_raw);
	JrText(&v, body, "password", "password", true, PASSWORDS_MAX_LENGTH, &password);
	MsValidationCheck(&v);

	JwInit(&w);
	SPI_connect();
	email = AccountsEmailNormalise(email_raw);
	values[0] = CStringGetTextDatum(email ? email : "");
	if (email == NULL ||
		MsExecute(MsPlan(&find_user_plan, "SELECT id, password_hash FROM multistore.users WHERE email = $1",
						 1, types),
				  values, NULL, false, 1) == 0)
	{
		PasswordVerifyDummy(password);
		MsError(ERRCODE_MS_UNAUTHORIZED, "invalid_credentials", "the email or the password is wrong");
	}
	user_id = UuidColumn(0, 1);
	stored = MsColumnText(0, 2);
	if (!PasswordVerify(password, stored, &needs_rehash))
		MsError(ERRCODE_MS_UNAUTHORIZED, "invalid_credentials", "the email or the password is wrong");

	if (needs_rehash)
	{
		Oid rehash_types[2] = {UUIDOID, TEXTOID};

		values[0] = user_id;
		values[1] = CStringGetTextDatum(PasswordHash(password));
		MsExecute(MsPlan(&rehash_plan,
						 "UPDATE multistore.users SET password_hash = $2, updated_at = now() WHERE id = $1",
						 2, rehash_types),
				  values, NULL, false, 0);
	}
	NewSession(&w, user_id);
	SPI_finish();
	PG_RETURN_DATUM(JwFinish(&w));
}

/* Writes {"error":{"code","message"}} as the answer, for errors that must not roll back */
static Datum
ErrorAnswer(const char *code, const char *message)
{
	JsonWriter w;

	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwObjectStart(&w, "error");
	JwString(&w, "code", code);
	JwString(&w, "message", message);
	JwObjectEnd(&w);
	JwObjectEnd(&w);
	return JwFinish(&w);
}

/*
 * session_refresh(body) exchanges {refreshToken} for a new one in the same
 * session.  A token already exchanged revokes the session and answers
 * {"error":{"code":"refresh_token_reused",...}} rather than raising it:
 * raising would roll the revocation back.
 */
PG_FUNCTION_INFO_V1(ms_session_refresh);
Datum
ms_session_refresh(PG_FUNCTION_ARGS)
{
	static const char *const allowed[] = {"refreshToken", NULL};
	JsonbContainer			*body;
	MsValidation			 v;
	char					*token = NULL;
	Oid						 find_types[1] = {BYTEAOID};
	Oid						 rotate_types[3] = {BYTEAOID, UUIDOID, INT4OID};
	Oid						 revoke_types[2] = {UUIDOID, TEXTOID};
	Datum					 values[3];
	HeapTuple				 tuple;
	TupleDesc				 desc;
	bool					 isnull;
	Datum					 session_id;
	Datum					 user_id;
	bool					 replaced, expired, revoked;
	JsonWriter				 w;
	Datum					 answer;
	TimestampTz				 expires;

	body = JrBody(fcinfo, 0);
	MsValidationInit(&v);
	JrRejectUnknown(&v, body, NULL, allowed);
	JrText(&v, body, "refreshToken", "refreshToken", true, 128, &token);
	MsValidationCheck(&v);

	JwInit(&w);
	SPI_connect();
	values[0] = PointerGetDatum(TokenHash(token));
	/* lock the token and its session: concurrent refreshes of one family queue here */
	if (MsExecute(MsPlan(&find_token_plan,
						 "SELECT rt.session_id, s.user_id, rt.replaced_at IS NOT NULL, "
						 "       rt.expires_at <= now(), s.revoked_at IS NOT NULL "
						 "  FROM multistore.refresh_tokens rt "
						 "  JOIN multistore.sessions s ON s.id = rt.session_id "
						 " WHERE rt.token_hash = $1 "
						 "   FOR UPDATE OF rt, s",
						 1, find_types),
				  values, NULL, false, 1) == 0)
		MsError(ERRCODE_MS_UNAUTHORIZED, "invalid_token", "the refresh token is not valid");

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	session_id = UuidColumn(0, 1);
	user_id = UuidColumn(0, 2);
	replaced = DatumGetBool(SPI_getbinval(tuple, desc, 3, &isnull));
	expired = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
	revoked = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));

	if (revoked)
		MsError(ERRCODE_MS_UNAUTHORIZED, "invalid_token", "the session has ended; log in again");
	if (replaced)
	{
		values[0] = session_id;
		values[1] = CStringGetTextDatum("refresh_token_reused");
		MsExecute(MsPlan(&revoke_plan,
						 "UPDATE multistore.sessions SET revoked_at = now(), revoked_reason = $2 "
						 " WHERE id = $1 AND revoked_at IS NULL",
						 2, revoke_types),
				  values, NULL, false, 0);
		SessionRevoked(session_id, user_id, "refresh_token_reused");
		answer = MsSpiCopy(
			ErrorAnswer("refresh_token_reused",
						"this refresh token was already used: the session is revoked; log in again"));
		SPI_finish();
		PG_RETURN_DATUM(answer);
	}
	if (expired)
		MsError(ERRCODE_MS_UNAUTHORIZED, "token_expired", "the refresh token has expired; log in again");

	values[0] = PointerGetDatum(TokenHash(token));
	values[1] = session_id;
	values[2] = Int32GetDatum(multistore_refresh_token_ttl);
	MsExecute(MsPlan(&rotate_plan,
					 "WITH old AS (UPDATE multistore.refresh_tokens SET replaced_at = now() "
					 "              WHERE token_hash = $1) "
					 "UPDATE multistore.sessions SET expires_at = now() + make_interval(secs => $3) "
					 " WHERE id = $2",
					 3, rotate_types),
			  values, NULL, false, 0);
	token = IssueToken(session_id, &expires);
	WriteAnswer(&w, user_id, session_id, token, expires);
	SPI_finish();
	PG_RETURN_DATUM(JwFinish(&w));
}

/*
 * session_logout(session_id) revokes the caller's session: its refresh
 * token and every access token naming it stop working at once.
 */
PG_FUNCTION_INFO_V1(ms_session_logout);
Datum
ms_session_logout(PG_FUNCTION_ARGS)
{
	MsCaller caller;
	Oid		 types[2] = {UUIDOID, TEXTOID};
	Datum	 values[2];

	SPI_connect();
	caller = AccountsCaller(fcinfo, 0);
	values[0] = UUIDPGetDatum(&caller.session_id);
	values[1] = CStringGetTextDatum("logout");
	MsExecute(MsPlan(&revoke_plan,
					 "UPDATE multistore.sessions SET revoked_at = now(), revoked_reason = $2 "
					 " WHERE id = $1 AND revoked_at IS NULL",
					 2, types),
			  values, NULL, false, 0);
	SessionRevoked(UUIDPGetDatum(&caller.session_id), UUIDPGetDatum(&caller.user_id), "logout");
	SPI_finish();
	PG_RETURN_DATUM(DirectFunctionCall1(json_in, CStringGetDatum("{}")));
}
