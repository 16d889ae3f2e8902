/*
 * realtime.c
 *	  The realtime thread: the database listener, the WebSocket and SSE
 *	  clients, fan-out by rule, timers (realtime.h).
 *
 * Delivery.  The listener reads the log from its cursor (CatchUp: every
 * event after the highest id it read, which (events_fetch) includes events
 * of a lower id whose transaction committed later) and sends each event to
 * every client the rule lets see it, in id order.  It reads every
 * REALTIME_POLL_INTERVAL_MS, at once when a NOTIFY says that an order or
 * session event committed (stock events, by default, have none), and after
 * reconnecting when its connection broke (the database restarts, its
 * backend is terminated; with backoff).  So a client that keeps the
 * highest id it has seen and resumes from it misses nothing: whatever has
 * a lower id and is not sent yet is a late commit, which events_since
 * sends again.  The reads overlap each other, and a client's own catch-up
 * (since=, Last-Event-ID) overlaps the live stream: the listener remembers
 * the last 65,536 ids it delivered and a resuming client the ids its
 * catch-up sent, so each event reaches each client once.
 *
 * Slow clients.  What a client has not read stays queued on our side up
 * to REALTIME_SEND_BUFFER bytes; past that its socket is closed with 1013
 * (an SSE stream is ended) and nothing more is queued for it, so a client
 * that stops reading costs a bounded amount of memory and never holds up
 * the others: every socket is non-blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h> /* malloc_trim */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <wslay/wslay.h>

#include "log.h"
#include "params.h"
#include "realtime.h"

#define LISTEN_CHANNEL	  "multistore_events"
#define FETCH_PAGE		  1000
#define REPLAY_PAGES	  10	/* a resuming client gets at most 10 pages of catch-up */
#define REPLAY_DEDUP_MS	  10000 /* how long live events are checked against a catch-up */
#define DELIVERED_MEMORY  65536 /* ids the listener remembers having delivered */
#define BACKOFF_FIRST_MS  100
#define BACKOFF_MAX_MS	  5000
#define CLOSE_GRACE_MS	  1000 /* a closing WebSocket's wait for the peer's close */
#define TICK_MS			  100
#define PEER_CHECK_MS	  1000	/* how often a suspended event stream's socket is looked at */
#define WS_OUT_CHUNK	  16384 /* bytes of frames gathered for one send() */
#define TRIM_DEPARTED	  64	/* streams gone since the last trim that call for one */
#define TRIM_EVERY_MS	  1000	/* at most one trim a second */
#define WS_CLOSE_GOING	  1001
#define WS_CLOSE_POLICY	  1008
#define WS_CLOSE_TRYLATER 1013
#define WS_CLOSE_BINARY	  1003
#define WS_CLOSE_BADDATA  1007

typedef enum RtKind
{
	RT_WS,
	RT_SSE
} RtKind;

struct RtClient
{
	Realtime  *rt;
	RtKind	   kind;
	RtIdentity who;
	RtStores   watching;
	bool	   has_since;
	int64_t	   since;
	bool	   counted;		/* holds one of its user's max_per_user */
	bool	   replay_done; /* its catch-up ran (or none was asked for) */
	bool	   dead;		/* dropped: freed at the end of the loop's turn */
	int64_t	  *replayed;	/* ids its catch-up sent, sorted, checked by live delivery for a while */
	size_t	   nreplayed;
	int64_t	   replayed_until_ms;
	RtClient  *next, *prev; /* the realtime thread's list */
	RtClient  *inbox_next;	/* the inbox */
	RtClient **owner_slot;	/* a request's pointer to it until it is adopted */
	/* WebSocket */
	int								  fd;
	struct MHD_UpgradeResponseHandle *urh;
	wslay_event_context_ptr			  ws;
	char							 *extra; /* bytes read past the upgrade request */
	size_t							  extra_len, extra_off;
	uint32_t						  interest;
	int64_t							  last_heard_ms, next_ping_ms, close_by_ms;
	bool							  closing;
	bool							  half_closed; /* our close frame is out and the write side shut */
	bool							  peer_gone;   /* a read found the end of the stream, or an error */
	char							 *out; /* frames wslay wrote, not yet sent: one send() per flush */
	size_t							  out_len;
	/* SSE: the buffer libmicrohttpd reads, under lock */
	pthread_mutex_t		   lock;
	char				  *buf;
	size_t				   len, off, cap;
	bool				   suspended, ended, gone;
	int					   refs;
	struct MHD_Connection *connection;
	int64_t				   next_heartbeat_ms;
	int					   sse_fd; /* the connection's socket, looked at while suspended */
	int64_t				   next_peer_check_ms;
};

typedef struct UserCount
{
	char id[40];
	int	 n;
} UserCount;

struct Realtime
{
	RealtimeConfig	config;
	char		   *database_url;
	char		   *cors_origins;
	pthread_t		thread;
	int				epfd;
	int				wakefd;
	pthread_mutex_t lock; /* inbox, users, stop */
	RtClient	   *inbox;
	UserCount	   *users;
	int				nusers, capusers;
	bool			stop;
	/* the realtime thread's own */
	RtClient *clients;
	RtClient *graveyard; /* dropped during this turn of the loop, freed at its end */
	/* one event's WebSocket frame, built once by wslay for every client */
	wslay_frame_context_ptr framer;
	char				   *frame;
	size_t					frame_len, frame_cap;
	PGconn				   *listener;
	bool					have_last;
	int64_t					last_id; /* highest id delivered */
	int64_t					cursor;	 /* the log as far as CatchUp read it */
	int64_t					next_poll_ms;
	int64_t					next_connect_ms;
	int						backoff_ms;
	bool					connected_once;
	unsigned				adopted;   /* WebSockets adopted so far, which spreads their pings */
	unsigned				trim_high; /* most streams open at once since the last trim */
	int64_t					last_trim_ms;
	int64_t				   *seen; /* open-addressing set of delivered ids, and its FIFO */
	int64_t				   *seen_fifo;
	size_t					seen_head, seen_count;
	/* statistics, read by /metrics */
	atomic_uint		 ws_clients, sse_clients;
	_Atomic uint64_t received, delivered, slow_dropped, reconnects;
	atomic_bool		 listener_up;
};

/* epoll data of the two descriptors that are not clients */
static char wake_tag, listener_tag;

/* Grows an allocation; out of memory, the proxy cannot keep its promises: it stops */
static void *
Grow(void *p, size_t size)
{
	void *grown = realloc(p, size);

	if (grown == NULL)
	{
		LogWrite(LOG_ERROR, "realtime: out of memory", NULL);
		abort();
	}
	return grown;
}

static int64_t
NowMs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- delivered ids */

#define SEEN_SLOTS (DELIVERED_MEMORY * 2)

static size_t
SeenHash(int64_t id)
{
	uint64_t x = (uint64_t) id * 0x9E3779B97F4A7C15ull;

	return (size_t) (x >> 40) % SEEN_SLOTS;
}

static bool
SeenHas(Realtime *rt, int64_t id)
{
	for (size_t i = SeenHash(id);; i = (i + 1) % SEEN_SLOTS)
	{
		if (rt->seen[i] == 0)
			return false;
		if (rt->seen[i] == id)
			return true;
	}
}

/* Removes id with backward-shift deletion, so probes never stop early */
static void
SeenDelete(Realtime *rt, int64_t id)
{
	size_t i = SeenHash(id);

	while (rt->seen[i] != id)
	{
		if (rt->seen[i] == 0)
			return;
		i = (i + 1) % SEEN_SLOTS;
	}
	for (size_t j = (i + 1) % SEEN_SLOTS; rt->seen[j] != 0; j = (j + 1) % SEEN_SLOTS)
	{
		size_t home = SeenHash(rt->seen[j]);

		/* move j into the hole at i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j))
		{
			rt->seen[i] = rt->seen[j];
			i = j;
		}
	}
	rt->seen[i] = 0;
}

/* Adds id (ids are positive); forgets the oldest when full */
static void
SeenAdd(Realtime *rt, int64_t id)
{
	size_t i;

	if (rt->seen_count == DELIVERED_MEMORY)
	{
		SeenDelete(rt, rt->seen_fifo[rt->seen_head]);
		rt->seen_head = (rt->seen_head + 1) % DELIVERED_MEMORY;
		rt->seen_count--;
	}
	for (i = SeenHash(id); rt->seen[i] != 0; i = (i + 1) % SEEN_SLOTS)
		;
	rt->seen[i] = id;
	rt->seen_fifo[(rt->seen_head + rt->seen_count) % DELIVERED_MEMORY] = id;
	rt->seen_count++;
}

/* ---------------------------------------------------------------- users */

/* Takes one of the user's streams; false when all are in use */
static bool
UserTake(Realtime *rt, const char *user_id)
{
	bool ok = true;
	int	 i;

	pthread_mutex_lock(&rt->lock);
	for (i = 0; i < rt->nusers; i++)
		if (strcmp(rt->users[i].id, user_id) == 0)
			break;
	if (i == rt->nusers)
	{
		if (rt->nusers == rt->capusers)
		{
			rt->capusers = rt->capusers ? rt->capusers * 2 : 16;
			rt->users = Grow(rt->users, sizeof(UserCount) * (size_t) rt->capusers);
		}
		snprintf(rt->users[i].id, sizeof(rt->users[i].id), "%s", user_id);
		rt->users[i].n = 0;
		rt->nusers++;
	}
	if (rt->users[i].n >= rt->config.max_per_user)
		ok = false;
	else
		rt->users[i].n++;
	pthread_mutex_unlock(&rt->lock);
	return ok;
}

static void
UserRelease(Realtime *rt, const char *user_id)
{
	pthread_mutex_lock(&rt->lock);
	for (int i = 0; i < rt->nusers; i++)
		if (strcmp(rt->users[i].id, user_id) == 0)
		{
			if (--rt->users[i].n == 0)
				rt->users[i] = rt->users[--rt->nusers];
			break;
		}
	pthread_mutex_unlock(&rt->lock);
}

/* ---------------------------------------------------------------- clients */

RtClient *
RealtimeClientNew(Realtime *rt, const RtIdentity *who, const RtStores *stores, bool has_since, int64_t since,
				  bool sse)
{
	RtClient *c;

	if (who->signed_in && !UserTake(rt, who->user_id))
		return NULL;
	c = calloc(1, sizeof(RtClient));
	c->rt = rt;
	c->kind = sse ? RT_SSE : RT_WS;
	c->who = *who;
	/* the identity's store list is copied, not shared */
	memset(&c->who.managed, 0, sizeof(c->who.managed));
	for (int i = 0; i < who->managed.n; i++)
		RtStoresAdd(&c->who.managed, who->managed.ids[i]);
	for (int i = 0; stores && i < stores->n; i++)
		RtStoresAdd(&c->watching, stores->ids[i]);
	c->counted = who->signed_in;
	c->has_since = has_since;
	c->since = since;
	c->fd = -1;
	c->sse_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

/* Frees a client nobody else refers to any more */
static void
ClientDestroy(RtClient *c)
{
	if (c->counted)
		UserRelease(c->rt, c->who.user_id);
	RtStoresClear(&c->who.managed);
	RtStoresClear(&c->watching);
	free(c->replayed);
	free(c->extra);
	free(c->out);
	free(c->buf);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void
RealtimeClientOwnedBy(RtClient *c, RtClient **slot)
{
	c->owner_slot = slot;
}

void
RealtimeClientFree(RtClient *c)
{
	if (c != NULL)
		ClientDestroy(c);
}

static void
Wake(Realtime *rt)
{
	uint64_t one = 1;

	if (write(rt->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		LogWrite(LOG_WARN, "realtime: cannot wake the realtime thread",
				 json_pack("{s:s,s:i}", "error", strerror(errno), "fd", rt->wakefd));
}

static void Unref(RtClient *c);

/* Hands a client to the realtime thread */
static void
Post(Realtime *rt, RtClient *c)
{
	bool stopped;

	pthread_mutex_lock(&rt->lock);
	stopped = rt->stop;
	if (!stopped)
	{
		c->inbox_next = rt->inbox;
		rt->inbox = c;
	}
	pthread_mutex_unlock(&rt->lock);
	if (!stopped)
	{
		Wake(rt);
		return;
	}
	/*
	 * Shutting down (a keep-alive connection asked after the listening
	 * socket closed): the socket goes back to be closed at once, the
	 * stream ends as soon as libmicrohttpd reads it.
	 */
	if (c->kind == RT_WS)
	{
		MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
		ClientDestroy(c);
	}
	else
	{
		pthread_mutex_lock(&c->lock);
		c->ended = true;
		pthread_mutex_unlock(&c->lock);
		Unref(c);
	}
}

void
RealtimeUpgraded(void *cls, struct MHD_Connection *connection, void *req_cls, const char *extra_in,
				 size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	RtClient *c = cls;

	(void) connection;
	(void) req_cls;
	if (c->owner_slot)
		*c->owner_slot = NULL;
	c->owner_slot = NULL;
	c->fd = sock;
	c->urh = urh;
	if (extra_in_size > 0)
	{
		c->extra = malloc(extra_in_size);
		memcpy(c->extra, extra_in, extra_in_size);
		c->extra_len = extra_in_size;
	}
	Post(c->rt, c);
}

/* ---------------------------------------------------------------- SSE */

/* libmicrohttpd reads the stream here (an HTTP thread) */
static ssize_t
SseRead(void *cls, uint64_t pos, char *out, size_t max)
{
	RtClient *c = cls;
	ssize_t	  n;

	(void) pos;
	pthread_mutex_lock(&c->lock);
	if (c->off < c->len)
	{
		size_t take = c->len - c->off < max ? c->len - c->off : max;

		memcpy(out, c->buf + c->off, take);
		c->off += take;
		if (c->off == c->len)
			c->off = c->len = 0;
		n = (ssize_t) take;
	}
	else if (c->ended)
		n = MHD_CONTENT_READER_END_OF_STREAM;
	else
	{
		/* nothing to send: sleep until the realtime thread has something (it resumes us) */
		c->suspended = true;
		MHD_suspend_connection(c->connection);
		n = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

static void
Unref(RtClient *c)
{
	int refs;

	pthread_mutex_lock(&c->lock);
	refs = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (refs == 0)
		ClientDestroy(c);
}

/* The response is gone (an HTTP thread): the client may no longer be resumed */
static void
SseFree(void *cls)
{
	RtClient *c = cls;

	pthread_mutex_lock(&c->lock);
	c->gone = true;
	pthread_mutex_unlock(&c->lock);
	Unref(c);
}

struct MHD_Response *
RealtimeSseResponse(RtClient *c, struct MHD_Connection *connection)
{
	struct MHD_Response *resp;

	if (c->owner_slot)
		*c->owner_slot = NULL;
	c->owner_slot = NULL;
	c->connection = connection;
	{
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);

		c->sse_fd = info ? info->connect_fd : -1;
	}
	c->refs = 2; /* the realtime thread's, and the response's */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, SseRead, c, SseFree);
	if (resp == NULL)
	{
		c->refs = 1;
		c->gone = true;
	}
	Post(c->rt, c);
	return resp;
}

/*
 * SseAppend queues bytes for an SSE client and wakes its connection.  Past
 * the send buffer the stream ends: the client reconnects with
 * Last-Event-ID and catches up, rather than making us hold its backlog.
 */
static bool
SseAppend(RtClient *c, const char *data, size_t n)
{
	bool ok = true;

	pthread_mutex_lock(&c->lock);
	if (c->ended || c->gone)
		ok = false;
	else if (c->len + n > c->rt->config.send_buffer)
	{
		c->ended = true;
		atomic_fetch_add(&c->rt->slow_dropped, 1);
		ok = false;
	}
	else
	{
		if (c->len + n > c->cap)
		{
			c->cap = (c->len + n) * 2;
			c->buf = Grow(c->buf, c->cap);
		}
		memcpy(c->buf + c->len, data, n);
		c->len += n;
	}
	/* resuming under the client's lock: the connection cannot go away while it is suspended */
	if (c->suspended && !c->gone)
	{
		c->suspended = false;
		MHD_resume_connection(c->connection);
	}
	pthread_mutex_unlock(&c->lock);
	return ok;
}

static void
SseEnd(RtClient *c)
{
	pthread_mutex_lock(&c->lock);
	c->ended = true;
	if (c->suspended && !c->gone)
	{
		c->suspended = false;
		MHD_resume_connection(c->connection);
	}
	pthread_mutex_unlock(&c->lock);
}

/* ---------------------------------------------------------------- WebSocket */

static void
WsWantWrite(RtClient *c)
{
	struct epoll_event ev = {0};
	uint32_t		   want = EPOLLIN | (c->out_len > 0 || wslay_event_want_write(c->ws) ? EPOLLOUT : 0);

	if (want == c->interest)
		return;
	c->interest = want;
	ev.events = want;
	ev.data.ptr = c;
	epoll_ctl(c->rt->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queues a close frame and gives the peer CLOSE_GRACE_MS to answer */
static void
WsClose(RtClient *c, uint16_t code, const char *reason)
{
	if (c->closing || c->dead)
		return;
	c->closing = true;
	c->close_by_ms = NowMs() + CLOSE_GRACE_MS;
	wslay_event_queue_close(c->ws, code, (const uint8_t *) reason, strlen(reason));
}

static bool
WsQueueText(RtClient *c, const char *text, size_t len)
{
	struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *) text, len};

	if (c->closing || c->dead)
		return false;
	if (wslay_event_get_queued_msg_length(c->ws) + c->out_len + len > c->rt->config.send_buffer)
	{
		atomic_fetch_add(&c->rt->slow_dropped, 1);
		LogWrite(LOG_WARN, "realtime: slow client closed",
				 json_pack("{s:s,s:I}", "userId", c->who.signed_in ? c->who.user_id : "", "queuedBytes",
						   (json_int_t) wslay_event_get_queued_msg_length(c->ws)));
		WsClose(c, WS_CLOSE_TRYLATER, "slow consumer: reconnect with since");
		return false;
	}
	return wslay_event_queue_msg(c->ws, &msg) == 0;
}

static ssize_t
WsRecv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	RtClient *c = user;
	ssize_t	  r;

	(void) flags;
	if (c->extra_off < c->extra_len)
	{
		size_t take = c->extra_len - c->extra_off < len ? c->extra_len - c->extra_off : len;

		memcpy(buf, c->extra + c->extra_off, take);
		c->extra_off += take;
		return (ssize_t) take;
	}
	r = recv(c->fd, buf, len, 0);
	if (r > 0)
	{
		c->last_heard_ms = NowMs();
		return r;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
	{
		c->peer_gone = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	}
	return -1;
}

/*
 * WsSend takes the bytes wslay frames into the client's out buffer: a
 * frame's header and payload, and the frames of several messages, then go
 * out in one send() (WsWriteOut), not one each.
 */
static ssize_t
WsSend(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	RtClient *c = user;
	size_t	  room = WS_OUT_CHUNK - c->out_len;

	(void) flags;
	if (room == 0)
	{
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (c->out == NULL)
		c->out = malloc(WS_OUT_CHUNK);
	if (len > room)
		len = room;
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return (ssize_t) len;
}

/*
 * Sends the out buffer as far as the socket takes it; false when the
 * socket failed.  An emptied buffer is freed: a client that keeps up holds
 * none (with 1,000 clients, 16 KiB each kept was most of the proxy's RSS,
 * and more of it was touched with every round of reconnects).
 */
static bool
WsWriteOut(RtClient *c)
{
	while (c->out_len > 0)
	{
		ssize_t r = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r > 0)
		{
			memmove(c->out, c->out + r, c->out_len - (size_t) r);
			c->out_len -= (size_t) r;
		}
		else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return true;
		else
			return false;
	}
	free(c->out);
	c->out = NULL;
	return true;
}

static void
SendJson(RtClient *c, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);

	if (text)
		WsQueueText(c, text, strlen(text));
	free(text);
	json_decref(doc);
}

static json_t *
StoresJson(const RtStores *s)
{
	json_t *a = json_array();

	for (int i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->ids[i]));
	return a;
}

/* A client's text message: subscribe or unsubscribe */
static void
WsMessage(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	RtClient	   *c = user;
	RtClientMessage msg;
	char			err[160];

	(void) ctx;
	c->last_heard_ms = NowMs();
	if (arg->opcode == WSLAY_BINARY_FRAME)
	{
		WsClose(c, WS_CLOSE_BINARY, "binary messages are not accepted");
		return;
	}
	if (arg->opcode != WSLAY_TEXT_FRAME)
		return; /* close, ping and pong: wslay answers them */
	if (!Utf8IsValid((const char *) arg->msg, arg->msg_length))
	{
		WsClose(c, WS_CLOSE_BADDATA, "a text message must be UTF-8");
		return;
	}
	switch (RtParseClientMessage((const char *) arg->msg, arg->msg_length, &msg, err, sizeof(err)))
	{
		case RT_MSG_SUBSCRIBE:
			for (int i = 0; i < msg.nstores; i++)
				if (!RtStoresAdd(&c->watching, msg.stores[i]))
				{
					SendJson(c, json_pack("{s:s,s:{s:s,s:s}}", "type", "error", "error", "code",
										  "validation_failed", "message",
										  "a stream watches at most 100 stores"));
					break;
				}
			SendJson(c, json_pack("{s:s,s:o}", "type", "subscribed", "stores", StoresJson(&c->watching)));
			break;
		case RT_MSG_UNSUBSCRIBE:
			for (int i = 0; i < msg.nstores; i++)
				RtStoresRemove(&c->watching, msg.stores[i]);
			SendJson(c, json_pack("{s:s,s:o}", "type", "unsubscribed", "stores", StoresJson(&c->watching)));
			break;
		case RT_MSG_INVALID:
			SendJson(c, json_pack("{s:s,s:{s:s,s:s}}", "type", "error", "error", "code", "validation_failed",
								  "message", err));
			break;
	}
}

/* ---------------------------------------------------------------- the client list */

static void
Unlink(Realtime *rt, RtClient *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		rt->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

/*
 * Drop lets go of a client: its socket goes back to libmicrohttpd to
 * close, its stream ends.  The struct itself is freed at the end of the
 * loop's turn (Bury), since later events of the same epoll batch may still
 * name it.
 */
static void
Drop(Realtime *rt, RtClient *c)
{
	if (c->dead)
		return;
	Unlink(rt, c);
	c->dead = true;
	if (c->kind == RT_WS)
	{
		epoll_ctl(rt->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		wslay_event_context_free(c->ws);
		c->ws = NULL;
		MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
		atomic_fetch_sub(&rt->ws_clients, 1);
	}
	else
	{
		SseEnd(c);
		atomic_fetch_sub(&rt->sse_clients, 1);
	}
	c->next = rt->graveyard;
	rt->graveyard = c;
}

static void
Bury(Realtime *rt)
{
	while (rt->graveyard)
	{
		RtClient *c = rt->graveyard;

		rt->graveyard = c->next;
		if (c->kind == RT_WS)
			ClientDestroy(c);
		else
			Unref(c);
	}
}

/*
 * WsFlush sends what is queued.  Once our close frame is out, the peer has
 * CLOSE_GRACE_MS to answer with its own (or hang up); closing the socket
 * while its bytes are still unread would reset the connection and could
 * destroy the close frame before the peer reads it.
 */
static void
WsFlush(Realtime *rt, RtClient *c)
{
	if (c->dead)
		return;
	/* what is gathered goes first; then more frames while the socket takes them */
	for (;;)
	{
		if (!WsWriteOut(c))
		{
			Drop(rt, c);
			return;
		}
		if (c->out_len > 0 || !wslay_event_want_write(c->ws))
			break;
		if (wslay_event_send(c->ws) != 0)
		{
			Drop(rt, c);
			return;
		}
	}
	if (wslay_event_get_close_sent(c->ws) && !wslay_event_want_write(c->ws) && c->out_len == 0)
	{
		if (wslay_event_get_close_received(c->ws))
		{
			Drop(rt, c);
			return;
		}
		if (!c->closing)
		{
			c->closing = true;
			c->close_by_ms = NowMs() + CLOSE_GRACE_MS;
		}
		if (!c->half_closed)
		{
			shutdown(c->fd, SHUT_WR);
			c->half_closed = true;
		}
	}
	WsWantWrite(c);
}

/*
 * WsRead reads what the peer sent; false when the connection is to go.
 * wslay answers a bad message with a close of the right code, but a frame
 * its framer refuses (a fragmented or over-long control frame, a length
 * with its top bit set) only with a close without a code, and an error.
 * Such a peer is failed with 1002 as RFC 6455 asks: our own close frame
 * goes out after the complete frames already gathered, unless a message
 * of wslay's is still half written (then the peer is just dropped).
 */
static bool
WsRead(RtClient *c)
{
	static const char protocol_error[] = {(char) 0x88, 0x02, 0x03, (char) 0xea}; /* close, 1002 */

	if (wslay_event_recv(c->ws) == 0)
		return true;
	if (c->peer_gone || c->closing || wslay_event_get_queued_msg_count(c->ws) > 1 ||
		c->out_len + sizeof(protocol_error) > WS_OUT_CHUNK)
		return false;
	wslay_event_shutdown_read(c->ws);  /* what else comes is drained */
	wslay_event_shutdown_write(c->ws); /* its close without a code stays unsent */
	if (c->out == NULL)
		c->out = malloc(WS_OUT_CHUNK);
	memcpy(c->out + c->out_len, protocol_error, sizeof(protocol_error));
	c->out_len += sizeof(protocol_error);
	c->closing = true;
	c->close_by_ms = NowMs() + CLOSE_GRACE_MS;
	if (!WsWriteOut(c))
		return false;
	if (c->out_len == 0)
	{
		shutdown(c->fd, SHUT_WR);
		c->half_closed = true;
	}
	return true;
}

/* Reads and drops what a peer sends after wslay stopped reading; false at its end */
static bool
WsDrain(RtClient *c)
{
	char	scratch[4096];
	ssize_t r;

	while ((r = recv(c->fd, scratch, sizeof(scratch), 0)) > 0)
		;
	return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

static bool
Replayed(RtClient *c, int64_t id)
{
	size_t lo = 0, hi = c->nreplayed;

	while (lo < hi)
	{
		size_t mid = (lo + hi) / 2;

		if (c->replayed[mid] == id)
			return true;
		if (c->replayed[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int
CompareIds(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

/* wslay's frame writer appends here (rt->frame) */
static ssize_t
FrameCollect(const uint8_t *data, size_t len, int flags, void *user)
{
	Realtime *rt = user;

	(void) flags;
	if (rt->frame_len + len > rt->frame_cap)
	{
		rt->frame_cap = (rt->frame_len + len) * 2;
		rt->frame = Grow(rt->frame, rt->frame_cap);
	}
	memcpy(rt->frame + rt->frame_len, data, len);
	rt->frame_len += len;
	return (ssize_t) len;
}

/* The text frame of a message, framed by wslay into rt->frame */
static bool
FrameBuild(Realtime *rt, const char *message, size_t len)
{
	struct wslay_frame_iocb iocb = {1, 0, WSLAY_TEXT_FRAME, len, 0, (const uint8_t *) message, len};
	size_t					sent = 0;

	rt->frame_len = 0;
	while (sent < len || (len == 0 && rt->frame_len == 0))
	{
		ssize_t r = wslay_frame_send(rt->framer, &iocb);

		if (r < 0)
			return false;
		sent += (size_t) r;
		iocb.data = (const uint8_t *) message + sent;
		iocb.data_length = len - sent;
		if (len == 0)
			break;
	}
	return true;
}

/*
 * WsQueueFrame gives a client an event's frame as built once for all,
 * when wslay has nothing of its own under way (no frame of its may be cut
 * in two): sent from the shared frame at once when nothing of the
 * client's is waiting, and what the socket does not take (or all of it,
 * behind what waits) into its out buffer.  Otherwise through wslay's queue.
 */
static bool
WsQueueFrame(RtClient *c, const char *message, size_t len)
{
	Realtime *rt = c->rt;
	size_t	  sent = 0;

	if (c->closing || c->dead)
		return false;
	if (rt->frame_len == 0 || wslay_event_want_write(c->ws) || c->out_len + rt->frame_len > WS_OUT_CHUNK)
		return WsQueueText(c, message, len);
	if (c->out_len == 0)
	{
		ssize_t r = send(c->fd, rt->frame, rt->frame_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		/* a failed socket is found by the flush that follows, which sends the rest */
		if (r > 0)
			sent = (size_t) r;
		if (sent == rt->frame_len)
			return true;
	}
	if (c->out == NULL)
		c->out = malloc(WS_OUT_CHUNK);
	memcpy(c->out + c->out_len, rt->frame + sent, rt->frame_len - sent);
	c->out_len += rt->frame_len - sent;
	return true;
}

/* One event's message to one client */
static void
Deliver(Realtime *rt, RtClient *c, int64_t id, const char *message, size_t len)
{
	bool sent;

	if (c->dead)
		return;
	if (c->kind == RT_WS)
	{
		sent = WsQueueFrame(c, message, len);
		WsFlush(rt, c);
	}
	else
	{
		size_t n;
		char  *frame = RtSseFrame(id, message, len, &n);

		sent = SseAppend(c, frame, n);
		free(frame);
	}
	if (sent)
		atomic_fetch_add_explicit(&rt->delivered, 1, memory_order_relaxed);
}

/*
 * Closes at once every stream of a revoked session (session_id), or of a
 * user whose rights changed (user_id): the client reconnects with since=
 * and is served under its rights of now
 */
static void
CloseStreams(Realtime *rt, const char *session_id, const char *user_id, const char *reason)
{
	RtClient *next;

	for (RtClient *c = rt->clients; c; c = next)
	{
		next = c->next;
		if (!c->who.signed_in)
			continue;
		if (session_id ? strcmp(c->who.session_id, session_id) != 0 : strcmp(c->who.user_id, user_id) != 0)
			continue;
		if (c->kind == RT_WS)
		{
			WsClose(c, WS_CLOSE_POLICY, reason);
			WsFlush(rt, c);
		}
		else
			Drop(rt, c);
	}
}

/* One event read from the database, to every client the rule lets see it */
static void
Dispatch(Realtime *rt, const RtEventMeta *ev, const char *message, size_t len)
{
	RtClient *next;
	int64_t	  now = NowMs();

	if (SeenHas(rt, ev->id))
		return;
	SeenAdd(rt, ev->id);
	if (ev->id > rt->last_id)
		rt->last_id = ev->id;
	atomic_fetch_add_explicit(&rt->received, 1, memory_order_relaxed);
	if (strcmp(ev->type, "session.revoked") == 0)
	{
		json_t	   *doc = json_loadb(message, len, 0, NULL);
		const char *sid = json_string_value(json_object_get(json_object_get(doc, "data"), "sessionId"));

		if (sid)
			CloseStreams(rt, sid, NULL, "session revoked");
		json_decref(doc);
		return;
	}
	if (strcmp(ev->type, "access.changed") == 0)
	{
		if (ev->user_id)
			CloseStreams(rt, NULL, ev->user_id, "access changed: reconnect");
		return;
	}
	if (!FrameBuild(rt, message, len))
		rt->frame_len = 0; /* every client goes through wslay's queue instead */
	for (RtClient *c = rt->clients; c; c = next)
	{
		next = c->next;
		if (!c->replay_done || !RtEventVisible(&c->who, &c->watching, ev))
			continue;
		if (c->nreplayed > 0)
		{
			if (now > c->replayed_until_ms)
			{
				free(c->replayed);
				c->replayed = NULL;
				c->nreplayed = 0;
			}
			else if (Replayed(c, ev->id))
				continue;
		}
		Deliver(rt, c, ev->id, message, len);
	}
}

/* ---------------------------------------------------------------- the listener */

static void
ListenerLost(Realtime *rt, const char *why)
{
	if (rt->listener)
	{
		epoll_ctl(rt->epfd, EPOLL_CTL_DEL, PQsocket(rt->listener), NULL);
		PQfinish(rt->listener);
		rt->listener = NULL;
	}
	if (atomic_exchange(&rt->listener_up, false))
		LogWrite(LOG_WARN, "realtime: listener lost", json_pack("{s:s}", "reason", why));
	rt->next_connect_ms = NowMs() + rt->backoff_ms;
	rt->backoff_ms = rt->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : rt->backoff_ms * 2;
}

/* Dispatches the rows (id, type, store_id, user_id, message) of res, in their order */
static void
DispatchRows(Realtime *rt, PGresult *res, int n)
{
	for (int r = 0; r < n; r++)
	{
		RtEventMeta ev;

		ev.id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		ev.type = PQgetvalue(res, r, 1);
		ev.store_id = PQgetisnull(res, r, 2) ? NULL : PQgetvalue(res, r, 2);
		ev.user_id = PQgetisnull(res, r, 3) ? NULL : PQgetvalue(res, r, 3);
		Dispatch(rt, &ev, PQgetvalue(res, r, 4), (size_t) PQgetlength(res, r, 4));
	}
}

/*
 * CatchUp reads the log after the cursor (with the late commits below it,
 * events_fetch) and dispatches what was not delivered yet, in id order;
 * false when the connection broke.  It runs every
 * REALTIME_POLL_INTERVAL_MS (stock events are announced without NOTIFY
 * unless multistore.notify_stock_events is on: events.h), on every
 * notification (ListenerRead), and after every reconnect: it is the only
 * way events are read.
 */
static bool
CatchUp(Realtime *rt)
{
	for (;;)
	{
		char		after[32];
		char		limit[16];
		const char *values[2] = {after, limit};
		PGresult   *res;
		int			n;

		snprintf(after, sizeof(after), "%lld", (long long) rt->cursor);
		snprintf(limit, sizeof(limit), "%d", FETCH_PAGE);
		res = PQexecParams(rt->listener,
						   "SELECT id, type, store_id, user_id, message "
						   "  FROM multistore.events_fetch($1::bigint, NULL, $2::integer)",
						   2, NULL, values, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			LogWrite(LOG_WARN, "realtime: catching up failed",
					 json_pack("{s:s}", "error", PQresultErrorMessage(res)));
			PQclear(res);
			return false;
		}
		int64_t before = rt->cursor;

		n = PQntuples(res);
		DispatchRows(rt, res, n);
		/* rows come by id: the last is the highest */
		if (n > 0 && strtoll(PQgetvalue(res, n - 1, 0), NULL, 10) > rt->cursor)
			rt->cursor = strtoll(PQgetvalue(res, n - 1, 0), NULL, 10);
		PQclear(res);
		/* a full page of late commits alone does not move the cursor: the next poll reads on */
		if (n < FETCH_PAGE || rt->cursor == before)
			return true;
	}
}

static void Replay(Realtime *rt, RtClient *c);

static void
ListenerConnect(Realtime *rt)
{
	char			   timeout[16];
	const char		  *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char		  *values[] = {rt->database_url, timeout, "multistore-proxy-realtime", NULL};
	PGresult		  *res;
	struct epoll_event ev = {0};

	snprintf(timeout, sizeof(timeout), "%d", rt->config.connect_timeout);
	rt->listener = PQconnectdbParams(keys, values, 1);
	if (PQstatus(rt->listener) != CONNECTION_OK)
	{
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(rt->listener));
		msg[strcspn(msg, "\n")] = '\0';
		PQfinish(rt->listener);
		rt->listener = NULL;
		ListenerLost(rt, msg);
		return;
	}
	/* LISTEN first, then catch up: what commits in between arrives both ways, once each */
	res = PQexec(rt->listener, "LISTEN " LISTEN_CHANNEL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		PQclear(res);
		ListenerLost(rt, "LISTEN failed");
		return;
	}
	PQclear(res);
	/* counted when connected, whether or not the catch-up gets through before the next break */
	if (rt->connected_once)
		atomic_fetch_add(&rt->reconnects, 1);
	rt->connected_once = true;
	if (!rt->have_last)
	{
		/* a new proxy has no client to catch up for: it starts from now */
		res = PQexec(rt->listener, "SELECT multistore.events_last_id()");
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			PQclear(res);
			ListenerLost(rt, "reading the last event failed");
			return;
		}
		rt->last_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		rt->cursor = rt->last_id;
		rt->have_last = true;
		PQclear(res);
	}
	else if (!CatchUp(rt))
	{
		ListenerLost(rt, "catching up failed");
		return;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &listener_tag;
	epoll_ctl(rt->epfd, EPOLL_CTL_ADD, PQsocket(rt->listener), &ev);
	LogWrite(LOG_INFO, "realtime: listener connected",
			 json_pack("{s:I}", "lastId", (json_int_t) rt->last_id));
	rt->backoff_ms = BACKOFF_FIRST_MS;
	atomic_store(&rt->listener_up, true);
	/* clients that arrived while the database was away get their catch-up now */
	for (RtClient *c = rt->clients, *next; c; c = next)
	{
		next = c->next;
		if (!c->replay_done)
			Replay(rt, c);
	}
}

/*
 * ListenerDrain takes the notifications libpq has; true when there was at
 * least one.  A notification only says that events committed: what to
 * send, and in which order, is CatchUp's (ListenerRead).
 */
static bool
ListenerDrain(Realtime *rt)
{
	PGnotify *note;
	bool	  any = false;

	while ((note = PQnotifies(rt->listener)) != NULL)
	{
		any = true;
		PQfreemem(note);
	}
	return any;
}

/*
 * ListenerRead takes what arrived on the listener's socket.  On any
 * notification it reads the log from its cursor (CatchUp), as the poll
 * does, so the events go out in id order, each after every event committed
 * before it.  Sending the notified ids themselves at once put an order
 * event ahead of the stock events written before it (they have no NOTIFY
 * and waited for the next poll), those of its own transaction included; a
 * client that resumed from the order event's id, the highest it had seen
 * as the README tells it to, never got them: events_since counts them as
 * seen (the same transaction, or committed before the order event was
 * written).  Notifications that arrive while we read events are buffered
 * by libpq, not left on the socket, so this goes on until none is left.
 */
static void
ListenerRead(Realtime *rt)
{
	if (!PQconsumeInput(rt->listener))
	{
		ListenerLost(rt, "connection lost");
		return;
	}
	while (ListenerDrain(rt))
	{
		if (!CatchUp(rt))
		{
			/* nothing is lost: the catch-up after reconnecting reads from the same cursor */
			ListenerLost(rt, "reading events failed");
			return;
		}
		if (!PQconsumeInput(rt->listener))
		{
			ListenerLost(rt, "connection lost");
			return;
		}
	}
}

/* ---------------------------------------------------------------- adoption and catch-up */

/*
 * Replay sends a resuming client what it missed, by the extension's own
 * rule (events_since, as the client's session), and remembers those ids
 * for a while so the live stream does not send them again.
 */
static void
Replay(Realtime *rt, RtClient *c)
{
	int64_t after = c->since;
	size_t	cap = 0;

	if (!c->has_since)
	{
		c->replay_done = true;
		return;
	}
	if (rt->listener == NULL)
		return; /* when the listener is back */
	for (int page = 0; page < REPLAY_PAGES; page++)
	{
		char		after_text[32];
		char		stores[RT_MAX_STORES * (RT_ID_MAX + 1) + 3];
		size_t		o = 0;
		const char *values[3] = {c->who.signed_in ? c->who.session_id : NULL, after_text, stores};
		PGresult   *res;
		json_t	   *doc, *events;
		size_t		i;

		snprintf(after_text, sizeof(after_text), "%lld", (long long) after);
		stores[o++] = '{';
		for (int s = 0; s < c->watching.n; s++)
			o += (size_t) snprintf(stores + o, sizeof(stores) - o, "%s%s", s ? "," : "", c->watching.ids[s]);
		stores[o++] = '}';
		stores[o] = '\0';
		res = PQexecParams(rt->listener,
						   "SELECT multistore.events_since($1::uuid, $2::bigint, $3::text[], 1000)::text", 3,
						   NULL, values, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			PQclear(res);
			if (state && state[0] == 'M')
			{
				/* the session ended in the meantime */
				c->replay_done = true;
				if (c->kind == RT_WS)
				{
					WsClose(c, WS_CLOSE_POLICY, "session revoked");
					WsFlush(rt, c);
				}
				else
					Drop(rt, c);
				return;
			}
			ListenerLost(rt, "catching a client up failed");
			return;
		}
		doc = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
		PQclear(res);
		events = json_object_get(doc, "events");
		for (i = 0; i < json_array_size(events); i++)
		{
			json_t *e = json_array_get(events, i);
			int64_t id = (int64_t) json_integer_value(json_object_get(e, "id"));
			char   *text = json_dumps(e, JSON_COMPACT);

			if (c->nreplayed == cap)
			{
				cap = cap ? cap * 2 : 64;
				c->replayed = Grow(c->replayed, cap * sizeof(int64_t));
			}
			c->replayed[c->nreplayed++] = id;
			rt->frame_len = 0; /* the frame of the last live event is not this one */
			if (text)
				Deliver(rt, c, id, text, strlen(text));
			free(text);
		}
		if (c->dead)
		{
			json_decref(doc);
			return;
		}
		after = (int64_t) json_integer_value(json_object_get(doc, "lastId"));
		json_decref(doc);
		if (i < 1000)
			break;
	}
	/* nothing to catch up on leaves replayed NULL, which qsort may not be given (UBSan stops there) */
	if (c->nreplayed > 1)
		qsort(c->replayed, c->nreplayed, sizeof(int64_t), CompareIds);
	c->replayed_until_ms = NowMs() + REPLAY_DEDUP_MS;
	c->replay_done = true;
}

/*
 * FirstPingMs is when a new WebSocket gets its first ping: somewhere in the
 * second half of the interval, spread by the golden ratio over the sockets
 * adopted, then every interval.  Clients that connect together (all of
 * them, after a restart) would otherwise be pinged, and answer, in the
 * same tick, every interval: a thousand pings and pongs in one turn of the
 * loop held back the events behind them (tens of ms, measured).
 */
static int64_t
FirstPingMs(Realtime *rt)
{
	int64_t interval = (int64_t) rt->config.ping_interval * 1000;
	int64_t half = interval / 2;

	return interval - half + (int64_t) ((uint64_t) (rt->adopted++) * 2654435761u % (uint64_t) (half + 1));
}

/* A client handed over by an HTTP thread joins the list */
static void
Adopt(Realtime *rt, RtClient *c)
{
	int64_t now;

	/*
	 * What committed before the client came is dispatched before it joins:
	 * it gets the events after its arrival (or after its since=), never a
	 * few from just before it that the poll had not read yet.
	 */
	if (rt->listener != NULL && !CatchUp(rt))
		ListenerLost(rt, "reading the log failed");
	now = NowMs();
	c->next = rt->clients;
	if (rt->clients)
		rt->clients->prev = c;
	rt->clients = c;
	if (c->kind == RT_WS)
	{
		struct wslay_event_callbacks callbacks = {WsRecv, WsSend, NULL, NULL, NULL, NULL, WsMessage};
		struct epoll_event			 ev = {0};
		int							 flags = fcntl(c->fd, F_GETFL, 0);

		atomic_fetch_add(&rt->ws_clients, 1);
		fcntl(c->fd, F_SETFL, flags | O_NONBLOCK);
		/* an event is one small write: out at once, not held for more (Nagle, or a cork left on) */
		MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CORK_OFF);
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
		wslay_event_context_server_init(&c->ws, &callbacks, c);
		wslay_event_config_set_max_recv_msg_length(c->ws, rt->config.max_message);
		c->last_heard_ms = now;
		c->next_ping_ms = now + FirstPingMs(rt);
		c->interest = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(rt->epfd, EPOLL_CTL_ADD, c->fd, &ev);
		Replay(rt, c);
		/* the client knows from here on it misses nothing */
		SendJson(c, json_pack("{s:s,s:I,s:o}", "type", "ready", "lastId", (json_int_t) rt->last_id, "stores",
							  StoresJson(&c->watching)));
		WsFlush(rt, c);
	}
	else
	{
		static const char hello[] = "retry: 2000\n: ready\n\n";

		atomic_fetch_add(&rt->sse_clients, 1);
		c->next_heartbeat_ms = now + (int64_t) rt->config.sse_heartbeat * 1000;
		SseAppend(c, hello, sizeof(hello) - 1);
		Replay(rt, c);
	}
}

static void
TakeInbox(Realtime *rt)
{
	RtClient *list;
	uint64_t  count;

	if (read(rt->wakefd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		LogWrite(LOG_WARN, "realtime: reading the wake-up failed", NULL);
	pthread_mutex_lock(&rt->lock);
	list = rt->inbox;
	rt->inbox = NULL;
	pthread_mutex_unlock(&rt->lock);
	/* the inbox is last in, first out: adopt in arrival order */
	{
		RtClient *reversed = NULL;

		while (list)
		{
			RtClient *next = list->inbox_next;

			list->inbox_next = reversed;
			reversed = list;
			list = next;
		}
		list = reversed;
	}
	while (list)
	{
		RtClient *next = list->inbox_next;

		list->inbox_next = NULL;
		Adopt(rt, list);
		list = next;
	}
}

/* ---------------------------------------------------------------- timers */

/*
 * SsePeerGone: whether the peer of a suspended event stream closed its
 * end (or the socket failed).  libmicrohttpd does not watch a suspended
 * connection, so it learnt of a client gone away only when a write failed:
 * the second heartbeat after, since the first still goes into the socket's
 * buffer.  Until then the stream held a socket and one of its user's
 * REALTIME_MAX_PER_USER.  Called under the client's lock, while suspended:
 * the socket is libmicrohttpd's and open.  MSG_PEEK takes nothing from it.
 */
static bool
SsePeerGone(RtClient *c)
{
	char	byte;
	ssize_t r;

	if (c->sse_fd < 0)
		return false;
	r = recv(c->sse_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void
Tick(Realtime *rt, int64_t now)
{
	RtClient *next;

	if (rt->listener == NULL && now >= rt->next_connect_ms)
		ListenerConnect(rt);
	for (RtClient *c = rt->clients; c; c = next)
	{
		next = c->next;
		if (c->kind == RT_WS)
		{
			if (c->closing && now >= c->close_by_ms)
			{
				Drop(rt, c);
				continue;
			}
			if (!c->closing && now - c->last_heard_ms > (int64_t) rt->config.idle_timeout * 1000)
			{
				WsClose(c, WS_CLOSE_GOING, "idle");
				WsFlush(rt, c);
				continue;
			}
			if (!c->closing && now >= c->next_ping_ms)
			{
				struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *) "", 0};

				wslay_event_queue_msg(c->ws, &ping);
				c->next_ping_ms = now + (int64_t) rt->config.ping_interval * 1000;
				WsFlush(rt, c);
			}
		}
		else
		{
			bool gone;

			pthread_mutex_lock(&c->lock);
			gone = c->gone || c->ended;
			if (!gone && c->suspended && now >= c->next_peer_check_ms)
			{
				gone = SsePeerGone(c);
				c->next_peer_check_ms = now + PEER_CHECK_MS;
			}
			pthread_mutex_unlock(&c->lock);
			if (gone)
				Drop(rt, c);
			else if (now >= c->next_heartbeat_ms)
			{
				static const char beat[] = ": heartbeat\n\n";

				SseAppend(c, beat, sizeof(beat) - 1);
				c->next_heartbeat_ms = now + (int64_t) rt->config.sse_heartbeat * 1000;
			}
		}
	}
}

/*
 * Trim gives memory back to the system once many streams have gone.  What
 * 1,000 clients used (their wslay contexts, libmicrohttpd's pools in the
 * HTTP threads' arenas) is freed when they leave, but glibc keeps it, and
 * each round of reconnects left more resident (40 -> 48 MiB over four
 * rounds of 1,000, measured); malloc_trim returns it (13 MiB after each).
 */
static void
Trim(Realtime *rt, int64_t now)
{
	unsigned open = atomic_load(&rt->ws_clients) + atomic_load(&rt->sse_clients);

	if (open > rt->trim_high)
		rt->trim_high = open;
	else if (open + TRIM_DEPARTED <= rt->trim_high && now - rt->last_trim_ms >= TRIM_EVERY_MS)
	{
		malloc_trim(0);
		rt->last_trim_ms = now;
		rt->trim_high = open;
	}
}

/* ---------------------------------------------------------------- the thread */

/*
 * WaitMs is how long the loop may sleep: until the next read of the log
 * or the next tick, whichever comes first.  (A fixed timeout of the poll
 * interval, counted from a wake-up that came a little early, made some
 * reads a whole interval late.)
 */
static int
WaitMs(Realtime *rt, int64_t last_tick)
{
	int64_t now = NowMs();
	int64_t until = last_tick + TICK_MS;

	if (rt->listener != NULL && rt->next_poll_ms < until)
		until = rt->next_poll_ms;
	return until <= now ? 0 : (int) (until - now);
}

static void *
Run(void *arg)
{
	Realtime		  *rt = arg;
	struct epoll_event events[64];
	int64_t			   last_tick = 0;
	int64_t			   stop_by = 0;

	for (;;)
	{
		int		n = epoll_wait(rt->epfd, events, 64, WaitMs(rt, last_tick));
		int64_t now = NowMs();
		bool	stop;

		for (int i = 0; i < n; i++)
		{
			void *tag = events[i].data.ptr;

			if (tag == &wake_tag)
				TakeInbox(rt);
			else if (tag == &listener_tag)
			{
				if (rt->listener)
					ListenerRead(rt);
			}
			else
			{
				RtClient *c = tag;

				if (c->dead)
					continue;
				if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
					WsFlush(rt, c);
				else if (wslay_event_get_read_enabled(c->ws) ? !WsRead(c) : !WsDrain(c))
					Drop(rt, c);
				else
					WsFlush(rt, c);
			}
		}
		if (rt->listener != NULL && now >= rt->next_poll_ms)
		{
			/*
			 * Counted from this read's start: counted from its end, the
			 * fan-out of what it read (some ms at 1,000 clients) delayed
			 * the next read by as much.
			 */
			rt->next_poll_ms = NowMs() + rt->config.poll_interval;
			if (!CatchUp(rt))
				ListenerLost(rt, "reading the log failed");
		}
		if (now - last_tick >= TICK_MS)
		{
			Tick(rt, now);
			Trim(rt, now);
			last_tick = now;
		}
		Bury(rt);

		pthread_mutex_lock(&rt->lock);
		stop = rt->stop;
		pthread_mutex_unlock(&rt->lock);
		if (stop && stop_by == 0)
		{
			RtClient *next;

			/* going away: 1001 to every WebSocket, the end to every stream */
			stop_by = now + CLOSE_GRACE_MS;
			for (RtClient *c = rt->clients; c; c = next)
			{
				next = c->next;
				if (c->kind == RT_WS)
				{
					WsClose(c, WS_CLOSE_GOING, "server shutting down");
					WsFlush(rt, c);
				}
				else
					Drop(rt, c);
			}
		}
		if (stop && (rt->clients == NULL || now >= stop_by))
			break;
	}
	while (rt->clients)
		Drop(rt, rt->clients);
	TakeInbox(rt);
	while (rt->clients)
		Drop(rt, rt->clients);
	Bury(rt);
	if (rt->listener)
		PQfinish(rt->listener);
	rt->listener = NULL;
	return NULL;
}

Realtime *
RealtimeStart(const RealtimeConfig *config)
{
	Realtime		  *rt = calloc(1, sizeof(Realtime));
	struct epoll_event ev = {0};

	rt->config = *config;
	rt->database_url = strdup(config->database_url);
	rt->config.database_url = rt->database_url;
	rt->cors_origins = config->cors_origins ? strdup(config->cors_origins) : NULL;
	rt->config.cors_origins = rt->cors_origins;
	rt->seen = calloc(SEEN_SLOTS, sizeof(int64_t));
	rt->seen_fifo = calloc(DELIVERED_MEMORY, sizeof(int64_t));
	rt->backoff_ms = BACKOFF_FIRST_MS;
	{
		struct wslay_frame_callbacks framing = {FrameCollect, NULL, NULL};

		wslay_frame_context_init(&rt->framer, &framing, rt);
	}
	pthread_mutex_init(&rt->lock, NULL);
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	rt->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = &wake_tag;
	epoll_ctl(rt->epfd, EPOLL_CTL_ADD, rt->wakefd, &ev);
	if (pthread_create(&rt->thread, NULL, Run, rt) != 0)
	{
		LogWrite(LOG_ERROR, "realtime: cannot start its thread", NULL);
		RealtimeDestroy(rt);
		return NULL;
	}
	return rt;
}

void
RealtimeStop(Realtime *rt)
{
	if (rt == NULL)
		return;
	pthread_mutex_lock(&rt->lock);
	rt->stop = true;
	pthread_mutex_unlock(&rt->lock);
	Wake(rt);
	pthread_join(rt->thread, NULL);
	rt->thread = 0;
}

void
RealtimeDestroy(Realtime *rt)
{
	if (rt == NULL)
		return;
	if (rt->thread)
		RealtimeStop(rt);
	close(rt->epfd);
	close(rt->wakefd);
	pthread_mutex_destroy(&rt->lock);
	free(rt->users);
	free(rt->seen);
	free(rt->seen_fifo);
	wslay_frame_context_free(rt->framer);
	free(rt->frame);
	free(rt->database_url);
	free(rt->cors_origins);
	free(rt);
}

void
RealtimeGetStats(Realtime *rt, RealtimeStats *out)
{
	memset(out, 0, sizeof(*out));
	if (rt == NULL)
		return;
	out->ws_clients = atomic_load(&rt->ws_clients);
	out->sse_clients = atomic_load(&rt->sse_clients);
	out->events_received = atomic_load(&rt->received);
	out->events_delivered = atomic_load(&rt->delivered);
	out->slow_dropped = atomic_load(&rt->slow_dropped);
	out->reconnects = atomic_load(&rt->reconnects);
	out->listener_up = atomic_load(&rt->listener_up);
}
