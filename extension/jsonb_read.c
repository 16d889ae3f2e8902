/*-------------------------------------------------------------------------
 *
 * jsonb_read.c
 *	  Typed, validated access to members of a jsonb request body.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "jsonb_read.h"

JsonbContainer *
JrBody(FunctionCallInfo fcinfo, int argno)
{
	Jsonb *body;

	if (PG_ARGISNULL(argno))
		MsInvalidArgument("body", "is required");
	body = PG_GETARG_JSONB_P(argno);
	if (!JsonContainerIsObject(&body->root))
		MsInvalidArgument("body", "must be a JSON object");
	return &body->root;
}

bool
JrIsObject(JsonbContainer *c)
{
	return JsonContainerIsObject(c);
}

bool
JrGet(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out) != NULL;
}

/*
 * JrRejectUnknown catches misspelt fields, which would otherwise be ignored
 * silently and leave the caller wondering why nothing changed.
 */
void
JrRejectUnknown(MsValidation *v, JsonbContainer *obj, const char *prefix, const char *const *allowed)
{
	JsonbIterator	  *it = JsonbIteratorInit(obj);
	JsonbValue		   val;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
	{
		const char *const *a;
		char			  *key;
		bool			   known = false;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(val.val.string.val, val.val.string.len);
		for (a = allowed; *a != NULL; a++)
		{
			if (strcmp(*a, key) == 0)
			{
				known = true;
				break;
			}
		}
		if (!known)
			MsValidationAdd(v, prefix ? psprintf("%s.%s", prefix, key) : key, "is not a known field");
	}
}

/* Shared head of the typed readers: presence and the required rule */
static bool
JrPresent(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required,
		  JsonbValue *out)
{
	if (!JrGet(obj, key, out) || out->type == jbvNull)
	{
		if (required)
			MsValidationAdd(v, path, "is required");
		return false;
	}
	return true;
}

bool
JrText(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required, int max_length,
	   char **out)
{
	JsonbValue val;
	char	  *text;
	int		   chars;

	if (!JrPresent(v, obj, key, path, required, &val))
		return false;
	if (val.type != jbvString)
	{
		MsValidationAdd(v, path, "must be a string");
		return false;
	}
	text = pnstrdup(val.val.string.val, val.val.string.len);
	chars = pg_mbstrlen_with_len(text, val.val.string.len);
	if (chars == 0 && required)
	{
		MsValidationAdd(v, path, "must not be empty");
		return false;
	}
	if (chars > max_length)
	{
		MsValidationAdd(v, path, "must be at most %d characters", max_length);
		return false;
	}
	*out = text;
	return true;
}

bool
JrNumber(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required, double *out)
{
	JsonbValue val;

	if (!JrPresent(v, obj, key, path, required, &val))
		return false;
	if (val.type != jbvNumeric)
	{
		MsValidationAdd(v, path, "must be a number");
		return false;
	}
	/*
	 * As float8: numeric_float8 would raise out of range for 1e-400 or
	 * 1e400 without naming the field; such a number is a bad field instead.
	 */
	{
		char  *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(val.val.numeric)));
		double d;

		errno = 0;
		d = strtod(text, NULL);
		if (!isfinite(d) || (errno == ERANGE && d == 0.0))
		{
			MsValidationAdd(v, path, "must be a number within range");
			return false;
		}
		*out = d;
	}
	return true;
}

bool
JrBool(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required, bool *out)
{
	JsonbValue val;

	if (!JrPresent(v, obj, key, path, required, &val))
		return false;
	if (val.type != jbvBool)
	{
		MsValidationAdd(v, path, "must be true or false");
		return false;
	}
	*out = val.val.boolean;
	return true;
}

bool
JrContainer(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required,
			bool want_object, JsonbContainer **out)
{
	JsonbValue val;

	if (!JrPresent(v, obj, key, path, required, &val))
		return false;
	if (val.type != jbvBinary || (want_object ? !JsonContainerIsObject(val.val.binary.data)
											  : !JsonContainerIsArray(val.val.binary.data)))
	{
		MsValidationAdd(v, path, want_object ? "must be an object" : "must be an array");
		return false;
	}
	*out = val.val.binary.data;
	return true;
}
