/*
 * framing.h
 *	  Is a request's framing unambiguous?  The header checks of RFC 9112
 *	  that libmicrohttpd 0.9.75 leaves out, made on the headers it hands
 *	  the proxy: repeated or conflicting Content-Length and
 *	  Transfer-Encoding, a coding other than chunked, field names that are
 *	  not tokens (whitespace before the colon; an obs-folded line, which
 *	  libmicrohttpd joins to the previous header's name), and Host.  No I/O
 *	  here (tests/proxy/test_framing.c).
 */
#ifndef PROXY_FRAMING_H
#define PROXY_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

/* What the headers of one request showed, header by header */
typedef struct Framing
{
	int			content_lengths;
	int			transfer_encodings;
	int			hosts;
	bool		coding_not_chunked; /* a Transfer-Encoding value other than "chunked" */
	const char *bad_name;			/* why a field name is refused, or NULL */
} Framing;

extern void FramingInit(Framing *f);

/* FramingAdd takes one header as libmicrohttpd lists it (name and value need no NUL) */
extern void FramingAdd(Framing *f, const char *name, size_t name_len, const char *value, size_t value_len);

/*
 * FramingVerdict: NULL when the request may be served, else why it may
 * not (a constant message for the 400, which must close the connection:
 * where the next request starts is not known).  version is the request
 * line's ("HTTP/1.1").
 */
extern const char *FramingVerdict(const Framing *f, const char *version);

#endif /* PROXY_FRAMING_H */
