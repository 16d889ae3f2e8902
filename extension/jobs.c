/*-------------------------------------------------------------------------
 *
 * jobs.c
 *	  The periodic jobs, and scheduling them with pg_cron.
 *
 * pg_cron cannot be a requirement of the extension: it installs only in
 * the one database named by cron.database_name.  So the extension works
 * without it; jobs_schedule() schedules every job when pg_cron is in this
 * database, and otherwise says where it is and gives the statements to run
 * there (cron.schedule_in_database), which jobs_schedule_sql() returns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"

#include "errors.h"
#include "json_build.h"
#include "multistore.h"

typedef struct MsJob
{
	const char *name;
	const char *schedule; /* cron syntax; pg_cron 1.4 has minute granularity */
	const char *command;
} MsJob;

/* Every job of the extension, in one place */
static const MsJob jobs[] = {
	{"multistore-expire-orders", "* * * * *", "SELECT multistore.orders_expire()"},
	{"multistore-expire-reservations", "* * * * *", "SELECT multistore.reservations_expire()"},
	{"multistore-purge", "17 * * * *", "SELECT multistore.maintenance_purge()"},
	/* events are for catching up after a drop-out, kept 24 hours */
	{"multistore-purge-events", "*/10 * * * *", "SELECT multistore.events_purge()"},
};

/* What maintenance_purge removes, and after how long */
#define PURGE_IDEMPOTENCY_HOURS 24 /* idempotency keys: their replay window */
#define PURGE_CART_DAYS			30 /* carts untouched this long are abandoned */
#define PURGE_SESSION_DAYS		30 /* sessions ended (expired or revoked) this long ago */

/* The statements that schedule every job for database dbname, from pg_cron's database */
static char *
ScheduleStatements(const char *dbname)
{
	StringInfoData sql;

	initStringInfo(&sql);
	for (size_t i = 0; i < lengthof(jobs); i++)
		appendStringInfo(&sql, "SELECT cron.schedule_in_database(%s, %s, %s, %s);\n",
						 quote_literal_cstr(jobs[i].name), quote_literal_cstr(jobs[i].schedule),
						 quote_literal_cstr(jobs[i].command), quote_literal_cstr(dbname));
	return sql.data;
}

static bool
CronHere(void)
{
	return OidIsValid(get_namespace_oid("cron", true));
}

/*
 * jobs_schedule_sql() returns the statements to run in pg_cron's database
 * to schedule this database's jobs there.
 */
PG_FUNCTION_INFO_V1(ms_jobs_schedule_sql);
Datum
ms_jobs_schedule_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ScheduleStatements(get_database_name(MyDatabaseId))));
}

/*
 * jobs_schedule() schedules (or reschedules: pg_cron replaces a job of the
 * same name) every job with pg_cron in this database and returns
 * {"jobs":[{name,schedule,command,jobId}]}.  Safe to call twice.
 */
PG_FUNCTION_INFO_V1(ms_jobs_schedule);
Datum
ms_jobs_schedule(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	const char		 *dbname = get_database_name(MyDatabaseId);
	Oid				  types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	JsonWriter		  w;
	Datum			  result;

	if (!CronHere())
	{
		const char *cron_db = GetConfigOption("cron.database_name", true, false);

		ereport(ERROR,
				(errcode(ERRCODE_MS_UNAVAILABLE),
				 errmsg("pg_cron is not installed in database \"%s\"", dbname),
				 errdetail_internal("{\"code\":\"unavailable\",\"cronDatabase\":%s}",
									cron_db ? quote_literal_cstr(cron_db) : "null"),
				 cron_db ? errhint("pg_cron runs in database \"%s\" (cron.database_name); there, run:\n%s",
								   cron_db, ScheduleStatements(dbname))
						 : errhint("Add pg_cron to shared_preload_libraries, set cron.database_name, "
								   "and CREATE EXTENSION pg_cron in that database.")));
	}

	JwInit(&w);
	JwObjectStart(&w, NULL);
	JwArrayStart(&w, "jobs");
	SPI_connect();
	for (size_t i = 0; i < lengthof(jobs); i++)
	{
		Datum values[4] = {CStringGetTextDatum(jobs[i].name), CStringGetTextDatum(jobs[i].schedule),
						   CStringGetTextDatum(jobs[i].command), CStringGetTextDatum(dbname)};

		MsExecute(MsPlan(&plan, "SELECT cron.schedule_in_database($1, $2, $3, $4)", 4, types), values, NULL,
				  false, 1);
		JwObjectStart(&w, NULL);
		JwString(&w, "name", jobs[i].name);
		JwString(&w, "schedule", jobs[i].schedule);
		JwString(&w, "command", jobs[i].command);
		JwRaw(&w, "jobId", MsColumnText(0, 1));
		JwObjectEnd(&w);
	}
	JwArrayEnd(&w);
	JwObjectEnd(&w);
	result = MsSpiCopy(JwFinish(&w));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * jobs_unschedule() removes every job of the extension from pg_cron in this
 * database; returns how many there were.
 */
PG_FUNCTION_INFO_V1(ms_jobs_unschedule);
Datum
ms_jobs_unschedule(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[1] = {TEXTARRAYOID};
	Datum			 *names = palloc(sizeof(Datum) * lengthof(jobs));
	Datum			  values[1];
	int64			  n;

	if (!CronHere())
		MsError(ERRCODE_MS_UNAVAILABLE, "unavailable", "pg_cron is not installed in database \"%s\"",
				get_database_name(MyDatabaseId));
	for (size_t i = 0; i < lengthof(jobs); i++)
		names[i] = CStringGetTextDatum(jobs[i].name);
	values[0] = PointerGetDatum(construct_array(names, lengthof(jobs), TEXTOID, -1, false, TYPALIGN_INT));
	SPI_connect();
	MsExecute(MsPlan(&plan,
					 "SELECT count(cron.unschedule(j.jobid)) FROM cron.job j "
					 " WHERE j.jobname = ANY ($1) AND j.database = current_database()",
					 1, types),
			  values, NULL, false, 1);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &(bool){false}));
	SPI_finish();
	PG_RETURN_INT64(n);
}

/*
 * maintenance_purge() removes what has outlived its purpose: idempotency
 * keys past their 24-hour replay window, carts untouched for 30 days,
 * sessions that ended 30 days ago (their refresh tokens go with them).
 * Returns {"idempotencyKeys":n,"carts":n,"sessions":n}.
 */
PG_FUNCTION_INFO_V1(ms_maintenance_purge);
Datum
ms_maintenance_purge(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[3] = {INT4OID, INT4OID, INT4OID};
	Datum			  values[3] = {Int32GetDatum(PURGE_IDEMPOTENCY_HOURS), Int32GetDatum(PURGE_CART_DAYS),
								   Int32GetDatum(PURGE_SESSION_DAYS)};
	Datum			  result;

	SPI_connect();
	MsExecute(MsPlan(&plan,
					 "WITH k AS (DELETE FROM multistore.idempotency_keys "
					 "            WHERE created_at < now() - make_interval(hours => $1) RETURNING 1), "
					 "     c AS (DELETE FROM multistore.carts "
					 "            WHERE updated_at < now() - make_interval(days => $2) RETURNING 1), "
					 "     s AS (DELETE FROM multistore.sessions "
					 "            WHERE coalesce(revoked_at, expires_at) < now() - make_interval(days => $3) "
					 "           RETURNING 1) "
					 "SELECT json_build_object('idempotencyKeys', (SELECT count(*) FROM k), "
					 "                         'carts', (SELECT count(*) FROM c), "
					 "                         'sessions', (SELECT count(*) FROM s))::text",
					 3, types),
			  values, NULL, false, 1);
	result = MsSpiCopy(DirectFunctionCall1(json_in, CStringGetDatum(MsColumnText(0, 1))));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
