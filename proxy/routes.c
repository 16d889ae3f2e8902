/*
 * routes.c
 *	  THE route table: every REST route, the SQL function it calls, who may
 *	  call it, and where each argument comes from.  Adding a route is adding
 *	  a line here and a function in the extension; nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "router.h"
#include "routes.h"

/* clang-format off */
#define REQUIRED true
#define OPTIONAL false

/* Where an argument comes from: name as the client writes it, then the SQL argument */
#define PATH(name, sql_name, type)			{ARG_PATH, name, sql_name, type, REQUIRED}
#define QUERY(name, sql_name, type, req)	{ARG_QUERY, name, sql_name, type, req}
#define BODY(sql_name)						{ARG_BODY, "body", sql_name, TYPE_JSON, REQUIRED}
#define SESSION								{ARG_SESSION, "session", "session_id", TYPE_UUID, REQUIRED}
#define HEADER(name, sql_name)				{ARG_HEADER, name, sql_name, TYPE_TEXT, OPTIONAL}

const Route routes[] = {
	/* method  pattern                               SQL function                    access          status cache               rate       body   handler */
	{"GET",    "/health",                            "multistore.health",            ACCESS_PUBLIC,  200, CACHE_NO_STORE,     RATE_NONE, 0,     HandleHealth, {{0}}},
	{"GET",    "/openapi.json",                      NULL,                           ACCESS_PUBLIC,  200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     HandleOpenApi, {{0}}},
	{"GET",    "/docs",                              NULL,                           ACCESS_PUBLIC,  200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     HandleDocsPage, {{0}}},
	{"GET",    "/docs/{file}",                       NULL,                           ACCESS_PUBLIC,  200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     HandleDocsAsset,
		{PATH("file", "file", TYPE_ID)}},
	{"GET",    "/metrics",                           "multistore.health",            ACCESS_PUBLIC,  200, CACHE_NO_STORE,     RATE_NONE, 0,     HandleMetrics, {{0}}},

	/* accounts */
	{"POST",   "/api/auth/register",                 "multistore.account_register",  ACCESS_PUBLIC,  201, CACHE_NO_STORE,     RATE_AUTH, 16384, HandleSessionTokens,
		{BODY("registration")}},
	{"POST",   "/api/auth/login",                    "multistore.session_login",     ACCESS_PUBLIC,  200, CACHE_NO_STORE,     RATE_AUTH, 16384, HandleSessionTokens,
		{BODY("credentials")}},
	{"POST",   "/api/auth/refresh-token",            "multistore.session_refresh",   ACCESS_PUBLIC,  200, CACHE_NO_STORE,     RATE_WRITE, 4096,  HandleSessionTokens,
		{BODY("body")}},
	{"POST",   "/api/auth/logout",                   "multistore.session_logout",    ACCESS_USER,    204, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION}},
	{"GET",    "/api/auth/me",                       "multistore.user_me",           ACCESS_USER,    200, CACHE_NO_STORE,     RATE_READ, 0,     NULL,
		{SESSION}},

	/* stores */
	{"GET",    "/api/stores/nearby",                 "multistore.stores_nearby",     ACCESS_PUBLIC,  200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     NULL,
		{QUERY("latitude", "latitude", TYPE_NUMBER, REQUIRED), QUERY("longitude", "longitude", TYPE_NUMBER, REQUIRED),
		 QUERY("radius", "radius_km", TYPE_NUMBER, OPTIONAL), QUERY("limit", "max_results", TYPE_INTEGER, OPTIONAL),
		 QUERY("productIds", "basket", TYPE_LIST, OPTIONAL)}},
	{"GET",    "/api/stores/{storeId}",              "multistore.store_get",         ACCESS_PUBLIC,  200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     NULL,
		{PATH("storeId", "store_id", TYPE_ID)}},
	{"GET",    "/api/stores/{storeId}/availability", "multistore.store_availability", ACCESS_PUBLIC, 200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     NULL,
		{PATH("storeId", "store_id", TYPE_ID), QUERY("productIds", "product_ids", TYPE_LIST, OPTIONAL)}},
	{"POST",   "/api/stores",                        "multistore.store_create",      ACCESS_ADMIN,   201, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, BODY("store")}},
	{"PUT",    "/api/stores/{storeId}",              "multistore.store_update",      ACCESS_ADMIN,   200, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, PATH("storeId", "store_id", TYPE_ID), BODY("store")}},

	/* stock and reservations (point of sale, click and collect) */
	{"PUT",    "/api/stores/{storeId}/inventory/{productId}", "multistore.inventory_set", ACCESS_MANAGER, 200, CACHE_NO_STORE, RATE_WRITE, 0, NULL,
		{SESSION, PATH("storeId", "store_id", TYPE_ID), PATH("productId", "product_id", TYPE_ID), BODY("stock")}},
	{"POST",   "/api/stores/{storeId}/reservations", "multistore.reservation_create", ACCESS_MANAGER, 201, CACHE_NO_STORE, RATE_WRITE, 0, NULL,
		{SESSION, PATH("storeId", "store_id", TYPE_ID), BODY("reservation")}},
	{"GET",    "/api/reservations/{reservationId}",  "multistore.reservation_get",   ACCESS_MANAGER, 200, CACHE_NO_STORE,     RATE_READ, 0,     NULL,
		{SESSION, PATH("reservationId", "reservation_id", TYPE_UUID)}},
	{"DELETE", "/api/reservations/{reservationId}",  "multistore.reservation_release", ACCESS_MANAGER, 200, CACHE_NO_STORE,   RATE_WRITE, 0,     NULL,
		{SESSION, PATH("reservationId", "reservation_id", TYPE_UUID)}},

	/* the catalogue */
	{"GET",    "/api/products",                      "multistore.products_list",     ACCESS_PUBLIC,  200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     NULL,
		{QUERY("storeId", "store_id", TYPE_ID, OPTIONAL), QUERY("ids", "ids", TYPE_LIST, OPTIONAL),
		 QUERY("q", "q", TYPE_TEXT, OPTIONAL), QUERY("cursor", "cursor", TYPE_TEXT, OPTIONAL),
		 QUERY("limit", "max_results", TYPE_INTEGER, OPTIONAL)}},
	{"GET",    "/api/products/{productId}",          "multistore.product_get",       ACCESS_PUBLIC,  200, CACHE_PUBLIC_SHORT, RATE_READ, 0,     NULL,
		{PATH("productId", "product_id", TYPE_ID), QUERY("storeId", "store_id", TYPE_ID, OPTIONAL)}},

	/* carts */
	{"GET",    "/api/cart",                          "multistore.cart_get",          ACCESS_USER,    200, CACHE_NO_STORE,     RATE_READ, 0,     NULL,
		{SESSION}},
	{"POST",   "/api/cart/items",                    "multistore.cart_add_item",     ACCESS_USER,    201, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, BODY("item")}},
	{"PUT",    "/api/cart/items/{itemId}",           "multistore.cart_set_item",     ACCESS_USER,    200, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, PATH("itemId", "item_id", TYPE_UUID), BODY("item")}},
	{"DELETE", "/api/cart/items/{itemId}",           "multistore.cart_remove_item",  ACCESS_USER,    200, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, PATH("itemId", "item_id", TYPE_UUID)}},
	{"DELETE", "/api/cart/clear",                    "multistore.cart_clear",        ACCESS_USER,    200, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION}},

	/* orders (order_place answers with its own status: replays, stored refusals) */
	{"POST",   "/api/orders",                        "multistore.order_place",       ACCESS_USER,    201, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, HEADER("Idempotency-Key", "idempotency_key"), BODY("order_request")}},
	{"GET",    "/api/orders",                        "multistore.orders_list",       ACCESS_USER,    200, CACHE_NO_STORE,     RATE_READ, 0,     NULL,
		{SESSION, QUERY("cursor", "cursor", TYPE_TEXT, OPTIONAL), QUERY("limit", "max_results", TYPE_INTEGER, OPTIONAL)}},
	{"GET",    "/api/orders/{orderId}",              "multistore.order_get",         ACCESS_USER,    200, CACHE_NO_STORE,     RATE_READ, 0,     NULL,
		{SESSION, PATH("orderId", "order_id", TYPE_UUID)}},
	{"PUT",    "/api/orders/{orderId}/status",       "multistore.order_set_status",  ACCESS_MANAGER, 200, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, PATH("orderId", "order_id", TYPE_UUID), BODY("change")}},
	{"POST",   "/api/orders/{orderId}/cancel",       "multistore.order_cancel",      ACCESS_USER,    200, CACHE_NO_STORE,     RATE_WRITE, 0,     NULL,
		{SESSION, PATH("orderId", "order_id", TYPE_UUID)}},
	{"GET",    "/api/stores/{storeId}/orders",       "multistore.store_orders",      ACCESS_MANAGER, 200, CACHE_NO_STORE,     RATE_READ, 0,     NULL,
		{SESSION, PATH("storeId", "store_id", TYPE_ID), QUERY("status", "status", TYPE_TEXT, OPTIONAL),
		 QUERY("cursor", "cursor", TYPE_TEXT, OPTIONAL), QUERY("limit", "max_results", TYPE_INTEGER, OPTIONAL)}},

	/* real time: a ticket for browsers, then a WebSocket or an event stream (handlers_realtime.c) */
	{"POST",   "/api/realtime/ticket",               "multistore.realtime_ticket_issue", ACCESS_USER, 201, CACHE_NO_STORE, RATE_WRITE, 0,     NULL,
		{SESSION}},
	{"GET",    "/ws",                                "multistore.realtime_authorize", ACCESS_REALTIME, 101, CACHE_NO_STORE, RATE_READ, 0,  HandleRealtimeWs,
		{SESSION, QUERY("ticket", "ticket", TYPE_TEXT, OPTIONAL), QUERY("since", "since", TYPE_TEXT, OPTIONAL),
		 QUERY("stores", "stores", TYPE_LIST, OPTIONAL)}},
	{"GET",    "/api/events",                        "multistore.realtime_authorize", ACCESS_REALTIME, 200, CACHE_NO_STORE, RATE_READ, 0,  HandleRealtimeEvents,
		{SESSION, QUERY("ticket", "ticket", TYPE_TEXT, OPTIONAL), QUERY("since", "since", TYPE_TEXT, OPTIONAL),
		 QUERY("stores", "stores", TYPE_LIST, OPTIONAL)}},

	/* webhooks */
	{"POST",   "/webhooks/payment",                  "multistore.payment_apply",     ACCESS_PAYMENT, 200, CACHE_NO_STORE,     RATE_NONE, 65536, NULL,
		{BODY("event")}},
	/* Strapi's (the functions answer 200, or 202 for what they ignore or defer) */
	{"POST",   "/webhooks/product-updated",          "multistore.strapi_product_apply", ACCESS_STRAPI, 200, CACHE_NO_STORE,   RATE_NONE, 0,     NULL,
		{BODY("delivery")}},
	{"POST",   "/webhooks/inventory-updated",        "multistore.strapi_inventory_apply", ACCESS_STRAPI, 200, CACHE_NO_STORE, RATE_NONE, 0,     NULL,
		{BODY("delivery")}},
	{"POST",   "/webhooks/promotion-updated",        "multistore.strapi_promotion_apply", ACCESS_STRAPI, 200, CACHE_NO_STORE, RATE_NONE, 0,     NULL,
		{BODY("delivery")}},
};
/* clang-format on */

const size_t route_count = sizeof(routes) / sizeof(routes[0]);

/*
 * The routes a hot standby may answer (DATABASE_READ_URL): public reads of
 * what no caller has just written, where a few seconds of lag are harmless.
 * Whatever a user writes and reads back (auth, cart, orders, reservations)
 * stays on the primary.  Only public GET routes may be listed (checked at
 * start-up); the replica falls back to the primary when it is down or lags
 * more than REPLICA_MAX_LAG.
 */
const char *const replica_routes[] = {
	"GET /api/stores/nearby",
	"GET /api/stores/{storeId}",
	"GET /api/stores/{storeId}/availability",
};
const size_t replica_route_count = sizeof(replica_routes) / sizeof(replica_routes[0]);

/* A SQL identifier we are willing to paste: lower-case letters, digits, _ and one dot */
static bool
IsSqlName(const char *s, bool qualified)
{
	int dots = 0;

	if (s == NULL || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (const char *p = s; *p; p++)
	{
		if (*p == '.')
			dots++;
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	}
	return qualified ? dots == 1 : dots == 0;
}

/* The pattern with every {param} replaced by {}, to compare shapes */
static void
Shape(const char *pattern, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = pattern; *p && o + 3 < size; p++)
	{
		if (*p == '{')
		{
			out[o++] = '{';
			out[o++] = '}';
			p = strchr(p, '}');
		}
		else
			out[o++] = *p;
	}
	out[o] = '\0';
}

/* Does the pattern hold {name}? */
static bool
PatternHasParam(const char *pattern, const char *name)
{
	char needle[80];

	snprintf(needle, sizeof(needle), "{%s}", name);
	return strstr(pattern, needle) != NULL;
}

static size_t
PatternParamCount(const char *pattern)
{
	size_t n = 0;

	for (const char *p = pattern; *p; p++)
		n += *p == '{';
	return n;
}

CompiledRoute *
RoutesCompile(const Route *table, size_t n, char *err, size_t errlen)
{
	CompiledRoute *compiled = calloc(n, sizeof(CompiledRoute));

	for (size_t i = 0; i < n; i++)
	{
		const Route *r = &table[i];
		char		 shape[256];
		char		 sql[1024];
		size_t		 len;
		size_t		 path_args = 0;
		int			 k = 0;

		if (!RouterPatternIsValid(r->pattern))
		{
			snprintf(err, errlen, "route table: bad pattern \"%s\"", r->pattern);
			goto fail;
		}
		Shape(r->pattern, shape, sizeof(shape));
		for (size_t j = 0; j < i; j++)
		{
			char other[256];

			Shape(table[j].pattern, other, sizeof(other));
			if (strcmp(table[j].method, r->method) == 0 && strcmp(other, shape) == 0)
			{
				snprintf(err, errlen, "route table: %s %s duplicates %s %s", r->method, r->pattern,
						 table[j].method, table[j].pattern);
				goto fail;
			}
		}
		if (r->function == NULL)
		{
			if (r->handler == NULL)
			{
				snprintf(err, errlen, "route table: %s %s has neither function nor handler", r->method,
						 r->pattern);
				goto fail;
			}
			continue;
		}
		if (!IsSqlName(r->function, true))
		{
			snprintf(err, errlen, "route table: bad function name \"%s\"", r->function);
			goto fail;
		}

		len = (size_t) snprintf(sql, sizeof(sql), "SELECT * FROM %s(", r->function);
		for (const RouteArg *a = r->args; a->source != ARG_NONE; a++)
		{
			if (!IsSqlName(a->sql_name, false))
			{
				snprintf(err, errlen, "route table: %s %s: bad argument name \"%s\"", r->method, r->pattern,
						 a->sql_name ? a->sql_name : "(null)");
				goto fail;
			}
			if (a->source == ARG_PATH)
			{
				path_args++;
				if (!PatternHasParam(r->pattern, a->name))
				{
					snprintf(err, errlen, "route table: %s %s has no {%s}", r->method, r->pattern, a->name);
					goto fail;
				}
			}
			k++;
			len +=
				(size_t) snprintf(sql + len, sizeof(sql) - len,
								  a->type == TYPE_LIST ? "%s%s => string_to_array($%d, ',')" : "%s%s => $%d",
								  k > 1 ? ", " : "", a->sql_name, k);
		}
		if (path_args != PatternParamCount(r->pattern))
		{
			snprintf(err, errlen, "route table: %s %s binds %zu of its path parameters", r->method,
					 r->pattern, path_args);
			goto fail;
		}
		snprintf(sql + len, sizeof(sql) - len, ")");
		compiled[i].sql = strdup(sql);
		compiled[i].nparams = k;
		snprintf(compiled[i].statement, sizeof(compiled[i].statement), "r%u", (unsigned) (i % 100000));
	}
	return compiled;

fail:
	RoutesFree(compiled, n);
	return NULL;
}

bool
RoutesMarkReplica(const Route *table, size_t n, CompiledRoute *compiled, const char *const *list,
				  size_t nlist, char *err, size_t errlen)
{
	for (size_t k = 0; k < nlist; k++)
	{
		const char *space = strchr(list[k], ' ');
		bool		found = false;

		for (size_t i = 0; space != NULL && i < n; i++)
		{
			const Route *r = &table[i];

			if (strlen(r->method) != (size_t) (space - list[k]) ||
				strncmp(r->method, list[k], (size_t) (space - list[k])) != 0 ||
				strcmp(r->pattern, space + 1) != 0)
				continue;
			if (strcmp(r->method, "GET") != 0 || r->access != ACCESS_PUBLIC || r->function == NULL)
			{
				snprintf(err, errlen, "replica routes: %s is not a public GET route with a SQL function",
						 list[k]);
				return false;
			}
			compiled[i].replica = true;
			found = true;
		}
		if (!found)
		{
			snprintf(err, errlen, "replica routes: %s is not in the route table", list[k]);
			return false;
		}
	}
	return true;
}

void
RoutesFree(CompiledRoute *compiled, size_t n)
{
	if (compiled == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(compiled[i].sql);
	free(compiled);
}
