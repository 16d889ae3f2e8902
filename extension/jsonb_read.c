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
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include <ctype.h>

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

/* Days in a month of a year of the proleptic Gregorian calendar */
static int
DaysInMonth(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool			 leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * An ISO 8601 time with a zone, as Strapi and JavaScript write them:
 * 2026-11-25T01:48:38.669Z or ...+01:00.  Parsed here rather than by
 * timestamptz_in, whose errors would not name the field.
 */
bool
JrParseTimestamp(const char *text, TimestampTz *out)
{
	struct pg_tm tm = {0};
	int			 n = 0;
	fsec_t		 fsec = 0;
	int			 digits = 0;
	int			 tz = 0;
	const char	*p;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			   &tm.tm_min, &tm.tm_sec, &n) != 6 ||
		n != 19)
		return false;
	if (tm.tm_year < 1 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
		tm.tm_mday > DaysInMonth(tm.tm_year, tm.tm_mon) || tm.tm_hour > 23 || tm.tm_min > 59 ||
		tm.tm_sec > 59)
		return false;
	p = text + n;
	if (*p == '.')
	{
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6)
				fsec = fsec * 10 + (*p - '0');
		if (digits == 0)
			return false;
		for (int d = digits; d < 6; d++)
			fsec *= 10;
	}
	if (*p == 'Z' && p[1] == '\0')
		tz = 0;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' && isdigit((unsigned char) p[1]) &&
			 isdigit((unsigned char) p[2]) && isdigit((unsigned char) p[4]) && isdigit((unsigned char) p[5]))
	{
		int minutes = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 + (p[4] - '0') * 10 + (p[5] - '0');

		if (minutes > 18 * 60)
			return false;
		/* PostgreSQL counts zones in seconds west of Greenwich */
		tz = (*p == '+' ? -1 : 1) * minutes * 60;
	}
	else
		return false;
	return tm2timestamp(&tm, fsec, &tz, out) == 0;
}

bool
JrTimestamp(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required,
			TimestampTz *out)
{
	JsonbValue val;
	char	  *text;

	if (!JrPresent(v, obj, key, path, required, &val))
		return false;
	text = val.type == jbvString ? pnstrdup(val.val.string.val, val.val.string.len) : NULL;
	if (text == NULL || !JrParseTimestamp(text, out))
	{
		MsValidationAdd(v, path, "must be a time such as 2026-11-25T01:48:38.669Z");
		return false;
	}
	return true;
}

bool
JrMoney(MsValidation *v, JsonbContainer *obj, const char *key, const char *path, bool required, Numeric *out)
{
	JsonbValue val;
	Datum	   zero, limit;

	if (!JrPresent(v, obj, key, path, required, &val))
		return false;
	if (val.type != jbvNumeric)
	{
		MsValidationAdd(v, path, "must be a number such as 12.30");
		return false;
	}
	/* the JSON number as written, never through binary floating point */
	zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	limit = DirectFunctionCall3(numeric_in, CStringGetDatum("9999999999.995"), ObjectIdGetDatum(InvalidOid),
								Int32GetDatum(-1));
	if (!DatumGetBool(DirectFunctionCall2(numeric_ge, NumericGetDatum(val.val.numeric), zero)) ||
		!DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(val.val.numeric), limit)))
	{
		MsValidationAdd(v, path, "must be from 0 to 9999999999.99");
		return false;
	}
	*out = val.val.numeric;
	return true;
}
