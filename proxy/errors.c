/*
 * errors.c
 *	  SQLSTATE to HTTP in one table, and the error body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "params.h"

/* Standard SQLSTATEs a call can end with, most specific first */
static const struct
{
	const char *prefix; /* whole state or class */
	int			status;
	const char *code;
	const char *message;
} sqlstate_map[] = {
	{"23505", 409, "conflict", "the request conflicts with existing data"},
	{"23503", 409, "conflict", "the request refers to data that does not exist"},
	{"40001", 503, "unavailable", "the database was busy; retry the request"},
	{"40P01", 503, "unavailable", "the database was busy; retry the request"},
	{"57014", 503, "unavailable", "the request took too long"},
	{"57P01", 503, "unavailable", "the database is restarting"},
	{"57P02", 503, "unavailable", "the database is restarting"},
	{"57P03", 503, "unavailable", "the database is starting up"},
	{"25006", 503, "unavailable", "the database is read-only right now"},
	{"22", 400, "validation_failed", "a value in the request is invalid"},
	{"23", 400, "validation_failed", "the request breaks a data rule"},
	{"08", 503, "unavailable", "the database is unreachable"},
	{"53", 503, "unavailable", "the database is out of resources"},
};

const char *
ErrorDefaultCode(int status)
{
	switch (status)
	{
		case 400:
			return "validation_failed";
		case 401:
			return "unauthorized";
		case 403:
			return "forbidden";
		case 404:
			return "not_found";
		case 405:
			return "method_not_allowed";
		case 409:
			return "conflict";
		case 413:
			return "payload_too_large";
		case 415:
			return "unsupported_media_type";
		case 422:
			return "unprocessable";
		case 429:
			return "rate_limited";
		case 503:
			return "unavailable";
		default:
			return "internal";
	}
}

/*
 * Copies a code into err, cut where it fits: on a character boundary, as
 * ErrorBody's json_pack refuses text that is not UTF-8 (and RespondError
 * would then have no body to send).
 */
static void
SetCode(ApiError *err, const char *code)
{
	size_t len = strlen(code);

	if (len >= sizeof(err->code))
	{
		len = sizeof(err->code) - 1;
		while (len > 0 && ((unsigned char) code[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(err->code, code, len);
	err->code[len] = '\0';
}

void
ErrorSet(ApiError *err, int status, const char *code, const char *message)
{
	ErrorClear(err);
	err->status = status;
	SetCode(err, code);
	err->message = strdup(message);
}

void
ErrorClear(ApiError *err)
{
	free(err->message);
	json_decref(err->details);
	memset(err, 0, sizeof(*err));
}

void
ErrorAddField(ApiError *err, const char *field, const char *message)
{
	json_t *fields;

	if (err->details == NULL)
		err->details = json_object();
	fields = json_object_get(err->details, "fields");
	if (fields == NULL)
	{
		fields = json_object();
		json_object_set_new(err->details, "fields", fields);
	}
	if (json_object_get(fields, field) == NULL)
		json_object_set_new(fields, field, json_string(message));
}

/* Is the state one of ours: M4nnn or M5nnn with a real status in its digits? */
static int
OwnStatus(const char *sqlstate)
{
	int status;

	if (strlen(sqlstate) != 5 || sqlstate[0] != 'M' || (sqlstate[1] != '4' && sqlstate[1] != '5'))
		return 0;
	for (int i = 2; i < 5; i++)
		if (sqlstate[i] < '0' || sqlstate[i] > '9')
			return 0;
	status = atoi(sqlstate + 2);
	if (status < 400 || status > 599 || (status / 100) != sqlstate[1] - '0')
		return 0;
	return status;
}

void
ErrorFromDatabase(ApiError *err, const char *sqlstate, const char *message, const char *detail,
				  bool had_token)
{
	int status;

	ErrorClear(err);
	if (sqlstate == NULL)
		sqlstate = "";

	if ((status = OwnStatus(sqlstate)) != 0)
	{
		json_t *parsed = detail ? json_loads(detail, 0, NULL) : NULL;
		json_t *code = json_is_object(parsed) ? json_object_get(parsed, "code") : NULL;

		err->status = status;
		err->message = strdup(message && *message ? message : "the request failed");
		SetCode(err, json_is_string(code) ? json_string_value(code) : ErrorDefaultCode(status));
		if (json_is_object(parsed))
		{
			/* details are DETAIL's members other than code */
			json_object_del(parsed, "code");
			err->details = parsed;
		}
		else
			json_decref(parsed);
		return;
	}

	if (strcmp(sqlstate, "42501") == 0)
	{
		ErrorSet(err, had_token ? 403 : 401, had_token ? "forbidden" : "unauthorized",
				 had_token ? "you may not do this" : "authentication required");
		return;
	}

	for (size_t i = 0; i < sizeof(sqlstate_map) / sizeof(sqlstate_map[0]); i++)
	{
		if (strncmp(sqlstate, sqlstate_map[i].prefix, strlen(sqlstate_map[i].prefix)) == 0)
		{
			ErrorSet(err, sqlstate_map[i].status, sqlstate_map[i].code, sqlstate_map[i].message);
			if (sqlstate_map[i].status == 503)
				err->retry_after = 1;
			return;
		}
	}
	ErrorSet(err, 500, "internal", "internal error");
}

char *
ErrorBody(const ApiError *err, const char *request_id)
{
	json_t *details = err->details ? json_deep_copy(err->details) : json_object();
	json_t *body;
	char   *text;

	const char *code = err->code[0] ? err->code : ErrorDefaultCode(err->status);
	const char *message = err->message ? err->message : "";

	/*
	 * jansson refuses text that is not UTF-8, and a message may quote what a
	 * client sent, cut mid-character: such text is replaced, so that an
	 * error always has a body.
	 */
	if (!Utf8IsValid(code, strlen(code)))
		code = ErrorDefaultCode(err->status);
	if (!Utf8IsValid(message, strlen(message)))
		message = "the request was refused (the reason held text that is not UTF-8)";
	body =
		json_pack("{s:{s:s,s:s,s:o},s:s}", "error", "code", code, "message", message, "details", details,
				  "requestId", request_id && Utf8IsValid(request_id, strlen(request_id)) ? request_id : "");
	if (body == NULL)
		body = json_pack("{s:{s:s,s:s,s:{}},s:s}", "error", "code", ErrorDefaultCode(err->status), "message",
						 "the request was refused", "details", "requestId", "");
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}
