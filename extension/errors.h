/*-------------------------------------------------------------------------
 *
 * errors.h
 *	  Raising multistore's errors: a SQLSTATE from errcodes.h, a human
 *	  message, and a DETAIL holding JSON with the stable code.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_ERRORS_H
#define MULTISTORE_ERRORS_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "errcodes.h"

/*
 * MsError raises an error whose DETAIL is {"code":"<code>"}.  The message is
 * for humans: lower case, no trailing period.
 */
#define MsError(sqlstate, code, ...)                                                                         \
	ereport(ERROR, (errcode(sqlstate), errmsg(__VA_ARGS__), errdetail_internal("{\"code\":\"%s\"}", (code))))

/*
 * MsErrorDetail is MsError with more members in DETAIL: "members" is a JSON
 * fragment such as "\"items\":[...]" (no braces), built with json_build.h.
 */
#define MsErrorDetail(sqlstate, code, members, ...)                                                          \
	ereport(ERROR, (errcode(sqlstate), errmsg(__VA_ARGS__),                                                  \
					errdetail_internal("{\"code\":\"%s\",%s}", (code), (members))))

/*
 * A validation collects every bad field of one call, so a caller learns about
 * all of them at once; MsValidationCheck raises validation_failed with
 * details {"fields":{"<field>":"<what is wrong>",...}} when any was added.
 */
/* details.fields names at most this many fields; the rest are counted */
#define MS_VALIDATION_MAX_FIELDS 100

typedef struct MsValidation
{
	StringInfoData fields; /* JSON members "field":"message" */
	List		  *names;  /* fields already reported */
	int			   count;
	char		  *first; /* "<field> <message>" of the first entry */
} MsValidation;

extern void MsValidationInit(MsValidation *v);
extern void MsValidationAdd(MsValidation *v, const char *field, const char *fmt, ...)
	pg_attribute_printf(3, 4);
extern bool MsValidationHas(MsValidation *v, const char *field);
extern void MsValidationCheck(MsValidation *v);

/* One bad argument: raise validation_failed for it right away */
extern void MsInvalidArgument(const char *field, const char *fmt, ...) pg_attribute_printf(2, 3)
	pg_attribute_noreturn();

#endif /* MULTISTORE_ERRORS_H */
