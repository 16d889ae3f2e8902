/*
 * test_framing.c
 *	  Request framing (proxy/framing.c): the header lists libmicrohttpd
 *	  0.9.75 hands over for each smuggling shape of the hostile corpus, as
 *	  measured, and requests that must still be served.
 */
#include <string.h>

#include "framing.h"
#include "tap.h"

/*
 * Verdict of a request: version, then name/value pairs up to a NULL name,
 * as libmicrohttpd lists them (names as it cut them, values trimmed)
 */
static const char *
Verdict(const char *version, const char *const *headers)
{
	Framing f;

	FramingInit(&f);
	for (int i = 0; headers[i] != NULL; i += 2)
		FramingAdd(&f, headers[i], strlen(headers[i]), headers[i + 1], strlen(headers[i + 1]));
	return FramingVerdict(&f, version);
}

#define V11(...) Verdict("HTTP/1.1", (const char *const[]){__VA_ARGS__, NULL})
#define V10(...) Verdict("HTTP/1.0", (const char *const[]){__VA_ARGS__, NULL})

int
main(void)
{
	/* served */
	ok(V11("Host", "x", "Content-Type", "application/json", "Content-Length", "2") == NULL,
	   "one Content-Length and a Host: served");
	ok(V11("Host", "x", "Transfer-Encoding", "chunked") == NULL, "one Transfer-Encoding: chunked: served");
	ok(V11("Host", "x", "transfer-encoding", "CHUNKED") == NULL, "names and the coding in any letter case");
	ok(V11("Host", "x", "Transfer-Encoding", " chunked\t") == NULL, "whitespace around the coding");
	ok(V11("Host", "") == NULL, "an empty Host (a target with no authority)");
	ok(V10("Content-Length", "0") == NULL, "HTTP/1.0 needs no Host");
	ok(V11("Host", "x", "X-Content-Length-Hint", "1") == NULL, "a name that holds Content-Length later on");
	ok(V11("Host", "x", "Content-Lengths", "1") != NULL, "but not one that runs on from it");
	ok(V11("Host", "x", "X-Weird_Name.1~", "v", "Accept", "*/*") == NULL,
	   "every token character is fine in a name");

	/* B3: two Content-Length headers, listed both; libmicrohttpd used the first */
	is_str(V11("Host", "x", "Content-Length", "2", "Content-Length", "45"),
		   "Content-Length is given more than once", "two Content-Lengths that differ");
	ok(V11("Host", "x", "Content-Length", "2", "Content-Length", "2") != NULL,
	   "and two that agree (RFC 9110 8.6 allows a refusal)");

	/* B4 */
	is_str(V11("Host", "x", "Content-Length", "4", "Transfer-Encoding", "chunked"),
		   "Content-Length and Transfer-Encoding are both given", "Content-Length with Transfer-Encoding");
	ok(V11("Host", "x", "Transfer-Encoding", "chunked", "Content-Length", "4") != NULL, "in either order");

	/* B5: libmicrohttpd read such a body until the client closed */
	is_str(V11("Host", "x", "Transfer-Encoding", "identity"),
		   "the only Transfer-Encoding taken is one \"chunked\"", "Transfer-Encoding: identity");
	ok(V11("Host", "x", "Transfer-Encoding", "chunked, identity") != NULL, "chunked, identity");
	ok(V11("Host", "x", "Transfer-Encoding", "xchunked") != NULL, "xchunked");
	ok(V11("Host", "x", "Transfer-Encoding", "gzip, chunked") != NULL,
	   "gzip, chunked (no coding but chunked is taken)");
	ok(V11("Host", "x", "Transfer-Encoding", "") != NULL, "an empty Transfer-Encoding");
	ok(V11("Host", "x", "Transfer-Encoding", "chunked", "Transfer-Encoding", "identity") != NULL,
	   "two Transfer-Encodings, the last not chunked");
	ok(V11("Host", "x", "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked") != NULL,
	   "two Transfer-Encodings, both chunked (chunked twice is not allowed)");
	is_str(V10("Transfer-Encoding", "chunked"), "Transfer-Encoding needs HTTP/1.1",
		   "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1: faulty framing)");

	/* B7: "Transfer-Encoding : chunked" is listed as "Transfer-Encoding " */
	ok(V11("Host", "x", "Transfer-Encoding ", "chunked", "Content-Length", "2") != NULL,
	   "a space between a name and its colon");
	ok(V11("Host", "x", "X-A\t", "one") != NULL, "a tab between a name and its colon");

	/* B6 and other folds: the continuation joins the previous header's name */
	ok(V11("Host", "x", "Content-LengthContent-Length: 0", "2") != NULL,
	   "an obs-folded \" Content-Length: 0\" after Content-Length: 2");
	is_str(V11("Host", "x", "Content-Length0", "2"),
		   "a header name runs on from Content-Length or Transfer-Encoding (an obs-folded line)",
		   "a fold of token characters after Content-Length (\"Content-Length: 2\\r\\n 0\")");
	ok(V11("Host", "x", "Transfer-Encodingchunked", "x") != NULL, "and after Transfer-Encoding");
	ok(V11(" Host", "x") != NULL, "a fold as the first header line");
	ok(V11("Host", "x", "X-Atwo: three", "one") != NULL, "a fold that holds a colon");
	ok(V11("Host", "x", "X-Atwo", "one") == NULL,
	   "a fold of token characters after any other header cannot be told from a header of that name");
	ok(V11("Host", "x", "", "v") != NULL, "an empty name");
	ok(V11("Host", "x", "Bad\x7fName", "v") != NULL, "a control character in a name");
	ok(V11("Host", "x", "Na\xc3\xa9me", "v") != NULL, "a byte over 127 in a name");

	/* B8 */
	is_str(V11("Connection", "close"), "an HTTP/1.1 request needs a Host header", "HTTP/1.1 without Host");
	is_str(V11("Host", "x", "Host", "y"), "Host is given more than once", "two Hosts");
	ok(V10("Host", "x", "host", "x") != NULL, "two Hosts in HTTP/1.0 too");

	/* the first problem is the one named */
	is_str(
		V11("Transfer-Encoding ", "chunked", "Content-Length", "2", "Content-Length", "3"),
		"a header name holds whitespace or another character no field name may hold (whitespace before the "
		"colon, or an obs-folded line)",
		"a bad name is named before the rest");
	ok(FramingVerdict(&(Framing){0}, NULL) == NULL, "no version and no headers: nothing to refuse here");
	return done_testing();
}
