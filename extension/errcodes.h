/*-------------------------------------------------------------------------
 *
 * errcodes.h
 *	  The SQLSTATEs multistore raises, one per HTTP status class.
 *
 * Class M4 is a client error, class M5 a server error; the last three
 * characters are the HTTP status the proxy answers with.  The stable,
 * machine-readable error code ("out_of_stock", "not_found", ...) travels in
 * the error's DETAIL as JSON: {"code":"...", ...more fields}.  docs/errors.md
 * is the registry of codes; keep both in step.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_ERRCODES_H
#define MULTISTORE_ERRCODES_H

#include "utils/elog.h"

#define ERRCODE_MS_BAD_REQUEST	 MAKE_SQLSTATE('M', '4', '4', '0', '0')
#define ERRCODE_MS_UNAUTHORIZED	 MAKE_SQLSTATE('M', '4', '4', '0', '1')
#define ERRCODE_MS_FORBIDDEN	 MAKE_SQLSTATE('M', '4', '4', '0', '3')
#define ERRCODE_MS_NOT_FOUND	 MAKE_SQLSTATE('M', '4', '4', '0', '4')
#define ERRCODE_MS_CONFLICT		 MAKE_SQLSTATE('M', '4', '4', '0', '9')
#define ERRCODE_MS_UNPROCESSABLE MAKE_SQLSTATE('M', '4', '4', '2', '2')
#define ERRCODE_MS_TOO_MANY		 MAKE_SQLSTATE('M', '4', '4', '2', '9')
#define ERRCODE_MS_INTERNAL		 MAKE_SQLSTATE('M', '5', '5', '0', '0')
#define ERRCODE_MS_UNAVAILABLE	 MAKE_SQLSTATE('M', '5', '5', '0', '3')

#endif /* MULTISTORE_ERRCODES_H */
