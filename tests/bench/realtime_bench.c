/*
 * realtime_bench.c
 *	  The realtime benchmark's driver (scripts/bench realtime).
 *
 *	  realtime_bench PORT CLIENTS RATE SECONDS STORE SESSION_ID
 *
 * CLIENTS WebSocket clients watch STORE through the proxy on
 * 127.0.0.1:PORT; one libpq connection (DATABASE_URL) commits a stock
 * change (inventory_set, one transaction each) every 1000 / RATE ms for
 * SECONDS.  Every client must receive every event; each delivery's latency
 * is measured from the event's "at" (its transaction's start, so a little
 * before the commit: the figures err long) to the moment the client has
 * read the frame.  Prints one JSON line.
 *
 * The clients are real ones: an RFC 6455 handshake whose
 * Sec-WebSocket-Accept is checked, then wslay's client side (masked
 * frames, pings answered with pongs as browsers do).  They are written in
 * C, all in one epoll thread, for the same reason wrk is: the load
 * generator shares the two cores with the proxy and PostgreSQL, and a
 * JavaScript client's cost per message (the driver this replaces, in two
 * Node.js threads, took more CPU than the proxy) was a large part of what
 * it measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define OPEN_BATCH	50	  /* handshakes in flight at once */
#define DRAIN_MS	10000 /* how long the clients may take after the last commit */
#define AT_KEY		"\"at\" : \""
#define AT_TEXT_LEN 24 /* 2026-12-07T21:00:00.123Z */
#define READERS		2  /* reading threads, as many as the machine has cores */

typedef struct Reader Reader;

typedef struct Client
{
	Reader				   *reader;
	int						fd;
	wslay_event_context_ptr ws;
	bool					upgraded, ready;
	bool					drained; /* the last recv() emptied the socket */
	char					key[32]; /* Sec-WebSocket-Key, base64 */
	char					head[1024];
	size_t					head_len;
	long					received;
} Client;

/* One reading thread's share of the clients, with its own epoll set and figures */
struct Reader
{
	Client	   *clients;
	int			nclients;
	int			epfd;
	int			port;
	const char *store;
	double	   *latencies; /* ms, one per delivery */
	long		nlatencies, cap;
	int			ready;
	/* per event (by id, from the first one this reader saw): its first and last delivery, ms */
	long	total;
	int64_t first_id;
	double *first, *last;
	/* "at" text -> epoch ms: every client gets the same event */
	char	  at_text[AT_TEXT_LEN + 1];
	double	  at_ms;
	pthread_t thread;
};

typedef struct Writer
{
	const char *conninfo, *store, *session;
	int			rate;
	long		total;
	double		seconds;   /* how long the writing took */
	double	   *commit_ms; /* each change's call, from sending it to its commit's answer */
	atomic_bool done;
	char		error[256];
} Writer;

static void
Die(const char *what)
{
	fprintf(stderr, "realtime_bench: %s\n", what);
	/* not exit(): another thread may be using OpenSSL, which exit's handlers tear down */
	_exit(1);
}

static double
WallMs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
MonoMs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The epoch ms of "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), or -1 */
static double
ParseAt(const char *s)
{
	struct tm tm = {0};
	int		  ms;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			   &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double) timegm(&tm) * 1e3 + ms;
}

/* ---------------------------------------------------------------- wslay's callbacks */

/*
 * WsRecv reads for wslay, which asks until it hears "would block".  A read
 * that got less than it asked for emptied the socket: the next ask is
 * answered so without a second recv() (one system call per message, not
 * two); epoll says when more comes.
 */
static ssize_t
WsRecv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	Client *c = user;
	ssize_t r;

	(void) flags;
	if (c->drained)
	{
		c->drained = false;
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	r = recv(c->fd, buf, len, 0);
	if (r > 0)
	{
		c->drained = (size_t) r < len;
		return r;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t
WsSend(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	Client *c = user;
	ssize_t r = send(c->fd, data, len, MSG_NOSIGNAL);

	(void) flags;
	if (r >= 0)
		return r;
	wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK ? WSLAY_ERR_WOULDBLOCK
																	   : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static int
WsMask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void) ctx;
	(void) user;
	return RAND_bytes(buf, (int) len) == 1 ? 0 : -1;
}

/* Widens the span of the event msg (its first and last delivery) by a delivery of latency ms */
static void
EventSpan(Reader *r, const uint8_t *msg, size_t len, double ms)
{
	const char *key = memmem(msg, len, "\"id\" : ", 7);
	int64_t		id, i;

	if (key == NULL)
		Die("an event without an id");
	id = strtoll(key + 7, NULL, 10);
	if (r->first_id < 0)
		r->first_id = id;
	i = id - r->first_id;
	if (i < 0 || i >= r->total)
		return;
	if (ms < r->first[i])
		r->first[i] = ms;
	if (ms > r->last[i])
		r->last[i] = ms;
}

static void
WsMessage(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	Client	   *c = user;
	Reader	   *r = c->reader;
	double		now = WallMs();
	const char *at;

	(void) ctx;
	if (arg->opcode != WSLAY_TEXT_FRAME)
		return;
	at = memmem(arg->msg, arg->msg_length, AT_KEY, strlen(AT_KEY));
	if (at == NULL)
	{
		if (!c->ready && memmem(arg->msg, arg->msg_length, "\"ready\"", 7))
		{
			c->ready = true;
			r->ready++;
		}
		return;
	}
	at += strlen(AT_KEY);
	if ((const uint8_t *) at + AT_TEXT_LEN > arg->msg + arg->msg_length)
		Die("an event whose \"at\" is cut short");
	if (memcmp(at, r->at_text, AT_TEXT_LEN) != 0)
	{
		memcpy(r->at_text, at, AT_TEXT_LEN);
		r->at_ms = ParseAt(r->at_text);
		if (r->at_ms < 0)
			Die("an event whose \"at\" is not a UTC time with milliseconds");
	}
	if (r->nlatencies == r->cap)
	{
		r->cap = r->cap ? r->cap * 2 : 1 << 20;
		r->latencies = realloc(r->latencies, r->cap * sizeof(double));
		if (r->latencies == NULL)
			Die("out of memory");
	}
	r->latencies[r->nlatencies++] = now - r->at_ms;
	c->received++;
	EventSpan(r, arg->msg, arg->msg_length, now - r->at_ms);
}

/* ---------------------------------------------------------------- the handshake */

static void
Base64(const unsigned char *in, int n, char *out)
{
	EVP_EncodeBlock((unsigned char *) out, in, n);
}

static void
ClientConnect(Client *c, int port, const char *store, int epfd)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	unsigned char	   nonce[16];
	char			   request[512];
	int				   one = 1, n;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &addr, sizeof(addr)) != 0)
		Die("cannot connect to the proxy");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		Die("no random bytes");
	Base64(nonce, sizeof(nonce), c->key);
	n = snprintf(request, sizeof(request),
				 "GET /ws?stores=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n",
				 store, port, c->key);
	if (send(c->fd, request, (size_t) n, MSG_NOSIGNAL) != n)
		Die("cannot send the upgrade request");
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		Die("epoll_ctl failed");
}

/*
 * ClientHandshake reads the answer to the upgrade request: 101 with the
 * Sec-WebSocket-Accept the key calls for.  Bytes past the header block
 * are frames; none come before the client subscribes, and the proxy sends
 * its "ready" only after the 101, so they are left in the socket by
 * reading the header block one byte at a time (handshakes happen once).
 */
static bool
ClientHandshake(Client *c)
{
	static const struct wslay_event_callbacks callbacks = {WsRecv, WsSend, WsMask,	 NULL,
														   NULL,   NULL,   WsMessage};
	char									  accept_key[96], expected[32];
	unsigned char							  digest[SHA_DIGEST_LENGTH];

	while (c->head_len < sizeof(c->head) - 1)
	{
		ssize_t r = recv(c->fd, c->head + c->head_len, 1, 0);

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (r <= 0)
			Die("the proxy closed a connection during its handshake");
		c->head_len++;
		c->head[c->head_len] = '\0';
		if (c->head_len >= 4 && memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (strncmp(c->head, "HTTP/1.1 101 ", 13) != 0)
	{
		fprintf(stderr, "%s\n", c->head);
		Die("the proxy refused an upgrade");
	}
	snprintf(accept_key, sizeof(accept_key), "%s%s", c->key, WS_GUID);
	SHA1((const unsigned char *) accept_key, strlen(accept_key), digest);
	Base64(digest, sizeof(digest), expected);
	if (strcasestr(c->head, "\r\nSec-WebSocket-Accept: ") == NULL || strstr(c->head, expected) == NULL)
		Die("the proxy's Sec-WebSocket-Accept is not the one the key calls for");
	if (wslay_event_context_client_init(&c->ws, &callbacks, c) != 0)
		Die("wslay_event_context_client_init failed");
	c->upgraded = true;
	return true;
}

/* Reads what a client's socket has; pongs go out at once */
static void
ClientRead(Client *c)
{
	if (!c->upgraded && !ClientHandshake(c))
		return;
	if (wslay_event_recv(c->ws) != 0)
		Die("a WebSocket connection failed (the proxy closed it, or sent a bad frame)");
	if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
		Die("a pong could not be sent");
}

/* ---------------------------------------------------------------- the writer */

static void *
WriterRun(void *arg)
{
	Writer	   *w = arg;
	PGconn	   *conn = PQconnectdb(w->conninfo);
	double		started;
	char		product[32], body[64];
	const char *values[4] = {w->session, w->store, product, body};

	if (PQstatus(conn) != CONNECTION_OK)
	{
		snprintf(w->error, sizeof(w->error), "cannot connect: %s", PQerrorMessage(conn));
		goto out;
	}
	started = MonoMs();
	for (long n = 0; n < w->total; n++)
	{
		double	  due = started + n * 1000.0 / w->rate, wait = due - MonoMs(), sent;
		PGresult *res;

		if (wait > 0)
		{
			struct timespec ts = {(time_t) (wait / 1e3), (long) (wait * 1e6) % 1000000000L};

			nanosleep(&ts, NULL);
		}
		snprintf(product, sizeof(product), "prod_%ld", 1 + n % 100);
		snprintf(body, sizeof(body), "{\"onHand\":%ld}", 100 + n);
		sent = MonoMs();
		res = PQexecParams(conn, "SELECT multistore.inventory_set($1, $2, $3, $4::jsonb)", 4, NULL, values,
						   NULL, NULL, 0);
		w->commit_ms[n] = MonoMs() - sent;
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			snprintf(w->error, sizeof(w->error), "inventory_set failed: %s", PQresultErrorMessage(res));
			PQclear(res);
			goto out;
		}
		PQclear(res);
	}
	w->seconds = (MonoMs() - started) / 1e3;
out:
	PQfinish(conn);
	atomic_store(&w->done, true);
	return NULL;
}

/* ---------------------------------------------------------------- main */

static int
CompareDoubles(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of n sorted values; 0 when there are none */
static double
Percentile(const double *sorted, long n, double p)
{
	return n > 0 ? sorted[(long) (p / 100.0 * (n - 1) + 0.5)] : 0;
}

/* Runs r's epoll until pred holds or until_ms (monotonic) passes */
static void
Loop(Reader *r, bool (*pred)(Reader *, const void *), const void *arg, double until_ms)
{
	struct epoll_event events[256];

	while (!pred(r, arg) && MonoMs() < until_ms)
	{
		int n = epoll_wait(r->epfd, events, 256, 100);

		for (int i = 0; i < n; i++)
			ClientRead(events[i].data.ptr);
	}
}

static bool
AllReady(Reader *r, const void *arg)
{
	return r->ready >= *(const int *) arg;
}

static bool
WriterDone(Reader *r, const void *arg)
{
	(void) r;
	return atomic_load(&((const Writer *) arg)->done);
}

static bool
AllDelivered(Reader *r, const void *arg)
{
	return r->nlatencies >= (long) r->nclients * ((const Writer *) arg)->total;
}

static Writer	   the_writer;
static atomic_int  readers_ready; /* readers whose clients are all ready */
static atomic_bool writer_started;

/*
 * ReaderRun opens a reader's clients, OPEN_BATCH handshakes at a time,
 * each until its "ready"; then reads until the writer is done and every
 * client has every event, or DRAIN_MS more have passed.
 */
static void *
ReaderRun(void *arg)
{
	Reader *r = arg;

	for (int i = 0; i < r->nclients; i += OPEN_BATCH)
	{
		int upto = i + OPEN_BATCH < r->nclients ? i + OPEN_BATCH : r->nclients;

		for (int k = i; k < upto; k++)
			ClientConnect(&r->clients[k], r->port, r->store, r->epfd);
		Loop(r, AllReady, &upto, MonoMs() + 10000);
		if (r->ready < upto)
			Die("clients were not ready within 10 s");
	}
	atomic_fetch_add(&readers_ready, 1);
	while (!atomic_load(&writer_started))
		Loop(r, WriterDone, &the_writer, MonoMs() + 10);
	Loop(r, WriterDone, &the_writer, INFINITY);
	Loop(r, AllDelivered, &the_writer, MonoMs() + DRAIN_MS);
	return NULL;
}

int
main(int argc, char **argv)
{
	Writer	 *w = &the_writer;
	Reader	  readers[READERS] = {0};
	Client	 *clients;
	double	 *all, *first, *last;
	long	  nall = 0;
	pthread_t writer;
	int		  port, nclients, short_clients = 0;

	if (argc != 7 || getenv("DATABASE_URL") == NULL)
		Die("usage: DATABASE_URL=... realtime_bench PORT CLIENTS RATE SECONDS STORE SESSION_ID");
	port = atoi(argv[1]);
	nclients = atoi(argv[2]);
	w->rate = atoi(argv[3]);
	w->total = (long) w->rate * atol(argv[4]);
	w->store = argv[5];
	w->session = argv[6];
	w->conninfo = getenv("DATABASE_URL");
	if (port <= 0 || nclients < READERS || w->rate <= 0 || w->total <= 0 ||
		strspn(w->store, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(w->store))
		Die("PORT, CLIENTS (at least 2), RATE and SECONDS must be positive numbers, STORE an id");
	clients = calloc((size_t) nclients, sizeof(Client));
	w->commit_ms = calloc((size_t) w->total, sizeof(double));
	if (clients == NULL || w->commit_ms == NULL)
		Die("out of memory");

	for (int t = 0, from = 0; t < READERS; t++)
	{
		Reader *r = &readers[t];

		r->nclients = nclients / READERS + (t < nclients % READERS);
		r->clients = clients + from;
		from += r->nclients;
		for (int k = 0; k < r->nclients; k++)
			r->clients[k].reader = r;
		r->port = port;
		r->store = w->store;
		r->total = w->total;
		r->first_id = -1;
		r->first = malloc((size_t) w->total * sizeof(double));
		r->last = malloc((size_t) w->total * sizeof(double));
		if (r->first == NULL || r->last == NULL)
			Die("out of memory");
		for (long e = 0; e < w->total; e++)
		{
			r->first[e] = INFINITY;
			r->last[e] = -INFINITY;
		}
		r->epfd = epoll_create1(0);
		if (r->epfd < 0 || pthread_create(&r->thread, NULL, ReaderRun, r) != 0)
			Die("cannot start a reader");
	}
	while (atomic_load(&readers_ready) < READERS)
		usleep(10000);
	if (pthread_create(&writer, NULL, WriterRun, w) != 0)
		Die("cannot start the writer");
	atomic_store(&writer_started, true);
	pthread_join(writer, NULL);
	if (w->error[0])
		Die(w->error);
	for (int t = 0; t < READERS; t++)
	{
		pthread_join(readers[t].thread, NULL);
		nall += readers[t].nlatencies;
	}

	/* every client gets every event, or the run says how many are missing */
	all = malloc((size_t) (nall > 0 ? nall : 1) * sizeof(double));
	if (all == NULL)
		Die("out of memory");
	nall = 0;
	for (int t = 0; t < READERS; t++)
	{
		memcpy(all + nall, readers[t].latencies, (size_t) readers[t].nlatencies * sizeof(double));
		nall += readers[t].nlatencies;
		free(readers[t].latencies);
		close(readers[t].epfd);
	}
	/* each event's first and last delivery over both readers (both saw the same first event) */
	if (readers[0].first_id != readers[READERS - 1].first_id)
		Die("the readers did not see the same first event");
	first = readers[0].first;
	last = readers[0].last;
	for (int t = 1; t < READERS; t++)
	{
		for (long e = 0; e < w->total; e++)
		{
			first[e] = fmin(first[e], readers[t].first[e]);
			last[e] = fmax(last[e], readers[t].last[e]);
		}
		free(readers[t].first);
		free(readers[t].last);
	}
	for (int i = 0; i < nclients; i++)
	{
		if (clients[i].received < w->total)
			short_clients++;
		wslay_event_context_free(clients[i].ws);
		close(clients[i].fd);
	}
	qsort(all, (size_t) nall, sizeof(double), CompareDoubles);
	qsort(first, (size_t) w->total, sizeof(double), CompareDoubles);
	qsort(last, (size_t) w->total, sizeof(double), CompareDoubles);
	qsort(w->commit_ms, (size_t) w->total, sizeof(double), CompareDoubles);
	printf("{\"clients\":%d,\"readers\":%d,\"rate\":%d,\"seconds\":%ld,\"events\":%ld,\"expected\":%ld,"
		   "\"delivered\":%ld,\"missing\":%ld,\"clientsShort\":%d,\"writeSeconds\":%.3f,\"p50\":%.3f,"
		   "\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"commitP50\":%.3f,\"commitP99\":%.3f,\"commitMax\":%.3f,"
		   "\"firstP50\":%.3f,\"firstP99\":%.3f,\"lastP50\":%.3f,\"lastP99\":%.3f}\n",
		   nclients, READERS, w->rate, w->total / w->rate, w->total, (long) nclients * w->total, nall,
		   (long) nclients * w->total - nall, short_clients, w->seconds, Percentile(all, nall, 50),
		   Percentile(all, nall, 90), Percentile(all, nall, 99), Percentile(all, nall, 100),
		   Percentile(w->commit_ms, w->total, 50), Percentile(w->commit_ms, w->total, 99),
		   Percentile(w->commit_ms, w->total, 100), Percentile(first, w->total, 50),
		   Percentile(first, w->total, 99), Percentile(last, w->total, 50), Percentile(last, w->total, 99));
	free(first);
	free(last);
	free(all);
	free(w->commit_ms);
	free(clients);
	return 0;
}
