/*
 * fuzz_realtime.c
 *	  What a WebSocket client can send the proxy: frames, read by wslay
 *	  configured as realtime.c configures it (a server context, messages of
 *	  at most 4 KiB), and the text messages that reach
 *	  RtParseClientMessage; plus the handshake's headers and resume ids.
 *
 * Input, newline-separated: 0 Sec-WebSocket-Key, 1 Connection, 2 a resume
 * id (since / Last-Event-ID); the rest: bytes from the client after the
 * upgrade, delivered to wslay in chunks whose sizes the input also picks.
 * Checks: a subscribe names only store ids an oracle accepts; the watched
 * set stays sorted, unique and bounded; an accepted key makes a 28-byte
 * accept value; a resume id round-trips; an SSE frame has one data line.
 */
#include <ctype.h>

#include <jansson.h>
#include <wslay/wslay.h>

#include "realtime_msg.h"

#include "fuzz.h"

FUZZ_FIXED_JANSSON_SEED

typedef struct Peer
{
	const uint8_t *data;
	size_t		   len;
	size_t		   off;
	size_t		   chunk; /* bytes per recv, from the input */
	RtStores	   watching;
	int			   messages;
} Peer;

static bool
OracleId(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char) s[i]) && !strchr("_.:-", s[i]))
			return false;
	return true;
}

static ssize_t
Recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	Peer  *p = user;
	size_t take = p->len - p->off;

	(void) flags;
	if (take == 0)
	{
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (take > len)
		take = len;
	if (take > p->chunk)
		take = p->chunk;
	memcpy(buf, p->data + p->off, take);
	p->off += take;
	return (ssize_t) take;
}

static ssize_t
Send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	(void) ctx;
	(void) data;
	(void) flags;
	(void) user;
	return (ssize_t) len;
}

static void
Message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	Peer		   *p = user;
	RtClientMessage msg;
	char			err[160];

	(void) ctx;
	p->messages++;
	if (arg->opcode != WSLAY_TEXT_FRAME)
		return;
	switch (RtParseClientMessage((const char *) arg->msg, arg->msg_length, &msg, err, sizeof(err)))
	{
		case RT_MSG_SUBSCRIBE:
			FuzzAssert(msg.nstores >= 1 && msg.nstores <= RT_MAX_STORES, "%d stores", msg.nstores);
			for (int i = 0; i < msg.nstores; i++)
			{
				FuzzAssert(OracleId(msg.stores[i]), "subscribed to a store id the oracle refuses");
				RtStoresAdd(&p->watching, msg.stores[i]);
			}
			break;
		case RT_MSG_UNSUBSCRIBE:
			for (int i = 0; i < msg.nstores; i++)
				RtStoresRemove(&p->watching, msg.stores[i]);
			break;
		case RT_MSG_INVALID:
			FuzzAssert(err[0] != '\0', "a refusal without a reason");
			break;
	}
	FuzzAssert(p->watching.n <= RT_MAX_STORES, "watching %d stores", p->watching.n);
	for (int i = 1; i < p->watching.n; i++)
		FuzzAssert(strcmp(p->watching.ids[i - 1], p->watching.ids[i]) < 0, "the set is sorted and unique");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fields						 f;
	Peer						 peer;
	wslay_event_context_ptr		 ctx;
	struct wslay_event_callbacks callbacks = {Recv, Send, NULL, NULL, NULL, NULL, Message};
	char						 accept[29];
	int64_t						 id;

	FieldsSplit(&f, data, size, 4);
	if (RtWebSocketKeyIsValid(f.field[0]))
	{
		RtWebSocketAccept(f.field[0], accept);
		FuzzAssert(strlen(accept) == 28, "accept value of %zu bytes", strlen(accept));
	}
	(void) RtHeaderHasToken(f.field[1], "upgrade");
	if (RtParseEventId(f.field[2], &id))
	{
		char   back[32];
		size_t len;
		char  *frame;

		snprintf(back, sizeof(back), "%lld", (long long) id);
		FuzzAssert(id >= 0 && strtoll(f.field[2], NULL, 10) == id, "resume id %s read as %s", f.field[2],
				   back);
		frame = RtSseFrame(id, f.field[3], f.len[3], &len);
		{
			char   head[48];
			size_t h = (size_t) snprintf(head, sizeof(head), "id: %lld\ndata: ", (long long) id);

			FuzzAssert(len == h + f.len[3] + 2 && memcmp(frame, head, h) == 0, "an SSE frame's head");
			FuzzAssert(memchr(frame + h, '\n', f.len[3]) == NULL && memcmp(frame + len - 2, "\n\n", 2) == 0,
					   "one data line, then the blank line");
		}
		free(frame);
	}

	memset(&peer, 0, sizeof(peer));
	peer.data = (const uint8_t *) f.field[3];
	peer.len = f.len[3];
	peer.chunk = f.len[3] > 0 ? 1 + (size_t) ((const uint8_t *) f.field[3])[0] % 64 : 1;
	if (peer.chunk > 48)
		peer.chunk = 4096;
	wslay_event_context_server_init(&ctx, &callbacks, &peer);
	wslay_event_config_set_max_recv_msg_length(ctx, 4096);
	for (int round = 0; round < 64 && peer.off < peer.len; round++)
	{
		if (wslay_event_recv(ctx) != 0)
			break;
		wslay_event_send(ctx);
		if (!wslay_event_get_read_enabled(ctx))
			break;
	}
	wslay_event_context_free(ctx);
	RtStoresClear(&peer.watching);
	FieldsFree(&f);
	return 0;
}
