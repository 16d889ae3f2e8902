/*
 * test_edge.c
 *	  The HTTP edge's pure parts: CORS origins, client address behind
 *	  trusted proxies (X-Forwarded-For spoofing), gzip negotiation and a
 *	  round trip through zlib, ETags and If-None-Match.
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "edge.h"
#include "tap.h"

static const char *
Client(const char *peer, const char *xff, const char *trusted)
{
	static char out[64];

	EdgeClientAddress(peer, xff, trusted, out, sizeof(out));
	return out;
}

int
main(void)
{
	/* CORS */
	ok(EdgeCorsAllows("http://localhost:3000, https://shop.example", "https://shop.example"),
	   "an exact origin of the list is allowed");
	ok(!EdgeCorsAllows("http://localhost:3000, https://shop.example", "https://shop.example.evil"),
	   "a longer origin is not");
	ok(!EdgeCorsAllows("https://shop.example", "http://shop.example"), "nor another scheme");
	ok(!EdgeCorsAllows("https://shop.example", NULL), "no Origin header: nothing to allow");
	ok(!EdgeCorsAllows("", "https://shop.example"), "an empty list allows nothing");
	ok(EdgeCorsAllows("*", "https://anyone.example"), "* allows every origin");

	/* addresses and CIDR blocks */
	ok(EdgeAddressInList("10.0.0.0/8, 192.168.1.7", "10.200.3.4"), "an IPv4 address in a /8");
	ok(!EdgeAddressInList("10.0.0.0/8", "11.0.0.1"), "and one outside it");
	ok(EdgeAddressInList("10.0.0.0/8, 192.168.1.7", "192.168.1.7"), "a single address");
	ok(!EdgeAddressInList("192.168.1.7", "192.168.1.8"), "its neighbour is not in it");
	ok(EdgeAddressInList("fd00::/8", "fd12:3456::1"), "an IPv6 address in a block");
	ok(!EdgeAddressInList("fd00::/8", "10.0.0.1"), "families never mix");
	ok(!EdgeAddressInList("10.0.0.0/33", "10.0.0.1"), "a bad prefix length matches nothing");
	ok(!EdgeAddressInList("10.0.0.0/8", "not-an-address"), "nor does a bad address");
	ok(EdgeAddressInList("0.0.0.0/0", "203.0.113.9"), "/0 covers everything");

	/* X-Forwarded-For, trusted only from trusted proxies */
	is_str(Client("203.0.113.9", "1.2.3.4", ""), "203.0.113.9", "no trusted proxies: the socket's peer");
	is_str(Client("203.0.113.9", "1.2.3.4", "10.0.0.0/8"), "203.0.113.9",
		   "an untrusted peer's X-Forwarded-For is ignored");
	is_str(Client("10.0.0.2", "198.51.100.7", "10.0.0.0/8"), "198.51.100.7",
		   "a trusted proxy's X-Forwarded-For names the client");
	is_str(Client("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3", "10.0.0.0/8"), "198.51.100.7",
		   "read from the right: a client-supplied first entry cannot spoof");
	is_str(Client("10.0.0.2", "10.0.0.5, 10.0.0.3", "10.0.0.0/8"), "10.0.0.5",
		   "only trusted hops: the leftmost one");
	is_str(Client("10.0.0.2", "garbage, 198.51.100.7", "10.0.0.0/8"), "198.51.100.7",
		   "a malformed entry left of the client is never reached");
	is_str(Client("10.0.0.2", "198.51.100.7, garbage", "10.0.0.0/8"), "10.0.0.2",
		   "a malformed last hop: the peer");
	is_str(Client("10.0.0.2", NULL, "10.0.0.0/8"), "10.0.0.2", "no header: the peer");

	/* gzip negotiation */
	ok(EdgeAcceptsGzip("gzip, deflate, br"), "gzip in a list");
	ok(EdgeAcceptsGzip("br;q=1.0, GZIP;q=0.5"), "any case, with a q-value");
	ok(!EdgeAcceptsGzip("gzip;q=0"), "q=0 refuses it");
	ok(!EdgeAcceptsGzip("identity"), "identity only");
	ok(EdgeAcceptsGzip("*"), "* accepts it");
	ok(!EdgeAcceptsGzip("*;q=0"), "*;q=0 does not");
	ok(!EdgeAcceptsGzip(NULL), "no header: no gzip");

	/* gzip round trip */
	{
		char   body[4096];
		char  *z = NULL;
		size_t zlen = 0;
		char   back[4096];
		uLongf back_len = sizeof(back);

		for (size_t i = 0; i < sizeof(body); i++)
			body[i] = "{\"stores\":[]}"[i % 13];
		ok(EdgeGzip(body, sizeof(body), &z, &zlen) && zlen < sizeof(body) / 4, "a repetitive body shrinks");
		{
			z_stream s;

			memset(&s, 0, sizeof(s));
			inflateInit2(&s, 15 + 16);
			s.next_in = (Bytef *) z;
			s.avail_in = (uInt) zlen;
			s.next_out = (Bytef *) back;
			s.avail_out = sizeof(back);
			ok(inflate(&s, Z_FINISH) == Z_STREAM_END, "it is a gzip stream zlib inflates");
			back_len = s.total_out;
			inflateEnd(&s);
		}
		ok(back_len == sizeof(body) && memcmp(back, body, sizeof(body)) == 0, "to the same bytes");
		free(z);
		z = NULL;
		ok(!EdgeGzip("ab", 2, &z, &zlen) && z == NULL, "a body gzip cannot shrink is left alone");
	}

	/* ETags: CRC-32, Adler-32 and length of "hello" (python3: zlib.crc32, zlib.adler32) */
	{
		char tag[EDGE_ETAG_SIZE], gz[EDGE_ETAG_SIZE];

		EdgeEtag("hello", 5, false, tag);
		EdgeEtag("hello", 5, true, gz);
		is_str(tag, "\"3610a686062c02150000000000000005\"",
			   "a strong tag from the body's CRC-32, Adler-32 and length");
		is_str(gz, "\"3610a686062c02150000000000000005-gz\"", "the gzip representation has its own");
		ok(EdgeNoneMatch("\"3610a686062c02150000000000000005\"", tag), "If-None-Match with the tag matches");
		ok(EdgeNoneMatch("\"3610a686062c02150000000000000005-gz\"", tag),
		   "the gzip tag matches the identity answer (same body)");
		ok(EdgeNoneMatch("\"3610a686062c02150000000000000005\"", gz), "and the other way round");
		ok(EdgeNoneMatch("\"x\", W/\"3610a686062c02150000000000000005\"", tag), "in a list, weak");
		ok(EdgeNoneMatch("*", tag), "* matches");
		ok(!EdgeNoneMatch("\"3610a686062c02150000000000000006\"", tag), "another body's tag does not");
		ok(!EdgeNoneMatch("\"3610a686062c02150000000000000005-gzx\"", tag), "nor a lookalike");
		ok(!EdgeNoneMatch("\"3610a686\"", tag), "nor a prefix");
		ok(!EdgeNoneMatch("", tag), "an empty header matches nothing");
	}
	return done_testing();
}
