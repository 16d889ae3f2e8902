/*-------------------------------------------------------------------------
 *
 * errors.c
 *	  Validation errors that name every bad field.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/json.h"

#include "errors.h"

/*
 * MsValidationInit prepares an empty validation in the current memory context.
 */
void
MsValidationInit(MsValidation *v)
{
	initStringInfo(&v->fields);
	v->names = NIL;
	v->count = 0;
	v->first = NULL;
}

/*
 * MsValidationHas tells whether a field already has an error, so checks that
 * depend on an earlier one (range after type) can be skipped.
 */
bool
MsValidationHas(MsValidation *v, const char *field)
{
	ListCell *lc;

	foreach (lc, v->names)
	{
		if (strcmp((const char *) lfirst(lc), field) == 0)
			return true;
	}
	return false;
}

/*
 * MsValidationAdd records what is wrong with one field; a field keeps only
 * its first error.
 */
void
MsValidationAdd(MsValidation *v, const char *field, const char *fmt, ...)
{
	StringInfoData message;

	if (MsValidationHas(v, field))
		return;
	/*
	 * Past MS_VALIDATION_MAX_FIELDS named fields the rest are only counted:
	 * the list of names stays short, so a body of a hundred thousand unknown
	 * keys costs no quadratic search (the message says how many more).
	 */
	if (v->count >= MS_VALIDATION_MAX_FIELDS)
	{
		v->count++;
		return;
	}

	initStringInfo(&message);
	for (;;)
	{
		va_list args;
		int		needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&message, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&message, needed);
	}

	if (v->count > 0)
		appendStringInfoChar(&v->fields, ',');
	escape_json(&v->fields, field);
	appendStringInfoChar(&v->fields, ':');
	escape_json(&v->fields, message.data);
	if (v->count == 0)
		v->first = psprintf("%s %s", field, message.data);
	v->names = lappend(v->names, pstrdup(field));
	v->count++;
	pfree(message.data);
}

/*
 * MsValidationCheck raises validation_failed when any field was bad.
 */
void
MsValidationCheck(MsValidation *v)
{
	if (v->count == 0)
		return;
	ereport(ERROR, (errcode(ERRCODE_MS_BAD_REQUEST),
					v->count == 1 ? errmsg("invalid input: %s", v->first)
								  : errmsg("invalid input: %s (and %d more)", v->first, v->count - 1),
					errdetail_internal("{\"code\":\"validation_failed\",\"fields\":{%s}}", v->fields.data)));
}

/*
 * MsInvalidArgument raises validation_failed for a single field.
 */
void
MsInvalidArgument(const char *field, const char *fmt, ...)
{
	MsValidation   v;
	StringInfoData message;

	initStringInfo(&message);
	for (;;)
	{
		va_list args;
		int		needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&message, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&message, needed);
	}
	MsValidationInit(&v);
	MsValidationAdd(&v, field, "%s", message.data);
	MsValidationCheck(&v);
	pg_unreachable();
}
