/*
 * reservations_storm.c
 *	  The reservation engine under a storm: many connections reserve (many
 *	  lines, bundles, lines in any order, short TTLs), release, consume and
 *	  sweep a few products with little stock at once; afterwards every
 *	  invariant of the stock ledger must hold.  Prints TAP.
 *
 *	  usage: reservations_storm DATABASE_URL [clients 32] [seconds 20]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define PRODUCTS 4				/* storm_p1..4: little stock, many shortages */
#define STOCK 40
#define HOT_STOCK 1000000		/* storm_hot: one product everyone wants, plenty of it */
#define MAX_OWN 256

static const char *url;
static int	seconds;
static char session[64];
static struct timespec deadline;

/* What the workers saw, counted across threads */
static atomic_long reserved, short_of_stock, released, consumed, invalid, sweeps;
static atomic_long deadlocks, unexpected, false_shortages;
static char first_unexpected[512];
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;

static int	tap_n = 0, tap_failed = 0;

static void
ok(int pass, const char *what)
{
	printf("%s %d - %s\n", pass ? "ok" : "not ok", ++tap_n, what);
	if (!pass)
		tap_failed++;
}

static PGconn *
Connect(void)
{
	PGconn	   *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK)
	{
		fprintf(stderr, "cannot connect: %s", PQerrorMessage(c));
		exit(2);
	}
	return c;
}

/* Runs one statement that must work; returns its result */
static PGresult *
Must(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult   *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "setup failed: %s\n%s", sql, PQerrorMessage(c));
		exit(2);
	}
	return r;
}

static long
Scalar(PGconn *c, const char *sql)
{
	PGresult   *r = Must(c, sql, 0, NULL);
	long		v = atol(PQgetvalue(r, 0, 0));

	PQclear(r);
	return v;
}

static int
Expired(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* Is the error's stable code the given one (DETAIL {"code":...})? */
static int
CodeIs(PGresult *r, const char *code)
{
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	char		want[64];

	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	return detail && strstr(detail, want) != NULL;
}

/*
 * Is every line of an out_of_stock really short?  DETAIL names each with
 * "requested" and "available": a refusal with available >= requested would
 * be a false out_of_stock.
 */
static int
ShortageIsTrue(PGresult *r)
{
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	const char *p = detail;
	int			lines = 0;

	while (p && (p = strstr(p, "\"requested\":")) != NULL)
	{
		int			requested = 0, available = 0;

		if (sscanf(p, "\"requested\":%d,\"available\":%d", &requested, &available) != 2 || available >= requested)
			return 0;
		lines++;
		p++;
	}
	return lines > 0;
}

/* Counts an outcome that no rule allows */
static void
Unexpected(PGresult *r, const char *what)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (state && strcmp(state, "40P01") == 0)
		atomic_fetch_add(&deadlocks, 1);
	atomic_fetch_add(&unexpected, 1);
	pthread_mutex_lock(&first_lock);
	if (first_unexpected[0] == '\0')
		snprintf(first_unexpected, sizeof(first_unexpected), "%s: %s %s", what, state ? state : "?",
				 PQresultErrorMessage(r));
	pthread_mutex_unlock(&first_lock);
}

static void *
Worker(void *arg)
{
	unsigned int seed = (unsigned int) (uintptr_t) arg * 7919u + (unsigned int) time(NULL);
	PGconn	   *c = Connect();
	char		own[MAX_OWN][40];
	int			nown = 0;

	while (!Expired())
	{
		int			dice = rand_r(&seed) % 100;
		PGresult   *r;

		if (dice < 50 || nown == 0)
		{
			/* 1 to 3 lines in any order, sometimes the same product twice, sometimes a 1 s TTL */
			char		body[512];
			int			lines = 1 + rand_r(&seed) % 3;
			int			len = snprintf(body, sizeof(body), "{\"items\":[");
			const char *params[3] = {session, "storm_store", body};

			if (rand_r(&seed) % 3 == 0)
				len += snprintf(body + len, sizeof(body) - len, "{\"productId\":\"storm_hot\",\"quantity\":1}");
			else
				for (int i = 0; i < lines; i++)
					len += snprintf(body + len, sizeof(body) - len,
									"%s{\"productId\":\"storm_p%d\",\"quantity\":%d}", i ? "," : "",
									1 + rand_r(&seed) % PRODUCTS, 1 + rand_r(&seed) % 3);
			snprintf(body + len, sizeof(body) - len, "],\"ttlSeconds\":%d}", rand_r(&seed) % 10 == 0 ? 1 : 600);
			r = PQexecParams(c,
							 "SELECT (multistore.reservation_create($1::uuid, $2, $3::jsonb)::jsonb)->'reservation'->>'id'",
							 3, NULL, params, NULL, NULL, 0);
			if (PQresultStatus(r) == PGRES_TUPLES_OK)
			{
				atomic_fetch_add(&reserved, 1);
				if (nown < MAX_OWN)
					snprintf(own[nown++], sizeof(own[0]), "%s", PQgetvalue(r, 0, 0));
			}
			else if (CodeIs(r, "out_of_stock"))
			{
				atomic_fetch_add(&short_of_stock, 1);
				if (!ShortageIsTrue(r))
					atomic_fetch_add(&false_shortages, 1);
			}
			else
				Unexpected(r, "reserve");
		}
		else if (dice < 95)
		{
			/* release or consume one of ours; an expired or already ended one is invalid_transition */
			int			pick = rand_r(&seed) % nown;
			int			consume = dice >= 88;
			const char *params[2] = {session, own[pick]};

			r = PQexecParams(c, consume ? "SELECT multistore.reservation_consume($1::uuid, $2::uuid)"
								: "SELECT multistore.reservation_release($1::uuid, $2::uuid)",
							 2, NULL, params, NULL, NULL, 0);
			if (PQresultStatus(r) == PGRES_TUPLES_OK)
				atomic_fetch_add(consume ? &consumed : &released, 1);
			else if (CodeIs(r, "invalid_transition"))
				atomic_fetch_add(&invalid, 1);
			else
				Unexpected(r, consume ? "consume" : "release");
			memmove(own[pick], own[--nown], sizeof(own[0]));
		}
		else
		{
			/* the sweep, alongside live traffic */
			r = PQexec(c, "SELECT multistore.reservations_expire()");
			if (PQresultStatus(r) == PGRES_TUPLES_OK)
				atomic_fetch_add(&sweeps, 1);
			else
				Unexpected(r, "sweep");
		}
		PQclear(r);
	}
	PQfinish(c);
	return NULL;
}

int
main(int argc, char **argv)
{
	int			clients = argc > 2 ? atoi(argv[2]) : 32;
	pthread_t  *threads;
	PGconn	   *c;
	PGresult   *r;
	char		what[256];

	if (argc < 2)
	{
		fprintf(stderr, "usage: reservations_storm DATABASE_URL [clients] [seconds]\n");
		return 2;
	}
	url = argv[1];
	seconds = argc > 3 ? atoi(argv[3]) : 20;

	/* a store, four products with 40 units each, an admin session */
	c = Connect();
	PQclear(Must(c, "SET client_min_messages = warning", 0, NULL));
	PQclear(Must(c, "DELETE FROM multistore.stores WHERE id = 'storm_store'", 0, NULL));
	PQclear(Must(c, "DELETE FROM multistore.products WHERE id LIKE 'storm\\_%'", 0, NULL));
	PQclear(Must(c, "DELETE FROM multistore.users WHERE email = 'storm-admin@test.example'", 0, NULL));
	PQclear(Must(c,
				 "INSERT INTO multistore.stores (id, name, address, location, time_zone) "
				 "VALUES ('storm_store', 'Storm', '1 Storm St', ST_SetSRID(ST_MakePoint(1, -63), 4326)::geography, 'UTC')",
				 0, NULL));
	PQclear(Must(c,
				 "INSERT INTO multistore.products (id, sku, name, price) "
				 "SELECT 'storm_p' || g, 'STORM-' || g, 'Storm ' || g, 1 FROM generate_series(1, 4) g "
				 "UNION ALL SELECT 'storm_hot', 'STORM-HOT', 'Storm hot', 1",
				 0, NULL));
	r = Must(c,
			 "WITH u AS (INSERT INTO multistore.users (email, password_hash, role) "
			 "           VALUES ('storm-admin@test.example', 'not-a-hash', 'admin') RETURNING id) "
			 "INSERT INTO multistore.sessions (user_id, expires_at) SELECT id, now() + interval '1 hour' FROM u RETURNING id",
			 0, NULL);
	snprintf(session, sizeof(session), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	for (int p = 1; p <= PRODUCTS + 1; p++)
	{
		char		product[32];
		char		stock[32];
		const char *params[3] = {session, product, stock};

		if (p > PRODUCTS)
			snprintf(product, sizeof(product), "storm_hot");
		else
			snprintf(product, sizeof(product), "storm_p%d", p);
		snprintf(stock, sizeof(stock), "{\"onHand\":%d}", p > PRODUCTS ? HOT_STOCK : STOCK);
		PQclear(Must(c, "SELECT multistore.inventory_set($1::uuid, 'storm_store', $2, $3::jsonb)", 3, params));
	}

	printf("# %d clients for %d s on %d products of %d units and one of %d\n", clients, seconds, PRODUCTS, STOCK,
		   HOT_STOCK);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	threads = calloc((size_t) clients, sizeof(pthread_t));
	for (int i = 0; i < clients; i++)
		pthread_create(&threads[i], NULL, Worker, (void *) (uintptr_t) (i + 1));
	for (int i = 0; i < clients; i++)
		pthread_join(threads[i], NULL);
	free(threads);

	printf("# reserved %ld, out_of_stock %ld, released %ld, consumed %ld, invalid_transition %ld, sweeps %ld\n",
		   atomic_load(&reserved), atomic_load(&short_of_stock), atomic_load(&released), atomic_load(&consumed),
		   atomic_load(&invalid), atomic_load(&sweeps));
	if (first_unexpected[0])
		printf("# first unexpected outcome: %s\n", first_unexpected);

	ok(atomic_load(&deadlocks) == 0, "no deadlock was reported");
	snprintf(what, sizeof(what), "every call succeeded or failed with out_of_stock / invalid_transition (%ld others)",
			 atomic_load(&unexpected));
	ok(atomic_load(&unexpected) == 0, what);
	ok(atomic_load(&reserved) >= 200 && atomic_load(&short_of_stock) >= 10 && atomic_load(&consumed) >= 10,
	   "the storm really ran out of stock, reserved and sold");
	snprintf(what, sizeof(what), "every out_of_stock was true: each line named had available < requested (%ld not)",
			 atomic_load(&false_shortages));
	ok(atomic_load(&false_shortages) == 0, what);
	ok(Scalar(c, "SELECT count(*) FROM multistore.reservation_holds WHERE store_id = 'storm_store' "
				 "AND product_id = 'storm_hot'") >= 100,
	   "the hot product was reserved by many sessions at once");
	ok(Scalar(c, "SELECT count(*) FROM multistore.inventory WHERE store_id = 'storm_store' "
				 "AND (on_hand < 0 OR held < 0 OR held > on_hand)") == 0,
	   "no bucket oversold: 0 <= held <= on hand in every bucket");
	ok(Scalar(c, "SELECT count(*) FROM multistore.inventory i "
				 "  LEFT JOIN (SELECT product_id, bucket, sum(quantity) AS q FROM multistore.reservation_holds "
				 "              WHERE store_id = 'storm_store' AND state = 'active' GROUP BY 1, 2) h "
				 "    ON h.product_id = i.product_id AND h.bucket = i.bucket "
				 " WHERE i.store_id = 'storm_store' AND i.held <> coalesce(h.q, 0)") == 0,
	   "every bucket's held equals the sum of its active holds");
	ok(Scalar(c, "SELECT count(*) FROM multistore.products p "
				 " WHERE p.id LIKE 'storm\\_%' AND "
				 "   (SELECT sum(on_hand) FROM multistore.inventory WHERE store_id = 'storm_store' AND product_id = p.id) "
				 " + (SELECT coalesce(sum(quantity), 0) FROM multistore.reservation_holds "
				 "     WHERE store_id = 'storm_store' AND product_id = p.id AND state = 'consumed') "
				 " <> CASE WHEN p.id = 'storm_hot' THEN 1000000 ELSE 40 END") == 0,
	   "for every product, on hand + sold = what was stocked: nothing sold twice or lost");
	ok(Scalar(c, "SELECT count(*) FROM multistore.reservations r JOIN multistore.reservation_holds h "
				 "    ON h.store_id = r.store_id AND h.reservation_id = r.id "
				 " WHERE r.store_id = 'storm_store' AND ("
				 "       (r.status IN ('consumed', 'released') AND h.state <> r.status) "
				 "    OR (r.status = 'active' AND r.expires_at > now() AND h.state <> 'active') "
				 "    OR (h.state = 'consumed' AND r.status <> 'consumed'))") == 0,
	   "every hold agrees with its reservation's status");
	ok(Scalar(c, "SELECT count(*) FROM multistore.reservations r WHERE r.store_id = 'storm_store' AND "
				 "NOT EXISTS (SELECT 1 FROM multistore.reservation_holds h WHERE h.reservation_id = r.id)") == 0,
	   "no reservation without holds: all lines or none");

	PQclear(Must(c, "DELETE FROM multistore.stores WHERE id = 'storm_store'", 0, NULL));
	PQclear(Must(c, "DELETE FROM multistore.products WHERE id LIKE 'storm\\_%'", 0, NULL));
	PQclear(Must(c, "DELETE FROM multistore.users WHERE email = 'storm-admin@test.example'", 0, NULL));
	PQfinish(c);
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
