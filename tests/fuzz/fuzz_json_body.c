/*
 * fuzz_json_body.c
 *	  The JSON the proxy reads: request bodies (request.c's RequestCheckJsonBody,
 *	  json_loadb with JSON_REJECT_DUPLICATES), a refused call's DETAIL
 *	  (errors.c's ErrorFromDatabase), and what SQL functions answer
 *	  (request.c's RespondDecided, handlers.c's HandleSessionTokens).
 *
 * Input, newline-separated: a SQLSTATE, a message, a flags byte; the rest
 * is the document.
 * What must hold besides no crash and no leak: every error the proxy
 * makes of the input is UTF-8 text with a body RespondError can send (a
 * code or message cut mid-character once made ErrorBody return NULL,
 * which RespondError strlen()'d), and a session answer gives a token
 * that verifies.
 */
#include "fuzz.h"
#include "handlers.h"
#include "jwt.h"
#include "request.h"

static const char *const request_id = "7d0c3b4a-9f6e-4c2b-8a1d-5e3f2a1b0c9d";

static const JwtKey key = {(const unsigned char *) "0123456789abcdef0123456789abcdef", 32, "multistore",
						   "multistore-api"};

/* The body as the client sent it, NULs and all */
static void
FuzzCheckJsonBody(const char *body, size_t len)
{
	Request		 req;
	json_error_t error;
	json_t		*doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
	bool		 ok;

	memset(&req, 0, sizeof(req));
	/* TakeBody keeps a NUL-terminated copy */
	req.body = malloc(len + 1);
	memcpy(req.body, body, len);
	req.body[len] = '\0';
	req.body_len = len;
	ok = RequestCheckJsonBody(&req);
	FuzzAssert(ok == (len > 0 && doc != NULL), "RequestCheckJsonBody says %d, json_loadb %s", (int) ok,
			   doc ? "parses" : "does not");
	if (!ok)
	{
		FuzzAssert(req.failed && req.error.status == 400 && strcmp(req.error.code, "invalid_json") == 0,
				   "refused body: status %d code %s", req.error.status, req.error.code);
		FuzzCheckError(&req.error, "RequestCheckJsonBody");
	}
	json_decref(doc);
	ErrorClear(&req.error);
	free(req.body);
}

/* Text libpq hands us: PostgreSQL sends valid UTF-8 only (the database is UTF8) */
static const char *
FromDatabase(const char *s)
{
	return Utf8IsValid(s, strlen(s)) ? s : NULL;
}

/* A failed call: ErrorFromDatabase reads multistore's DETAIL {"code":...} */
static void
FuzzErrorFromDatabase(const char *sqlstate, const char *message, const char *detail, bool had_token)
{
	ApiError err;

	memset(&err, 0, sizeof(err));
	ErrorFromDatabase(&err, FromDatabase(sqlstate), FromDatabase(message), FromDatabase(detail), had_token);
	FuzzAssert(err.status >= 400 && err.status <= 599 && err.message != NULL, "status %d", err.status);
	FuzzCheckError(&err, "ErrorFromDatabase");
	ErrorClear(&err);
}

/* RespondDecided's reading of a row (status >= 400, body, replayed): the body gets our request id */
static void
FuzzDecided(const char *body)
{
	json_t *doc = json_loads(body, 0, NULL);
	json_t *error = json_object_get(doc, "error");
	char   *text;
	char	code[48] = "";

	json_object_set_new(doc, "requestId", json_string(request_id));
	text = json_dumps(doc, JSON_COMPACT);
	if (json_is_object(error))
		snprintf(code, sizeof(code), "%s",
				 json_string_value(json_object_get(error, "code"))
					 ? json_string_value(json_object_get(error, "code"))
					 : "");
	json_decref(doc);
	free(text);
}

/* HandleSessionTokens' reading of a session answer, and the token it mints */
static void
FuzzSessionAnswer(const char *body, long long now)
{
	json_t	   *answer = json_loads(body, 0, NULL);
	json_t	   *user, *session, *reply;
	const char *user_id, *role, *session_id;
	char	   *token, *text;

	if (json_is_object(json_object_get(answer, "error")))
	{
		/* RespondReturnedError */
		json_t	   *error = json_object_get(answer, "error");
		const char *code = json_string_value(json_object_get(error, "code"));
		const char *message = json_string_value(json_object_get(error, "message"));
		Request		req;

		memset(&req, 0, sizeof(req));
		RequestFail(&req, 401, code ? code : "invalid_token", message ? message : "the session has ended");
		FuzzCheckError(&req.error, "RespondReturnedError");
		ErrorClear(&req.error);
		json_decref(answer);
		return;
	}
	user = json_object_get(answer, "user");
	session = json_object_get(answer, "session");
	user_id = json_string_value(json_object_get(user, "id"));
	role = json_string_value(json_object_get(user, "role"));
	session_id = json_string_value(json_object_get(session, "id"));
	if (user_id == NULL || role == NULL || session_id == NULL ||
		!json_is_string(json_object_get(session, "refreshToken")) ||
		!json_is_string(json_object_get(session, "refreshTokenExpiresAt")))
	{
		json_decref(answer);
		return;
	}
	token = JwtSign(&key, user_id, role, session_id, now, 900);
	FuzzAssert(token != NULL, "JwtSign gave NULL");
	reply = json_pack("{s:O,s:s,s:s,s:i,s:O,s:O}", "user", user, "accessToken", token, "tokenType", "Bearer",
					  "expiresIn", 900, "refreshToken", json_object_get(session, "refreshToken"),
					  "refreshTokenExpiresAt", json_object_get(session, "refreshTokenExpiresAt"));
	text = json_dumps(reply, JSON_COMPACT);
	FuzzAssert(text != NULL, "the session answer cannot be written");
	/* an id, a role and a session that fit the claims verify */
	if (strlen(user_id) > 0 && strlen(user_id) < 64 && strlen(session_id) > 0 && strlen(session_id) < 64 &&
		strlen(role) > 0 && strlen(role) < 32)
	{
		JwtClaims	claims;
		const char *why = NULL;

		FuzzAssert(JwtVerify(&key, token, now, &claims, &why) == JWT_OK, "minted token refused: %s", why);
		FuzzAssert(strcmp(claims.sub, user_id) == 0 && strcmp(claims.role, role) == 0 &&
					   strcmp(claims.sid, session_id) == 0,
				   "claims changed");
	}
	free(text);
	free(token);
	json_decref(reply);
	json_decref(answer);
}

FUZZ_FIXED_JANSSON_SEED

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fields f;

	/* the whole input is a request body */
	FuzzCheckJsonBody((const char *) data, size);

	FieldsSplit(&f, data, size, 4);
	FuzzErrorFromDatabase(f.field[0], f.field[1], f.field[3], FuzzByte(f.field[2], f.len[2], 0) & 1);
	if (FromDatabase(f.field[3]))
	{
		FuzzDecided(f.field[3]);
		FuzzSessionAnswer(f.field[3], 1800000000);
	}
	FieldsFree(&f);
	return 0;
}
