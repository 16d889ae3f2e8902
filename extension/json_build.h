/*-------------------------------------------------------------------------
 *
 * json_build.h
 *	  A small streaming JSON writer over a StringInfo, for response bodies.
 *
 * API functions return the response body itself, so the proxy passes it on
 * unchanged.  Writing it straight into a buffer is both the simplest and the
 * fastest way; every string goes through escape_json.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_JSON_BUILD_H
#define MULTISTORE_JSON_BUILD_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#define JW_MAX_DEPTH 16

typedef struct JsonWriter
{
	StringInfoData buf;
	int			   depth;
	bool		   need_comma[JW_MAX_DEPTH];
} JsonWriter;

/* key is NULL for array elements and for the top-level value */
extern void JwInit(JsonWriter *w);
extern void JwObjectStart(JsonWriter *w, const char *key);
extern void JwObjectEnd(JsonWriter *w);
extern void JwArrayStart(JsonWriter *w, const char *key);
extern void JwArrayEnd(JsonWriter *w);
extern void JwString(JsonWriter *w, const char *key, const char *value);
extern void JwStringOrNull(JsonWriter *w, const char *key, const char *value);
extern void JwBool(JsonWriter *w, const char *key, bool value);
extern void JwNull(JsonWriter *w, const char *key);
extern void JwInt(JsonWriter *w, const char *key, int64 value);
extern void JwFloat(JsonWriter *w, const char *key, double value);
extern void JwTimestamp(JsonWriter *w, const char *key, TimestampTz value);
extern void JwRaw(JsonWriter *w, const char *key, const char *json);

/* The finished document as a json Datum */
extern Datum JwFinish(JsonWriter *w);

/* A string as a JSON string literal, quotes included */
extern char *MsJsonQuote(const char *s);

/* ISO 8601 in UTC with millisecond precision, e.g. 2026-11-25T13:00:00.000Z */
extern char *MsTimestampText(TimestampTz ts);

#endif /* MULTISTORE_JSON_BUILD_H */
