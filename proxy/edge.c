/*
 * edge.c
 *	  The HTTP edge's pure parts: CORS origins, the client address behind
 *	  trusted proxies, gzip negotiation and compression, ETags.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "edge.h"

/*
 * NextItem walks a comma-separated list: copies the next item, trimmed,
 * into item and returns the rest of the list, or NULL at the end.
 */
static const char *
NextItem(const char *list, char *item, size_t size)
{
	const char *end;
	size_t		len;

	if (list == NULL)
		return NULL;
	while (*list == ' ' || *list == '\t' || *list == ',')
		list++;
	if (*list == '\0')
		return NULL;
	end = strchr(list, ',');
	if (end == NULL)
		end = list + strlen(list);
	len = (size_t) (end - list);
	while (len > 0 && (list[len - 1] == ' ' || list[len - 1] == '\t'))
		len--;
	if (len >= size)
		len = 0; /* an item too long to be anything we know: matches nothing */
	memcpy(item, list, len);
	item[len] = '\0';
	return end;
}

bool
EdgeCorsAllows(const char *allowed, const char *origin)
{
	char item[256];

	if (origin == NULL || origin[0] == '\0')
		return false;
	for (const char *p = allowed; (p = NextItem(p, item, sizeof(item))) != NULL;)
		if (strcmp(item, "*") == 0 || strcmp(item, origin) == 0)
			return true;
	return false;
}

/* An address, parsed: family and 16 bytes (IPv4 in the first 4) */
typedef struct Address
{
	int			  family;
	unsigned char bytes[16];
} Address;

static bool
ParseAddress(const char *text, Address *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, text, a->bytes) == 1)
		a->family = AF_INET6;
	else
		return false;
	return true;
}

/* Does "addr" or "net/bits" cover a? */
static bool
Covers(const char *entry, const Address *a)
{
	char	copy[64];
	char   *slash;
	Address net;
	long	bits;
	int		max;

	snprintf(copy, sizeof(copy), "%s", entry);
	slash = strchr(copy, '/');
	if (slash)
		*slash = '\0';
	if (!ParseAddress(copy, &net) || net.family != a->family)
		return false;
	max = a->family == AF_INET ? 32 : 128;
	bits = max;
	if (slash)
	{
		char *end;

		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > max)
			return false;
	}
	for (long i = 0; i < bits; i++)
	{
		int mask = 0x80 >> (i % 8);

		if ((net.bytes[i / 8] & mask) != (a->bytes[i / 8] & mask))
			return false;
	}
	return true;
}

bool
EdgeAddressInList(const char *list, const char *addr)
{
	Address a;
	char	item[64];

	if (addr == NULL || !ParseAddress(addr, &a))
		return false;
	for (const char *p = list; (p = NextItem(p, item, sizeof(item))) != NULL;)
		if (item[0] && Covers(item, &a))
			return true;
	return false;
}

void
EdgeClientAddress(const char *peer, const char *forwarded_for, const char *trusted, char *out, size_t size)
{
	const char *end;
	Address		a;

	snprintf(out, size, "%s", peer ? peer : "");
	if (forwarded_for == NULL || trusted == NULL || !EdgeAddressInList(trusted, out))
		return;
	/* from the right: each hop appended the address it got the request from */
	end = forwarded_for + strlen(forwarded_for);
	while (end > forwarded_for)
	{
		const char *start = end;
		char		hop[64];
		size_t		len;

		while (start > forwarded_for && start[-1] != ',')
			start--;
		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		len = (size_t) (end - start);
		while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(hop))
			return;
		memcpy(hop, start, len);
		hop[len] = '\0';
		if (!ParseAddress(hop, &a))
			return;
		snprintf(out, size, "%s", hop);
		if (!EdgeAddressInList(trusted, hop))
			return;
		end = start;
		while (end > forwarded_for && end[-1] != ',')
			end--;
		if (end > forwarded_for)
			end--; /* the comma */
	}
}

bool
EdgeAcceptsGzip(const char *accept_encoding)
{
	char item[64];
	bool star = false;

	for (const char *p = accept_encoding; (p = NextItem(p, item, sizeof(item))) != NULL;)
	{
		char  *params = strchr(item, ';');
		double q = 1.0;

		if (params)
		{
			const char *qp = strstr(params, "q=");

			*params = '\0';
			if (qp)
				q = strtod(qp + 2, NULL);
		}
		for (size_t n = strlen(item); n > 0 && item[n - 1] == ' '; n--)
			item[n - 1] = '\0';
		if (strcasecmp(item, "gzip") == 0 || strcasecmp(item, "x-gzip") == 0)
			return q > 0;
		if (strcmp(item, "*") == 0)
			star = q > 0;
	}
	return star;
}

bool
EdgeGzip(const char *body, size_t len, char **out, size_t *out_len)
{
	z_stream z;
	uLong	 bound;
	char	*buf;
	int		 window_bits = 9;

	/*
	 * A window no larger than the body loses nothing; level 1 and memLevel 5
	 * are a few per cent larger than level 6 on API bodies for a third of
	 * the time.  + 16: a gzip wrapper.
	 */
	while (window_bits < 15 && ((size_t) 1 << window_bits) < len)
		window_bits++;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, window_bits + 16, 5, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	bound = deflateBound(&z, (uLong) len);
	buf = malloc(bound);
	if (buf == NULL)
	{
		deflateEnd(&z);
		return false;
	}
	z.next_in = (Bytef *) body;
	z.avail_in = (uInt) len;
	z.next_out = (Bytef *) buf;
	z.avail_out = (uInt) bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= len)
	{
		deflateEnd(&z);
		free(buf);
		return false;
	}
	*out = buf;
	*out_len = z.total_out;
	deflateEnd(&z);
	return true;
}

void
EdgeEtag(const char *body, size_t len, bool gzipped, char out[EDGE_ETAG_SIZE])
{
	/*
	 * A tag must change when the body does; it need not resist an attacker
	 * (the server makes both).  CRC-32 and Adler-32 (zlib's, SIMD-fast) and
	 * the length: 128 bits for a few hundred nanoseconds, where SHA-256 took
	 * microseconds on every public read.
	 */
	uLong crc = crc32_z(0L, (const Bytef *) body, len);
	uLong adler = adler32_z(1L, (const Bytef *) body, len);

	snprintf(out, EDGE_ETAG_SIZE, "\"%08lx%08lx%016llx%s\"", crc & 0xffffffffUL, adler & 0xffffffffUL,
			 (unsigned long long) len, gzipped ? "-gz" : "");
}

bool
EdgeNoneMatch(const char *if_none_match, const char *etag)
{
	char   item[128];
	size_t base = strlen(etag) - 1; /* without the closing quote */

	if (strncmp(etag + base - 3, "-gz", 3) == 0)
		base -= 3;
	for (const char *p = if_none_match; (p = NextItem(p, item, sizeof(item))) != NULL;)
	{
		const char *tag = strncmp(item, "W/", 2) == 0 ? item + 2 : item;
		size_t		len = strlen(tag);

		if (strcmp(tag, "*") == 0)
			return true;
		/* "<hash>" or "<hash>-gz" of this body */
		if (len >= base + 1 && strncmp(tag, etag, base) == 0 &&
			(strcmp(tag + base, "\"") == 0 || strcmp(tag + base, "-gz\"") == 0))
			return true;
	}
	return false;
}
