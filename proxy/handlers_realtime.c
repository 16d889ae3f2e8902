/*
 * handlers_realtime.c
 *	  GET /ws (WebSocket) and GET /api/events (Server-Sent Events): the
 *	  checks before a stream opens, then the hand-over to realtime.c.
 *
 * In order: the handshake's headers (400), the page's Origin (403), who is
 * asking, decided by the extension's realtime_authorize (a verified access
 * token's session, or a single-use ticket, or nobody watching named stores;
 * 401, 404), the per-user stream limit (429).  Then 101 and the socket goes
 * to the realtime thread, or 200 text/event-stream read from the client's
 * buffer.  Access tokens are never accepted in the URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "edge.h"
#include "handlers.h"
#include "realtime.h"
#include "request.h"

/* values[] of both routes, in the order of their arguments in routes.c */
enum
{
	ARG_SESSION_ID,
	ARG_TICKET,
	ARG_SINCE,
	ARG_STORES
};

/*
 * A page may open a stream when its origin is one of CORS_ORIGINS, or the
 * proxy's own; a client that is not a browser sends no Origin.
 */
static bool
OriginAllowed(Request *req)
{
	const char *origin = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Host");
	char		own[300];

	if (origin == NULL)
		return true;
	if (req->server->config.cors_origins && EdgeCorsAllows(req->server->config.cors_origins, origin))
		return true;
	if (host == NULL)
		return false;
	snprintf(own, sizeof(own), "http://%s", host);
	if (strcmp(origin, own) == 0)
		return true;
	snprintf(own, sizeof(own), "https://%s", host);
	return strcmp(origin, own) == 0;
}

/*
 * Authorize asks the extension who this is and makes the client, or
 * answers the refusal itself (returning NULL with *ret set).
 */
static RtClient *
Authorize(Request *req, const char *const *values, bool sse, enum MHD_Result *ret)
{
	Server	   *server = req->server;
	DbResult	result;
	json_t	   *answer, *user, *stores;
	RtIdentity	who;
	RtStores	watching = {0};
	int64_t		since = 0;
	bool		has_since = false;
	const char *last_event_id =
		sse ? MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Last-Event-ID") : NULL;
	RtClient *c;

	if (values[ARG_SINCE] && !RtParseEventId(values[ARG_SINCE], &since))
	{
		RequestFail(req, 400, "validation_failed", "since must be an event id");
		ErrorAddField(&req->error, "since", "must be an event id (0 or more)");
		*ret = RespondError(req);
		return NULL;
	}
	has_since = values[ARG_SINCE] != NULL;
	/* an EventSource reconnecting says where it was; that wins over the URL it was first given */
	if (last_event_id && RtParseEventId(last_event_id, &since))
		has_since = true;

	RequestRunSql(req, values, &result);
	if (result.status != DB_OK)
	{
		*ret = RespondDbFailure(req, &result);
		DbResultClear(&result);
		return NULL;
	}
	answer = json_loads(PQgetvalue(result.result, 0, 0), 0, NULL);
	DbResultClear(&result);
	memset(&who, 0, sizeof(who));
	user = json_object_get(answer, "user");
	if (json_is_object(user))
	{
		json_t *managed = json_object_get(user, "managedStores");

		who.signed_in = true;
		snprintf(who.user_id, sizeof(who.user_id), "%s", json_string_value(json_object_get(user, "id")));
		snprintf(who.session_id, sizeof(who.session_id), "%s",
				 json_string_value(json_object_get(user, "sessionId")));
		who.admin = json_string_value(json_object_get(user, "role")) &&
					strcmp(json_string_value(json_object_get(user, "role")), "admin") == 0;
		for (size_t i = 0; i < json_array_size(managed); i++)
			RtStoresAdd(&who.managed, json_string_value(json_array_get(managed, i)));
		snprintf(req->user_id, sizeof(req->user_id), "%s", who.user_id);
	}
	stores = json_object_get(answer, "stores");
	for (size_t i = 0; i < json_array_size(stores); i++)
		RtStoresAdd(&watching, json_string_value(json_array_get(stores, i)));
	json_decref(answer);

	c = RealtimeClientNew(server->realtime, &who, &watching, has_since, since, sse);
	RtStoresClear(&who.managed);
	RtStoresClear(&watching);
	if (c == NULL)
	{
		RequestFail(req, 429, "rate_limited", "too many realtime streams are open for this user");
		req->error.retry_after = 5;
		*ret = RespondError(req);
	}
	return c;
}

/* The checks both routes share; false when answered */
static bool
Precheck(Request *req, enum MHD_Result *ret)
{
	if (req->server->realtime == NULL)
	{
		RequestFail(req, 503, "unavailable", "realtime streams are not available");
		*ret = RespondError(req);
		return false;
	}
	if (!OriginAllowed(req))
	{
		RequestFail(req, 403, "forbidden", "pages of this origin may not open a stream (CORS_ORIGINS)");
		*ret = RespondError(req);
		return false;
	}
	return true;
}

int
HandleRealtimeWs(struct Request *req, const char *const *values)
{
	struct MHD_Connection *conn = req->connection;
	const char			  *upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
	const char			  *connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
	const char	   *version = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	const char	   *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	char			accept[29];
	enum MHD_Result ret = MHD_NO;
	struct MHD_Response *resp;
	RtClient			*c;

	if (!RtHeaderHasToken(upgrade, "websocket") || !RtHeaderHasToken(connection, "upgrade") ||
		version == NULL || strcmp(version, "13") != 0 || !RtWebSocketKeyIsValid(key))
	{
		RequestFail(
			req, 400, "validation_failed",
			"GET /ws is a WebSocket handshake (RFC 6455, version 13); use /api/events for a plain stream");
		ErrorAddField(&req->error, "upgrade",
					  "needs Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Version: 13 and a "
					  "Sec-WebSocket-Key");
		return RespondError(req);
	}
	if (!Precheck(req, &ret))
		return ret;
	c = Authorize(req, values, false, &ret);
	if (c == NULL)
		return ret;
	req->rt_client = c;
	RealtimeClientOwnedBy(c, &req->rt_client);
	RtWebSocketAccept(key, accept);
	resp = MHD_create_response_for_upgrade(RealtimeUpgraded, c);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	MHD_add_response_header(resp, "X-Request-Id", req->request_id);
	req->status = 101;
	ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return ret;
}

int
HandleRealtimeEvents(struct Request *req, const char *const *values)
{
	enum MHD_Result		 ret = MHD_NO;
	struct MHD_Response *resp;
	RtClient			*c;

	if (!Precheck(req, &ret))
		return ret;
	c = Authorize(req, values, true, &ret);
	if (c == NULL)
		return ret;
	/* a stream has no idle timeout of its own: heartbeats find dead peers */
	MHD_set_connection_option(req->connection, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int) 0);
	resp = RealtimeSseResponse(c, req->connection);
	if (resp == NULL)
	{
		RequestFail(req, 500, "internal", "internal error");
		return RespondError(req);
	}
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	req->content_type = "text/event-stream";
	return RequestQueue(req, 200, resp);
}
