/*
 * errors.h
 *	  The error contract of the proxy: the one table from SQLSTATE to HTTP
 *	  status and error code, and the error body every failure answers with.
 *
 * Pure functions, no I/O: tested in tests/proxy/test_errors.c.
 */
#ifndef PROXY_ERRORS_H
#define PROXY_ERRORS_H

#include <stdbool.h>

#include <jansson.h>

/* An error ready to answer: status, stable code, message, optional details */
typedef struct ApiError
{
	int		status;
	char	code[48];	 /* stable snake_case code */
	char   *message;	 /* owned */
	json_t *details;	 /* owned object, may be NULL */
	int		retry_after; /* seconds for Retry-After, 0 for none */
} ApiError;

/*
 * ErrorFromDatabase maps a failed call: sqlstate and, for multistore's own
 * M4xxx/M5xxx states, DETAIL's JSON {"code":..., ...} and the primary
 * message.  had_token decides 42501 (401 without a token, 403 with one).
 * Anything unmapped is 500 internal: every function is ours, so an
 * unmapped state is a bug to fix, not a status to guess.
 */
extern void ErrorFromDatabase(ApiError *err, const char *sqlstate, const char *message, const char *detail,
							  bool had_token);

/* A proxy-made error with a static code; message is copied */
extern void ErrorSet(ApiError *err, int status, const char *code, const char *message);

/* Adds details.fields[field] = message, for validation_failed */
extern void ErrorAddField(ApiError *err, const char *field, const char *message);

/* The body {"error":{code,message,details},"requestId":...}; caller frees */
extern char *ErrorBody(const ApiError *err, const char *request_id);

extern void ErrorClear(ApiError *err);

/* The default code of a status for proxy-made errors */
extern const char *ErrorDefaultCode(int status);

#endif /* PROXY_ERRORS_H */
