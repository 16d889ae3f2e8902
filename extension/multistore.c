/*-------------------------------------------------------------------------
 *
 * multistore.c
 *	  Module entry: the magic block and _PG_init, which lets each concern
 *	  define its GUCs; plus the SPI plan cache every concern uses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"

#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "events.h"
#include "inventory.h"
#include "json_build.h"
#include "reservations.h"

#include "multistore.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void
_PG_init(void)
{
	StoresInit();
	PasswordsInit();
	SessionsInit();
	InventoryInit();
	ReservationsInit();
	EventsInit();

	MarkGUCPrefixReserved("multistore");
}

/*
 * MsPlan prepares with a generic plan forced: our statements are fixed and
 * written for it, and planning them anew on every call (what the plan cache
 * does while custom plans look cheaper) cost a tenth of a nearby search.
 * A statement whose generic plan would be bad must not use a parameter
 * where the planner needs a value (see the nearby search's LIMIT).
 */
SPIPlanPtr
MsPlan(SPIPlanPtr *cache, const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr plan;

	if (*cache != NULL)
		return *cache;
	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	*cache = plan;
	return plan;
}

uint64
MsExecute(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	int rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * MsIdIsValid: 1..64 characters of [A-Za-z0-9_.:-].  Strapi's documentIds
 * and the sample data's "store_1" both fit.
 */
bool
MsIdIsValid(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > MS_ID_MAX_LENGTH)
		return false;
	for (const char *p = id; *p; p++)
	{
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
				  (*p != '\0' && strchr("_.:-", *p) != NULL);

		if (!ok)
			return false;
	}
	return true;
}

Datum
MsSpiCopy(Datum varlena)
{
	Size  size = VARSIZE_ANY(DatumGetPointer(varlena));
	void *copy = SPI_palloc(size);

	memcpy(copy, DatumGetPointer(varlena), size);
	return PointerGetDatum(copy);
}

char *
MsColumnText(uint64 row, int column)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column);
}

Datum
MsDecidedRow(FunctionCallInfo fcinfo, int status, const char *body, bool replayed)
{
	TupleDesc tupdesc;
	Datum	  values[3];
	bool	  nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "a function deciding its status must return a row (status, body, replayed)");
	values[0] = Int32GetDatum(status);
	values[1] = CStringGetTextDatum(body);
	values[2] = BoolGetDatum(replayed);
	/* built in SPI's memory, which SPI_finish frees: SPI_returntuple copies it out */
	return PointerGetDatum(SPI_returntuple(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls), tupdesc));
}

/*
 * health() answers {"db":"ok","extensionVersion":...,"libraryVersion":...}:
 * the version installed in this database and the version of the loaded
 * library, which differ between `make install` and ALTER EXTENSION UPDATE.
 */
PG_FUNCTION_INFO_V1(ms_health);
Datum
ms_health(PG_FUNCTION_ARGS)
{
	JsonWriter w;
	char	  *installed = NULL;

	JwInit(&w);
	SPI_connect();
	if (SPI_execute("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'multistore'", true, 1) ==
			SPI_OK_SELECT &&
		SPI_processed == 1)
		installed = MsColumnText(0, 1);
	JwObjectStart(&w, NULL);
	JwString(&w, "db", "ok");
	JwStringOrNull(&w, "extensionVersion", installed);
	JwString(&w, "libraryVersion", MULTISTORE_VERSION);
	JwObjectEnd(&w);
	SPI_finish();
	PG_RETURN_DATUM(JwFinish(&w));
}
