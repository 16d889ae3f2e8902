/*-------------------------------------------------------------------------
 *
 * jsonb_read.h
 *	  Reading typed fields out of a jsonb request body, recording every bad
 *	  field in a validation instead of failing on the first.
 *
 * "path" arguments are the field names a client sees in the error
 * ("location.latitude", "openingHours.monday[0].opens").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_JSONB_READ_H
#define MULTISTORE_JSONB_READ_H

#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "errors.h"

/*
 * JrBody is the request body in argument argno: validation_failed for
 * "body" when it is NULL or not a JSON object.
 */
extern JsonbContainer *JrBody(FunctionCallInfo fcinfo, int argno);

/* Is the container a JSON object (not an array or scalar)? */
extern bool JrIsObject(JsonbContainer *c);

/* A member of an object, or NULL when it is absent; JSON null counts as present */
extern bool JrGet(JsonbContainer *obj, const char *key, JsonbValue *out);

/* Records an error for every key of obj not in the NULL-terminated list */
extern void JrRejectUnknown(MsValidation *v, JsonbContainer *obj, const char *prefix,
							const char *const *allowed);

/*
 * Typed readers: return true and set *out when the member is present and
 * well typed; return false when it is absent (recording "is required" if
 * required) or badly typed (recording what was expected).
 */
extern bool JrText(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required,
				   int max_length, char **out);
extern bool JrNumber(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required,
					 double *out);
extern bool JrBool(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required,
				   bool *out);
extern bool JrContainer(MsValidation *v, JsonbContainer *obj, const char *key, const char *path,
						bool required, bool want_object, JsonbContainer **out);

/* An ISO 8601 time with a zone (2026-11-25T01:48:38.669Z); false when it is not one */
extern bool JrParseTimestamp(const char *text, TimestampTz *out);

/* A member holding such a time */
extern bool JrTimestamp(MsValidation *v, JsonbContainer *obj, const char *key, const char *path,
						bool required, TimestampTz *out);

/* A member holding an amount of money from 0 to 9999999999.99, exactly as written */
extern bool JrMoney(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required,
					Numeric *out);

#endif /* MULTISTORE_JSONB_READ_H */
