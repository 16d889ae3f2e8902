/*
 * handlers.c
 *	  The routes the proxy answers itself.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "handlers.h"
#include "request.h"

/*
 * HandleHealth calls multistore.health() and answers
 * {"status":"ok","db":"ok","version":...,"extensionVersion":...}; when the
 * database cannot be reached it answers 503 with the same shape and the
 * error, quickly, since the pool fails fast during an outage.
 */
int
HandleHealth(struct Request *req)
{
	Server	   *server = req->server;
	DbConn	   *conn = DbAcquire(server->pool, 2000);
	DbResult	result = {0};
	json_t	   *body;
	json_t	   *db = NULL;
	char	   *text;
	int			status;
	enum MHD_Result ret;

	if (conn)
	{
		DbCall(server->pool, conn, req->route, NULL, &result);
		if (result.status == DB_DOWN && !result.reconnected)
			DbCall(server->pool, conn, req->route, NULL, &result);
		DbRelease(server->pool, conn);
	}
	if (result.status == DB_OK)
		db = json_loads(PQgetvalue(result.result, 0, 0), 0, NULL);
	DbResultClear(&result);

	if (json_is_object(db))
	{
		status = 200;
		body = json_pack("{s:s,s:s,s:s,s:O}",
						 "status", "ok",
						 "db", "ok",
						 "version", PROXY_VERSION,
						 "extensionVersion",
						 json_object_get(db, "extensionVersion") ?
						 json_object_get(db, "extensionVersion") : json_null());
	}
	else
	{
		status = 503;
		body = json_pack("{s:s,s:s,s:s,s:n,s:{s:s,s:s,s:{}},s:s}",
						 "status", "unavailable",
						 "db", "unreachable",
						 "version", PROXY_VERSION,
						 "extensionVersion",
						 "error", "code", "unavailable",
						 "message", "the database is unreachable",
						 "details",
						 "requestId", req->request_id);
	}
	json_decref(db);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	ret = RespondJson(req, status, text, strlen(text));
	free(text);
	return ret;
}
