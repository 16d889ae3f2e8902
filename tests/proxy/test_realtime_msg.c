/*
 * test_realtime_msg.c
 *	  The realtime streams' pure parts: who sees which event, the messages
 *	  a client may send, the handshake's key, SSE frames, resume ids.
 */
#include <stdlib.h>
#include <string.h>

#include "realtime_msg.h"
#include "tap.h"

static RtIdentity
Who(bool signed_in, bool admin, const char *user, const char *managed)
{
	RtIdentity who;

	memset(&who, 0, sizeof(who));
	who.signed_in = signed_in;
	who.admin = admin;
	snprintf(who.user_id, sizeof(who.user_id), "%s", user);
	if (managed)
		RtStoresAdd(&who.managed, managed);
	return who;
}

#define SUBSCRIBE "{\"type\":\"subscribe\",\"stores\":[\"store_1\",\"store_2\"]}"

int
main(void)
{
	RtStores		watching = {0};
	RtIdentity		alice = Who(true, false, "u-alice", NULL);
	RtIdentity		bob = Who(true, false, "u-bob", NULL);
	RtIdentity		manager = Who(true, false, "u-manager", "store_1");
	RtIdentity		admin = Who(true, true, "u-admin", NULL);
	RtIdentity		nobody = Who(false, false, "", NULL);
	RtEventMeta		order = {1, "order.status_changed", "store_1", "u-alice"};
	RtEventMeta		stock = {2, "inventory.changed", "store_1", NULL};
	RtEventMeta		revoked = {3, "session.revoked", NULL, "u-alice"};
	RtClientMessage msg;
	char			err[160];
	char			accept[29];
	size_t			len;
	char		   *frame;
	int64_t			id = -1;

	/* the rule */
	ok(RtEventVisible(&alice, &watching, &order), "an order's owner sees its events");
	ok(!RtEventVisible(&bob, &watching, &order), "another customer does not");
	ok(RtEventVisible(&manager, &watching, &order), "a manager of its store does");
	ok(RtEventVisible(&admin, &watching, &order), "an admin does");
	ok(!RtEventVisible(&nobody, &watching, &order), "nobody signed in does not");
	ok(!RtEventVisible(&alice, &watching, &stock), "stock goes to no one who does not watch the store");
	RtStoresAdd(&watching, "store_1");
	ok(RtEventVisible(&nobody, &watching, &stock), "and to anyone who does, signed in or not");
	ok(!RtEventVisible(&alice, &watching, &revoked), "session.revoked is never sent");
	ok(RtEventVisible(&admin, &watching, &(RtEventMeta){4, "order.created", "store_2", NULL}),
	   "admins see every order event");
	ok(!RtEventVisible(&manager, &watching, &(RtEventMeta){4, "order.created", "store_2", "u-x"}),
	   "a manager not of that store does not");

	/* store sets stay sorted and unique, and bounded */
	RtStoresAdd(&watching, "store_1");
	RtStoresAdd(&watching, "a_store");
	is_int(watching.n, 2, "a store is watched once");
	is_str(watching.ids[0], "a_store", "kept sorted");
	RtStoresRemove(&watching, "store_1");
	ok(!RtStoresHas(&watching, "store_1") && watching.n == 1, "removed");
	for (int i = 0; i < RT_MAX_STORES + 5; i++)
	{
		char id[16];

		snprintf(id, sizeof(id), "s%03d", i);
		RtStoresAdd(&watching, id);
	}
	is_int(watching.n, RT_MAX_STORES, "at most RT_MAX_STORES");
	RtStoresClear(&watching);
	RtStoresClear(&manager.managed);

	/* client messages */
	is_int(RtParseClientMessage(SUBSCRIBE, strlen(SUBSCRIBE), &msg, err, sizeof(err)), RT_MSG_SUBSCRIBE,
		   "subscribe");
	is_int(msg.nstores, 2, "with its stores");
	is_str(msg.stores[1], "store_2", "in order");
	is_int(RtParseClientMessage("{\"type\":\"unsubscribe\",\"stores\":[\"x\"]}", 37, &msg, err, sizeof(err)),
		   RT_MSG_UNSUBSCRIBE, "unsubscribe");
	{
		static const char *const bad[] = {
			"",
			"[]",
			"{\"type\":\"subscribe\"}",
			"{\"type\":\"subscribe\",\"stores\":[]}",
			"{\"type\":\"subscribe\",\"stores\":[\"bad id\"]}",
			"{\"type\":\"subscribe\",\"stores\":[1]}",
			"{\"type\":\"publish\",\"stores\":[\"x\"]}",
			"{\"type\":\"subscribe\",\"stores\":[\"x\"],\"extra\":1}",
			"{\"type\":\"subscribe\",\"type\":\"subscribe\",\"stores\":[\"x\"]}",
			"{\"type\":\"subscribe\",\"stores\":["
			"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			err[0] = '\0';
			is_int(RtParseClientMessage(bad[i], strlen(bad[i]), &msg, err, sizeof(err)), RT_MSG_INVALID,
				   "refused: %s", bad[i]);
			ok(err[0] != '\0', "with a reason (%s)", err);
		}
	}
	is_int(RtParseClientMessage("{\"type\":\"subscribe\",\"stores\":[\"\xff\"]}", 34, &msg, err, sizeof(err)),
		   RT_MSG_INVALID, "not UTF-8");

	/* the handshake: RFC 6455 section 1.3's own example */
	ok(RtWebSocketKeyIsValid("dGhlIHNhbXBsZSBub25jZQ=="), "a key of 16 bytes");
	ok(!RtWebSocketKeyIsValid("dGhlIHNhbXBsZSBub25jZQ"), "not without its padding");
	ok(!RtWebSocketKeyIsValid("dGhlIHNhbXBsZSBub25j===="), "nor of fewer bytes");
	ok(!RtWebSocketKeyIsValid(NULL), "nor none");
	RtWebSocketAccept("dGhlIHNhbXBsZSBub25jZQ==", accept);
	is_str(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Sec-WebSocket-Accept as the RFC computes it");
	ok(RtHeaderHasToken("keep-alive, Upgrade", "upgrade"), "Connection: keep-alive, Upgrade");
	ok(!RtHeaderHasToken("keep-alive, Upgrades", "upgrade"), "a token, not a prefix");
	ok(RtHeaderHasToken("WebSocket", "websocket"), "case-insensitively");
	ok(!RtHeaderHasToken(NULL, "websocket"), "no header");

	/* SSE frames and resume ids */
	frame = RtSseFrame(42, "{\"a\":\n1}", 8, &len);
	is_str(frame, "id: 42\ndata: {\"a\": 1}\n\n", "one data line, newlines of the JSON turned into spaces");
	is_int(len, strlen(frame), "its length");
	free(frame);
	ok(RtParseEventId("0", &id) && id == 0, "0 resumes from the start");
	ok(RtParseEventId("123456", &id) && id == 123456, "an id");
	ok(!RtParseEventId("-1", &id) && !RtParseEventId("1e3", &id) && !RtParseEventId("", &id) &&
		   !RtParseEventId("99999999999999999999", &id),
	   "not a negative, an exponent, nothing or an overflow");
	/* found by fuzz_realtime: 19 digits overflowed int64_t while being read */
	ok(!RtParseEventId("9727777777777777776", &id) && !RtParseEventId("9223372036854775807", &id),
	   "19 digits beyond 2^62 are refused, not overflowed");
	ok(RtParseEventId("4611686018427387904", &id) && id == ((int64_t) 1 << 62), "2^62 itself is an id");
	return done_testing();
}
