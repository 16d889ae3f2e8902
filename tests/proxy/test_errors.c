/*
 * test_errors.c
 *	  The SQLSTATE to HTTP table and the error body.
 */
#include <stdlib.h>

#include "errors.h"
#include "tap.h"

static void
Check(const char *state, const char *detail, bool token, int status, const char *code, const char *what)
{
	ApiError e = {0};

	ErrorFromDatabase(&e, state, "msg", detail, token);
	is_int(e.status, status, "%s: status", what);
	is_str(e.code, code, "%s: code", what);
	ErrorClear(&e);
}

int
main(void)
{
	ApiError e = {0};
	char	*body;

	Check("M4404", "{\"code\":\"not_found\"}", false, 404, "not_found", "M4404 not_found");
	Check("M4409", "{\"code\":\"out_of_stock\",\"items\":[]}", false, 409, "out_of_stock",
		  "M4409 out_of_stock");
	Check("M4422", "{\"code\":\"idempotency_key_reused\"}", true, 422, "idempotency_key_reused", "M4422");
	Check("M5503", "{\"code\":\"unavailable\"}", false, 503, "unavailable", "M5503");
	Check("M4409", "not json", false, 409, "conflict",
		  "M4409 without a JSON detail falls back to the status's code");
	Check("M4409", NULL, false, 409, "conflict", "M4409 without detail");
	Check("M4999", NULL, false, 500, "internal",
		  "M4 with a status outside 4xx digits is ours but invalid: internal");
	Check("M5404", NULL, false, 500, "internal", "class M5 with a 4xx status is invalid: internal");
	Check("M44x4", NULL, false, 500, "internal", "letters in the status digits: internal");
	Check("23505", NULL, false, 409, "conflict", "unique violation");
	Check("23503", NULL, false, 409, "conflict", "foreign key violation");
	Check("23514", NULL, false, 400, "validation_failed", "check violation");
	Check("22P02", NULL, false, 400, "validation_failed", "invalid text representation");
	Check("42501", NULL, false, 401, "unauthorized", "insufficient privilege without a token");
	Check("42501", NULL, true, 403, "forbidden", "insufficient privilege with a token");
	Check("08006", NULL, false, 503, "unavailable", "connection failure");
	Check("57P01", NULL, false, 503, "unavailable", "admin shutdown");
	Check("53300", NULL, false, 503, "unavailable", "too many connections");
	Check("40P01", NULL, false, 503, "unavailable", "deadlock");
	Check("42883", NULL, false, 500, "internal", "an unmapped state (undefined function) is a bug: internal");
	Check("XX000", NULL, false, 500, "internal", "internal error");
	Check(NULL, NULL, false, 500, "internal", "no state at all");

	ErrorFromDatabase(
		&e, "M4400", "invalid input: latitude must be between -90 and 90",
		"{\"code\":\"validation_failed\",\"fields\":{\"latitude\":\"must be between -90 and 90\"}}", false);
	body = ErrorBody(&e, "abc");
	is_str(body,
		   "{\"error\":{\"code\":\"validation_failed\",\"message\":\"invalid input: latitude must be between "
		   "-90 and 90\","
		   "\"details\":{\"fields\":{\"latitude\":\"must be between -90 and 90\"}}},\"requestId\":\"abc\"}",
		   "DETAIL's members other than code become details");
	free(body);
	ErrorClear(&e);

	ErrorFromDatabase(&e, "XX000", "could not open file \"/secret\": permission denied", NULL, false);
	body = ErrorBody(&e, "abc");
	ok(strstr(body, "secret") == NULL, "an internal error never shows the database's message");
	free(body);
	ErrorClear(&e);

	ErrorSet(&e, 405, "method_not_allowed", "no");
	body = ErrorBody(&e, "r1");
	is_str(body,
		   "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"no\",\"details\":{}},\"requestId\":"
		   "\"r1\"}",
		   "a proxy-made error has empty details");
	free(body);
	ErrorClear(&e);
	ok(e.message == NULL && e.details == NULL, "ErrorClear frees and resets");
	return done_testing();
}
