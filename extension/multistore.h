/*-------------------------------------------------------------------------
 *
 * multistore.h
 *	  What the concerns of the extension share: their Init functions, kept
 *	  SPI plans and the id rules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_H
#define MULTISTORE_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"

/* the Makefile passes EXTVERSION; the fallback is for tools that parse this header alone */
#ifndef MULTISTORE_VERSION
#define MULTISTORE_VERSION "0.2.0"
#endif

/* Store and product ids: opaque text, safe in URLs and logs */
#define MS_ID_MAX_LENGTH 64

/* One Init per concern, called from _PG_init */
extern void StoresInit(void);
extern void PasswordsInit(void);
extern void SessionsInit(void);

/*
 * MsPlan prepares sql once per backend and keeps the plan; *cache holds it
 * between calls.  Call inside SPI_connect.
 */
extern SPIPlanPtr MsPlan(SPIPlanPtr *cache, const char *sql, int nargs, Oid *argtypes);

/* Runs a kept plan and fails on any SPI error; returns SPI_processed */
extern uint64 MsExecute(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count);

/* A copy of a varlena made inside SPI that outlives SPI_finish */
extern Datum MsSpiCopy(Datum varlena);

/* Is text a well-formed store or product id? */
extern bool MsIdIsValid(const char *id);

/* The text of a column of SPI_tuptable's row "row", or NULL */
extern char *MsColumnText(uint64 row, int column);

/*
 * The row (status, body, replayed) of a function that decides its HTTP
 * status itself (replays, refusals that must commit), inside SPI: call it
 * before SPI_finish, which frees the memory it was built in.
 */
extern Datum MsDecidedRow(FunctionCallInfo fcinfo, int status, const char *body, bool replayed);

#endif /* MULTISTORE_H */
