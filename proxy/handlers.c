/*
 * handlers.c
 *	  The routes the proxy answers itself.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "edge.h"
#include "handlers.h"
#include "jwt.h"
#include "log.h"
#include "realtime.h"
#include "request.h"

/*
 * CallHealth runs the route's call of multistore.health() on a pooled
 * connection (one fresh try when a pooled one turns out stale) and returns
 * its answer parsed, or NULL when the database cannot be reached.
 */
static json_t *
CallHealth(Request *req, const char *const *values, int wait_ms)
{
	Server	*server = req->server;
	DbConn	*conn = DbAcquire(server->pool, wait_ms);
	DbResult result = {0};
	json_t	*answer = NULL;

	if (conn)
	{
		DbCall(server->pool, conn, req->route, values, &result);
		if (result.status == DB_DOWN && !result.reconnected)
			DbCall(server->pool, conn, req->route, values, &result);
		DbRelease(server->pool, conn);
	}
	if (result.status == DB_OK)
		answer = json_loads(PQgetvalue(result.result, 0, 0), 0, NULL);
	DbResultClear(&result);
	return answer;
}

/*
 * HandleHealth calls multistore.health() and answers
 * {"status":"ok","db":"ok","version":...,"extensionVersion":...}; when the
 * database cannot be reached it answers 503 with the same shape and the
 * error, quickly, since the pool fails fast during an outage.
 */
int
HandleHealth(struct Request *req, const char *const *values)
{
	json_t		   *body;
	json_t		   *db = CallHealth(req, values, 2000);
	char		   *text;
	int				status;
	enum MHD_Result ret;

	if (json_is_object(db))
	{
		status = 200;
		body = json_pack(
			"{s:s,s:s,s:s,s:O}", "status", "ok", "db", "ok", "version", PROXY_VERSION, "extensionVersion",
			json_object_get(db, "extensionVersion") ? json_object_get(db, "extensionVersion") : json_null());
	}
	else
	{
		status = 503;
		body =
			json_pack("{s:s,s:s,s:s,s:n,s:{s:s,s:s,s:{}},s:s}", "status", "unavailable", "db", "unreachable",
					  "version", PROXY_VERSION, "extensionVersion", "error", "code", "unavailable", "message",
					  "the database is unreachable", "details", "requestId", req->request_id);
	}
	json_decref(db);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	ret = RespondJson(req, status, text, strlen(text));
	free(text);
	return ret;
}

/* Answers an error that the SQL call returned as {"error":{code,message}} */
static int
RespondReturnedError(Request *req, json_t *error)
{
	const char *code = json_string_value(json_object_get(error, "code"));
	const char *message = json_string_value(json_object_get(error, "message"));

	RequestFail(req, 401, code ? code : "invalid_token", message ? message : "the session has ended");
	return RespondError(req);
}

int
HandleSessionTokens(struct Request *req, const char *const *values)
{
	Server		   *server = req->server;
	DbResult		result;
	json_t		   *answer;
	json_t		   *user, *session;
	const char	   *user_id, *role, *session_id;
	char		   *access_token;
	char		   *text;
	json_t		   *body;
	struct timespec now;
	int				ret;

	RequestRunSql(req, values, &result);
	if (result.status != DB_OK)
	{
		ret = RespondDbFailure(req, &result);
		DbResultClear(&result);
		return ret;
	}
	answer = json_loads(PQgetvalue(result.result, 0, 0), 0, NULL);
	DbResultClear(&result);

	if (json_is_object(json_object_get(answer, "error")))
	{
		ret = RespondReturnedError(req, json_object_get(answer, "error"));
		json_decref(answer);
		return ret;
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
		LogWrite(LOG_ERROR, "session answer without user or session",
				 json_pack("{s:s}", "requestId", req->request_id));
		RequestFail(req, 500, "internal", "internal error");
		return RespondError(req);
	}

	clock_gettime(CLOCK_REALTIME, &now);
	access_token = JwtSign(&server->jwt, user_id, role, session_id, (long long) now.tv_sec,
						   server->config.access_token_ttl);
	snprintf(req->user_id, sizeof(req->user_id), "%s", user_id);
	body = json_pack("{s:O,s:s,s:s,s:i,s:O,s:O}", "user", user, "accessToken", access_token, "tokenType",
					 "Bearer", "expiresIn", server->config.access_token_ttl, "refreshToken",
					 json_object_get(session, "refreshToken"), "refreshTokenExpiresAt",
					 json_object_get(session, "refreshTokenExpiresAt"));
	text = json_dumps(body, JSON_COMPACT);
	ret = RespondJson(req, server->routes[req->route].status, text, strlen(text));
	free(text);
	free(access_token);
	json_decref(body);
	json_decref(answer);
	return ret;
}

/*
 * HandleMetrics answers GET /metrics in the Prometheus text format.  With
 * METRICS_ALLOW set, only those addresses may read it (403 for others).
 * The extension's version comes from multistore.health(); when the
 * database is down the metrics are still served, with version "unknown".
 */
int
HandleMetrics(struct Request *req, const char *const *values)
{
	Server					   *server = req->server;
	const char				   *allow = server->config.metrics_allow;
	json_t					   *health;
	MetricsGauges				g = {0};
	const union MHD_DaemonInfo *info;
	char					   *text;
	enum MHD_Result				ret;

	if (allow && !EdgeAddressInList(allow, req->remote_addr))
	{
		RequestFail(req, 403, "forbidden", "metrics are not served to this address");
		return RespondError(req);
	}
	health = CallHealth(req, values, 1000);

	g.proxy_version = PROXY_VERSION;
	g.extension_version = json_string_value(json_object_get(health, "extensionVersion"));
	g.db_pool_size = server->pool->size;
	g.db_pool_in_use = atomic_load(&server->pool->in_use);
	g.db_pool_waits = atomic_load(&server->pool->waits);
	g.db_pool_wait_seconds = (double) atomic_load(&server->pool->wait_us) / 1e6;
	g.replica = server->replica != NULL;
	if (server->replica)
	{
		int64_t lag = atomic_load(&server->replica->lag_ms);

		g.replica_lag_seconds = lag == DB_LAG_UNKNOWN ? -1 : (double) lag / 1000;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	g.http_connections = info ? info->num_connections : 0;
	{
		RealtimeStats rs;

		RealtimeGetStats(server->realtime, &rs);
		g.realtime_ws_clients = rs.ws_clients;
		g.realtime_sse_clients = rs.sse_clients;
		g.realtime_events_received = rs.events_received;
		g.realtime_events_delivered = rs.events_delivered;
		g.realtime_slow_dropped = rs.slow_dropped;
		g.realtime_listener_reconnects = rs.reconnects;
		g.realtime_listener_up = rs.listener_up ? 1 : 0;
	}
	text = MetricsRender(server->metrics, &g);
	json_decref(health);
	if (text == NULL)
	{
		RequestFail(req, 500, "internal", "internal error");
		return RespondError(req);
	}
	req->content_type = "text/plain; version=0.0.4; charset=utf-8";
	ret = RespondJson(req, 200, text, strlen(text));
	free(text);
	return ret;
}
