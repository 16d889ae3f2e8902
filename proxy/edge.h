/*
 * edge.h
 *	  The HTTP edge's pure parts: which origins CORS lets in, which
 *	  address a request comes from behind trusted proxies, content
 *	  negotiation for gzip, strong ETags and If-None-Match.  No I/O here,
 *	  so each is unit-tested on its own (tests/proxy/test_edge.c).
 */
#ifndef PROXY_EDGE_H
#define PROXY_EDGE_H

#include <stdbool.h>
#include <stddef.h>

/* Bodies below this many bytes are never compressed: gzip would not pay */
#define EDGE_GZIP_MIN_BYTES 1024

/* "\"" + 32 hex digits + "-gz" + "\"" + NUL */
#define EDGE_ETAG_SIZE 40

/*
 * EdgeCorsAllows: is origin in the comma-separated list allowed ("*" lets
 * every origin in)?  Comparison is exact, as browsers send the origin.
 */
extern bool EdgeCorsAllows(const char *allowed, const char *origin);

/*
 * EdgeAddressInList: is the IPv4 or IPv6 address addr in the
 * comma-separated list of addresses and CIDR blocks ("10.0.0.0/8, ::1")?
 */
extern bool EdgeAddressInList(const char *list, const char *addr);

/*
 * EdgeClientAddress: the client's address.  The socket's peer, unless the
 * peer is a trusted proxy: then X-Forwarded-For is read from the right,
 * skipping trusted proxies, and the first address that is not one is the
 * client.  A malformed entry stops the walk at the last good hop.
 */
extern void EdgeClientAddress(const char *peer, const char *forwarded_for, const char *trusted, char *out,
							  size_t size);

/* EdgeAcceptsGzip: does an Accept-Encoding value accept gzip (q > 0)? */
extern bool EdgeAcceptsGzip(const char *accept_encoding);

/*
 * EdgeGzip compresses body into a malloc'd buffer (*out, *out_len).
 * Returns false (nothing allocated) when compression fails or does not
 * make the body smaller.
 */
extern bool EdgeGzip(const char *body, size_t len, char **out, size_t *out_len);

/*
 * EdgeEtag: the strong ETag of a body, "\"<32 hex>\"", or "\"<32 hex>-gz\""
 * for its gzip representation (a strong validator names one
 * representation, so the two must differ).
 */
extern void EdgeEtag(const char *body, size_t len, bool gzipped, char out[EDGE_ETAG_SIZE]);

/*
 * EdgeNoneMatch: does If-None-Match (a list of entity tags, or "*") match
 * the body's tag?  Weak comparison, as RFC 9110 asks for If-None-Match:
 * W/ is ignored and both representations of one body match.
 */
extern bool EdgeNoneMatch(const char *if_none_match, const char *etag);

#endif /* PROXY_EDGE_H */
