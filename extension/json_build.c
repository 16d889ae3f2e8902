/*-------------------------------------------------------------------------
 *
 * json_build.c
 *	  A small streaming JSON writer over a StringInfo.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"

#include "json_build.h"

/*
 * JwInit starts an empty document in the current memory context.
 */
void
JwInit(JsonWriter *w)
{
	initStringInfo(&w->buf);
	w->depth = 0;
	w->need_comma[0] = false;
}

/* Comma and key before a value; the key is escaped */
static void
JwPrefix(JsonWriter *w, const char *key)
{
	if (w->need_comma[w->depth])
		appendStringInfoChar(&w->buf, ',');
	w->need_comma[w->depth] = true;
	if (key != NULL)
	{
		escape_json(&w->buf, key);
		appendStringInfoChar(&w->buf, ':');
	}
}

static void
JwOpen(JsonWriter *w, const char *key, char bracket)
{
	JwPrefix(w, key);
	appendStringInfoChar(&w->buf, bracket);
	if (w->depth + 1 >= JW_MAX_DEPTH)
		elog(ERROR, "json writer nested too deeply");
	w->need_comma[++w->depth] = false;
}

void
JwObjectStart(JsonWriter *w, const char *key)
{
	JwOpen(w, key, '{');
}

void
JwObjectEnd(JsonWriter *w)
{
	w->depth--;
	appendStringInfoChar(&w->buf, '}');
}

void
JwArrayStart(JsonWriter *w, const char *key)
{
	JwOpen(w, key, '[');
}

void
JwArrayEnd(JsonWriter *w)
{
	w->depth--;
	appendStringInfoChar(&w->buf, ']');
}

void
JwString(JsonWriter *w, const char *key, const char *value)
{
	JwPrefix(w, key);
	escape_json(&w->buf, value);
}

void
JwStringOrNull(JsonWriter *w, const char *key, const char *value)
{
	if (value == NULL)
		JwNull(w, key);
	else
		JwString(w, key, value);
}

void
JwBool(JsonWriter *w, const char *key, bool value)
{
	JwPrefix(w, key);
	appendStringInfoString(&w->buf, value ? "true" : "false");
}

void
JwNull(JsonWriter *w, const char *key)
{
	JwPrefix(w, key);
	appendStringInfoString(&w->buf, "null");
}

void
JwInt(JsonWriter *w, const char *key, int64 value)
{
	JwPrefix(w, key);
	appendStringInfo(&w->buf, INT64_FORMAT, value);
}

/*
 * JwFloat writes the shortest text that reads back as the same double, as
 * float8out does; JSON has no NaN or infinity, so those become null.
 */
void
JwFloat(JsonWriter *w, const char *key, double value)
{
	char *text;

	JwPrefix(w, key);
	if (isnan(value) || isinf(value))
	{
		appendStringInfoString(&w->buf, "null");
		return;
	}
	text = float8out_internal(value);
	appendStringInfoString(&w->buf, text);
	pfree(text);
}

void
JwTimestamp(JsonWriter *w, const char *key, TimestampTz value)
{
	char *text = MsTimestampText(value);

	JwString(w, key, text);
	pfree(text);
}

/*
 * JwRaw inserts a value that is already valid JSON text.
 */
void
JwRaw(JsonWriter *w, const char *key, const char *json)
{
	JwPrefix(w, key);
	appendStringInfoString(&w->buf, json);
}

Datum
JwFinish(JsonWriter *w)
{
	Assert(w->depth == 0);
	return PointerGetDatum(cstring_to_text_with_len(w->buf.data, w->buf.len));
}

/*
 * MsTimestampText renders a timestamptz in UTC, independent of the session's
 * TimeZone, so every client sees the same form.
 */
char *
MsTimestampText(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		 fsec;

	if (TIMESTAMP_NOT_FINITE(ts) || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour,
					tm.tm_min, tm.tm_sec, (int) (fsec / 1000));
}

char *
MsJsonQuote(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}
