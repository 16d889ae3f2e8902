/*
 * realtime_msg.h
 *	  The realtime streams' pure parts: the rule of who sees an event, the
 *	  messages a WebSocket client may send, the WebSocket handshake's key,
 *	  and an SSE frame.  No I/O here: tests/proxy/test_realtime_msg.c and
 *	  tests/fuzz/fuzz_realtime.c drive them directly.
 */
#ifndef PROXY_REALTIME_MSG_H
#define PROXY_REALTIME_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* stores one stream may watch (subscriptions and, for managers, managed stores) */
#define RT_MAX_STORES 100
#define RT_ID_MAX	  64

/* A set of store ids, kept sorted */
typedef struct RtStores
{
	int	  n;
	char *ids[RT_MAX_STORES];
} RtStores;

extern bool RtStoresAdd(RtStores *s, const char *id); /* false when full */
extern void RtStoresRemove(RtStores *s, const char *id);
extern bool RtStoresHas(const RtStores *s, const char *id);
extern void RtStoresClear(RtStores *s);

/* Who is watching: nobody (a kiosk), or a user of a session */
typedef struct RtIdentity
{
	bool	 signed_in;
	bool	 admin;
	char	 user_id[40];
	char	 session_id[40];
	RtStores managed; /* a store manager's stores, read when the stream opened */
} RtIdentity;

/* An event as the listener read it, routing fields only */
typedef struct RtEventMeta
{
	int64_t		id;
	const char *type;
	const char *store_id; /* may be NULL */
	const char *user_id;  /* may be NULL */
} RtEventMeta;

/*
 * RtEventVisible is the rule (the same as events_since in the extension):
 * order events go to the order's owner, the managers of its store and
 * admins; inventory.changed to whoever watches its store; nothing else
 * (session.revoked and access.changed are the proxy's own business) goes
 * to anyone.
 */
extern bool RtEventVisible(const RtIdentity *who, const RtStores *watching, const RtEventMeta *ev);

typedef enum RtMessageType
{
	RT_MSG_INVALID,
	RT_MSG_SUBSCRIBE,
	RT_MSG_UNSUBSCRIBE
} RtMessageType;

typedef struct RtClientMessage
{
	RtMessageType type;
	int			  nstores;
	char		  stores[RT_MAX_STORES][RT_ID_MAX + 1];
} RtClientMessage;

/*
 * RtParseClientMessage reads one text message from a client:
 * {"type":"subscribe"|"unsubscribe","stores":["store_1",...]}.  On
 * RT_MSG_INVALID, err says what is wrong (for an error message back).
 */
extern RtMessageType RtParseClientMessage(const char *text, size_t len, RtClientMessage *out, char *err,
										  size_t errlen);

/* Is it a store id: [A-Za-z0-9_.:-]{1,64}? */
extern bool RtIdIsValid(const char *s, size_t len);

/* Sec-WebSocket-Key: base64 of 16 bytes (24 characters) */
extern bool RtWebSocketKeyIsValid(const char *key);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 characters and a NUL */
extern void RtWebSocketAccept(const char *key, char out[29]);

/* Does a comma-separated header value (Connection, Upgrade) hold token, case-insensitively? */
extern bool RtHeaderHasToken(const char *value, const char *token);

/* One SSE frame: "id: <id>\ndata: <json>\n\n", malloc'd; *len its length */
extern char *RtSseFrame(int64_t id, const char *json, size_t json_len, size_t *len);

/* An event id as a resume point: decimal, 0..2^62; false when it is not one */
extern bool RtParseEventId(const char *s, int64_t *out);

#endif /* PROXY_REALTIME_MSG_H */
