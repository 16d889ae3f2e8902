/*
 * test_params.c
 *	  Strict query and path parameter syntax, and argument binding.
 */
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "tap.h"

static void
TestSyntax(void)
{
	struct
	{
		ArgType		type;
		const char *value;
		int			valid;
	} cases[] = {
		{TYPE_NUMBER, "40.7589", 1},
		{TYPE_NUMBER, "-73.9851", 1},
		{TYPE_NUMBER, "0", 1},
		{TYPE_NUMBER, "1e2", 1},
		{TYPE_NUMBER, "91", 1},
		{TYPE_NUMBER, "", 0},
		{TYPE_NUMBER, "abc", 0},
		{TYPE_NUMBER, "1,5", 0},
		{TYPE_NUMBER, " 1", 0},
		{TYPE_NUMBER, "1 ", 0},
		{TYPE_NUMBER, "NaN", 0},
		{TYPE_NUMBER, "Infinity", 0},
		{TYPE_NUMBER, "0x10", 0},
		{TYPE_NUMBER, "1.", 0},
		{TYPE_NUMBER, ".5", 0},
		{TYPE_NUMBER, "007", 0},
		{TYPE_NUMBER, "1e999", 0},
		{TYPE_NUMBER, "1e-400", 0}, /* underflows to 0: PostgreSQL refuses it too */
		{TYPE_NUMBER, "1e-310", 1}, /* subnormal, but a number */
		{TYPE_NUMBER, "+1", 0},
		{TYPE_NUMBER, "--1", 0},
		{TYPE_INTEGER, "20", 1},
		{TYPE_INTEGER, "-3", 1},
		{TYPE_INTEGER, "0", 1},
		{TYPE_INTEGER, "2.5", 0},
		{TYPE_INTEGER, "1e2", 0},
		{TYPE_INTEGER, "9999999999", 0},
		{TYPE_INTEGER, "", 0},
		{TYPE_INTEGER, "01", 0},
		{TYPE_ID, "store_1", 1},
		{TYPE_ID, "a.b:c-d", 1},
		{TYPE_ID, "", 0},
		{TYPE_ID, "a b", 0},
		{TYPE_ID, "../x", 0},
		{TYPE_ID, "x'", 0},
		{TYPE_UUID, "123e4567-e89b-12d3-a456-426614174000", 1},
		{TYPE_UUID, "123e4567e89b12d3a456426614174000", 0},
		{TYPE_UUID, "123e4567-e89b-12d3-a456-42661417400g", 0},
		{TYPE_LIST, "a,b,c", 1},
		{TYPE_LIST, "a", 1},
		{TYPE_LIST, "a,,b", 0},
		{TYPE_LIST, "a,", 0},
		{TYPE_LIST, "", 0},
		{TYPE_TEXT, "caf\xc3\xa9", 1},
		{TYPE_TEXT, "\xc3\x28", 0},
		{TYPE_TEXT, "\xc0\xaf", 0},
		{TYPE_TEXT, "\xed\xa0\x80", 0},
		{TYPE_TEXT, "\xf4\x90\x80\x80", 0},
		{TYPE_TEXT, "\xe2\x82", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *problem = ParamCheck(cases[i].type, cases[i].value, strlen(cases[i].value));

		ok((problem == NULL) == cases[i].valid, "type %d \"%s\" is %s", (int) cases[i].type, cases[i].value,
		   cases[i].valid ? "accepted" : "refused");
	}
	ok(ParamCheck(TYPE_TEXT, "a\0b", 3) != NULL, "a NUL inside a value is refused");
}

static const Route nearby = {"GET",
							 "/api/stores/nearby",
							 "multistore.stores_nearby",
							 ACCESS_PUBLIC,
							 200,
							 CACHE_PUBLIC_SHORT,
							 RATE_NONE,
							 0,
							 NULL,
							 {{ARG_QUERY, "latitude", "latitude", TYPE_NUMBER, true},
							  {ARG_QUERY, "longitude", "longitude", TYPE_NUMBER, true},
							  {ARG_QUERY, "radius", "radius_km", TYPE_NUMBER, false}}};

static void
Add(QueryParams *q, const char *k, const char *v)
{
	QueryAdd(q, k, v, strlen(v));
}

static void
TestBind(void)
{
	QueryParams q = {0};
	RouteMatch	m = {0};
	ApiError	err = {0};
	const char *values[ROUTE_MAX_ARGS];
	char	   *body;

	Add(&q, "latitude", "40.7");
	Add(&q, "longitude", "-73.9");
	ok(ParamsBind(&nearby, &m, &q, NULL, NULL, NULL, values, &err), "good parameters bind");
	is_str(values[0], "40.7", "$1 is latitude");
	is_str(values[1], "-73.9", "$2 is longitude");
	is_str(values[2], NULL, "an absent optional parameter is NULL");
	QueryFree(&q);

	Add(&q, "latitude", "abc");
	Add(&q, "radius", "1");
	Add(&q, "radius", "2");
	Add(&q, "lat", "1");
	ok(!ParamsBind(&nearby, &m, &q, NULL, NULL, NULL, values, &err), "bad parameters are refused");
	is_int(err.status, 400, "with 400");
	is_str(err.code, "validation_failed", "validation_failed");
	body = ErrorBody(&err, "rid");
	is_str(body,
		   "{\"error\":{\"code\":\"validation_failed\",\"message\":\"invalid input: latitude must be a "
		   "decimal number\","
		   "\"details\":{\"fields\":{\"latitude\":\"must be a decimal number\",\"longitude\":\"is required\","
		   "\"radius\":\"must be given once\",\"lat\":\"is not a parameter of this "
		   "route\"}}},\"requestId\":\"rid\"}",
		   "every bad field is named at once");
	free(body);
	ErrorClear(&err);
	QueryFree(&q);

	for (int i = 0; i < QUERY_MAX_PARAMS + 5; i++)
		Add(&q, "latitude", "1");
	ok(q.too_many && q.n == QUERY_MAX_PARAMS, "the query keeps at most %d parameters", QUERY_MAX_PARAMS);
	QueryFree(&q);
}

static void
TestPathBind(void)
{
	static const Route get = {"GET",
							  "/api/stores/{storeId}",
							  "multistore.store_get",
							  ACCESS_PUBLIC,
							  200,
							  CACHE_PUBLIC_SHORT,
							  RATE_NONE,
							  0,
							  NULL,
							  {{ARG_PATH, "storeId", "store_id", TYPE_ID, true}}};
	QueryParams		   q = {0};
	RouteMatch		   m = {0};
	ApiError		   err = {0};
	const char		  *values[ROUTE_MAX_ARGS];

	m.nparams = 1;
	m.params[0].name = "storeId}";
	strcpy(m.params[0].value, "store 1");
	ok(!ParamsBind(&get, &m, &q, NULL, NULL, NULL, values, &err), "a path id that cannot exist is refused");
	is_int(err.status, 404, "as 404, not 400");
	ErrorClear(&err);
	strcpy(m.params[0].value, "store_1");
	ok(ParamsBind(&get, &m, &q, NULL, NULL, NULL, values, &err), "a good path id binds");
	is_str(values[0], "store_1", "to $1");
}

static void
TestHeaderBind(void)
{
	static const Route place = {"POST",
								"/api/orders",
								"multistore.order_place",
								ACCESS_USER,
								201,
								CACHE_NO_STORE,
								RATE_NONE,
								0,
								NULL,
								{{ARG_SESSION, "session", "session_id", TYPE_UUID, true},
								 {ARG_HEADER, "Idempotency-Key", "idempotency_key", TYPE_TEXT, false},
								 {ARG_BODY, "body", "order_request", TYPE_JSON, true}}};
	QueryParams		   q = {0};
	RouteMatch		   m = {0};
	ApiError		   err = {0};
	const char		  *values[ROUTE_MAX_ARGS];
	const char		  *headers[ROUTE_MAX_ARGS] = {NULL, "key-1", NULL};
	char			   longer[1100];

	ok(ParamsBind(&place, &m, &q, "{}", "sid", headers, values, &err), "a header argument binds");
	is_str(values[0], "sid", "$1 is the session");
	is_str(values[1], "key-1", "$2 is the header's value");
	is_str(values[2], "{}", "$3 is the body");

	headers[1] = NULL;
	ok(ParamsBind(&place, &m, &q, "{}", "sid", headers, values, &err),
	   "a missing header binds too: the SQL function says what that means");
	is_str(values[1], NULL, "as NULL");

	memset(longer, 'k', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	headers[1] = longer;
	ok(!ParamsBind(&place, &m, &q, "{}", "sid", headers, values, &err),
	   "a header over 1024 bytes is refused");
	is_str(err.code, "validation_failed", "as validation_failed");
	ErrorClear(&err);
}

int
main(void)
{
	TestSyntax();
	TestBind();
	TestPathBind();
	TestHeaderBind();
	return done_testing();
}
