/*
 * test_router.c
 *	  Path and method matching, and the route table's own checks.
 */
#include "router.h"
#include "routes.h"
#include "tap.h"

static int
Handler(struct Request *req, const char *const *values)
{
	(void) req;
	(void) values;
	return 0;
}

static const Route table[] = {
	{"GET", "/health", NULL, ACCESS_PUBLIC, 200, CACHE_NO_STORE, RATE_NONE, 0, Handler, {{0}}},
	{"GET",
	 "/api/stores/nearby",
	 "multistore.stores_nearby",
	 ACCESS_PUBLIC,
	 200,
	 CACHE_PUBLIC_SHORT,
	 RATE_NONE,
	 0,
	 NULL,
	 {{0}}},
	{"GET",
	 "/api/stores/{storeId}",
	 "multistore.store_get",
	 ACCESS_PUBLIC,
	 200,
	 CACHE_PUBLIC_SHORT,
	 RATE_NONE,
	 0,
	 NULL,
	 {{ARG_PATH, "storeId", "store_id", TYPE_ID, true}}},
	{"PUT",
	 "/api/stores/{storeId}",
	 "multistore.store_update",
	 ACCESS_ADMIN,
	 200,
	 CACHE_NO_STORE,
	 RATE_NONE,
	 0,
	 NULL,
	 {{ARG_PATH, "storeId", "store_id", TYPE_ID, true}}},
	{"GET",
	 "/api/stores/{storeId}/orders/{orderId}",
	 "multistore.x",
	 ACCESS_PUBLIC,
	 200,
	 CACHE_NO_STORE,
	 RATE_NONE,
	 0,
	 NULL,
	 {{ARG_PATH, "storeId", "store_id", TYPE_ID, true}, {ARG_PATH, "orderId", "order_id", TYPE_UUID, true}}},
};
static const size_t n = sizeof(table) / sizeof(table[0]);

static void
TestMatching(void)
{
	RouteMatch m;

	is_int(RouterMatch(table, n, "GET", "/health", &m), MATCH_OK, "a literal route matches");
	is_int(m.route, 0, "and names its index");
	is_int(RouterMatch(table, n, "GET", "/api/stores/nearby", &m), MATCH_OK, "nearby matches");
	is_int(m.route, 1, "a literal segment beats a {param}");
	is_int(RouterMatch(table, n, "GET", "/api/stores/store_1", &m), MATCH_OK, "a {param} route matches");
	is_int(m.route, 2, "the parameter route");
	is_str(RouterParam(&m, "storeId"), "store_1", "and binds the segment by name");
	is_str(RouterParam(&m, "store"), NULL, "a name prefix does not bind");
	is_int(RouterMatch(table, n, "PUT", "/api/stores/nearby", &m), MATCH_OK,
		   "PUT /api/stores/nearby goes to the {param} route");
	is_int(m.route, 3, "which is PUT /api/stores/{storeId}");
	is_int(RouterMatch(table, n, "GET", "/api/stores/s1/orders/o1", &m), MATCH_OK, "two parameters");
	is_str(RouterParam(&m, "orderId"), "o1", "the second binds too");
	is_int(RouterMatch(table, n, "HEAD", "/health", &m), MATCH_OK, "HEAD is served by the GET route");
}

static void
TestRefusals(void)
{
	RouteMatch m;

	is_int(RouterMatch(table, n, "GET", "/nope", &m), MATCH_NO_PATH, "an unknown path is 404");
	is_int(RouterMatch(table, n, "GET", "/health/", &m), MATCH_NO_PATH, "a trailing slash is 404");
	is_int(RouterMatch(table, n, "GET", "/api//stores", &m), MATCH_NO_PATH, "an empty segment is 404");
	is_int(RouterMatch(table, n, "GET", "api/stores", &m), MATCH_NO_PATH, "a relative path is 404");
	is_int(RouterMatch(table, n, "GET", "", &m), MATCH_NO_PATH, "an empty path is 404");
	is_int(RouterMatch(table, n, "GET", "/a/b/c/d/e/f/g/h/i/j", &m), MATCH_NO_PATH,
		   "too many segments is 404");
	is_int(RouterMatch(table, n, "DELETE", "/health", &m), MATCH_NO_METHOD,
		   "a known path with another method is 405");
	is_str(m.allow, "GET, HEAD", "Allow lists GET and HEAD");
	is_int(RouterMatch(table, n, "POST", "/api/stores/x1", &m), MATCH_NO_METHOD, "POST on a store is 405");
	is_str(m.allow, "GET, HEAD, PUT", "Allow lists each method once");
}

static void
TestPatterns(void)
{
	ok(RouterPatternIsValid("/"), "/ is a pattern");
	ok(RouterPatternIsValid("/api/{id}/x"), "a {param} segment");
	ok(!RouterPatternIsValid("api"), "must start with /");
	ok(!RouterPatternIsValid("/a//b"), "no empty segment");
	ok(!RouterPatternIsValid("/a/"), "no trailing slash");
	ok(!RouterPatternIsValid("/a/x{id}"), "a parameter is a whole segment");
	ok(!RouterPatternIsValid("/a/{id"), "braces must close");
	ok(!RouterPatternIsValid("/a/{}"), "a parameter has a name");
	ok(!RouterPatternIsValid("/a/{i{d}"), "no nested braces");
}

static void
TestCompile(void)
{
	char			   err[256] = "";
	CompiledRoute	  *c = RoutesCompile(table, n, err, sizeof(err));
	static const Route dup[] = {
		{"GET",
		 "/a/{x}",
		 "s.f",
		 ACCESS_PUBLIC,
		 200,
		 CACHE_NO_STORE,
		 RATE_NONE,
		 0,
		 NULL,
		 {{ARG_PATH, "x", "x", TYPE_ID, true}}},
		{"GET",
		 "/a/{y}",
		 "s.g",
		 ACCESS_PUBLIC,
		 200,
		 CACHE_NO_STORE,
		 RATE_NONE,
		 0,
		 NULL,
		 {{ARG_PATH, "y", "y", TYPE_ID, true}}},
	};
	static const Route unbound[] = {
		{"GET", "/a/{x}", "s.f", ACCESS_PUBLIC, 200, CACHE_NO_STORE, RATE_NONE, 0, NULL, {{0}}},
	};
	static const Route injected[] = {
		{"GET",
		 "/a",
		 "s.f(); DROP TABLE t; --",
		 ACCESS_PUBLIC,
		 200,
		 CACHE_NO_STORE,
		 RATE_NONE,
		 0,
		 NULL,
		 {{0}}},
	};
	static const Route bad_arg[] = {
		{"GET",
		 "/a",
		 "s.f",
		 ACCESS_PUBLIC,
		 200,
		 CACHE_NO_STORE,
		 RATE_NONE,
		 0,
		 NULL,
		 {{ARG_QUERY, "q", "q => 1; --", TYPE_TEXT, false}}},
	};

	ok(c != NULL, "the test table compiles (%s)", err);
	is_str(c[2].sql, "SELECT * FROM multistore.store_get(store_id => $1)",
		   "a route becomes a parameterised call by name");
	is_int(c[2].nparams, 1, "with one parameter");
	is_str(c[0].sql, NULL, "a handler route has no SQL");
	RoutesFree(c, n);

	ok(RoutesCompile(dup, 2, err, sizeof(err)) == NULL, "two routes of the same shape are refused");
	ok(strstr(err, "duplicates") != NULL, "saying which (%s)", err);
	ok(RoutesCompile(unbound, 1, err, sizeof(err)) == NULL,
	   "a path parameter without an argument is refused");
	ok(RoutesCompile(injected, 1, err, sizeof(err)) == NULL,
	   "a function name that is not an identifier is refused");
	ok(RoutesCompile(bad_arg, 1, err, sizeof(err)) == NULL,
	   "an argument name that is not an identifier is refused");
}

static void
TestRealTable(void)
{
	char		   err[256] = "";
	CompiledRoute *c = RoutesCompile(routes, route_count, err, sizeof(err));

	ok(c != NULL, "the proxy's route table compiles (%s)", err);
	for (size_t i = 0; c && i < route_count; i++)
	{
		if (routes[i].function && strcmp(routes[i].pattern, "/api/stores/{storeId}/availability") == 0)
			is_str(c[i].sql,
				   "SELECT * FROM multistore.store_availability(store_id => $1, product_ids => "
				   "string_to_array($2, "
				   "','))",
				   "a list parameter arrives as text[]");
	}
	ok(c && RoutesMarkReplica(routes, route_count, c, replica_routes, replica_route_count, err, sizeof(err)),
	   "the replica routes are public GET routes of the table (%s)", err);
	for (size_t i = 0; c && i < route_count; i++)
	{
		bool may = strcmp(routes[i].method, "GET") == 0 && routes[i].access == ACCESS_PUBLIC &&
				   routes[i].function != NULL;

		if (c[i].replica && !may)
			ok(false, "%s %s is marked for the replica", routes[i].method, routes[i].pattern);
		/* what a user writes and reads back never goes to the replica */
		if (strncmp(routes[i].pattern, "/api/cart", 9) == 0 ||
			strncmp(routes[i].pattern, "/api/orders", 11) == 0 ||
			strncmp(routes[i].pattern, "/api/auth", 9) == 0)
			ok(!c[i].replica, "%s %s stays on the primary", routes[i].method, routes[i].pattern);
	}
	RoutesFree(c, route_count);
}

static void
TestReplicaList(void)
{
	char					 err[256] = "";
	CompiledRoute			*c = RoutesCompile(table, n, err, sizeof(err));
	static const char *const good[] = {"GET /api/stores/{storeId}"};
	static const char *const unknown[] = {"GET /api/nowhere"};
	static const char *const private_route[] = {"PUT /api/stores/{storeId}"};
	static const char *const malformed[] = {"GET/api/stores/{storeId}"};

	ok(RoutesMarkReplica(table, n, c, good, 1, err, sizeof(err)) && c[2].replica && !c[0].replica,
	   "a listed public GET route is marked, and only it (%s)", err);
	ok(!RoutesMarkReplica(table, n, c, unknown, 1, err, sizeof(err)) && strstr(err, "not in the route table"),
	   "an entry not in the table is refused: %s", err);
	ok(!RoutesMarkReplica(table, n, c, private_route, 1, err, sizeof(err)) && strstr(err, "not a public GET"),
	   "a route that writes is refused: %s", err);
	ok(!RoutesMarkReplica(table, n, c, malformed, 1, err, sizeof(err)),
	   "an entry without a space is refused");
	RoutesFree(c, n);
}

int
main(void)
{
	TestMatching();
	TestRefusals();
	TestPatterns();
	TestCompile();
	TestRealTable();
	TestReplicaList();
	return done_testing();
}
