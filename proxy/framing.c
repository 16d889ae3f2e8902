/*
 * framing.c
 *	  Is a request's framing unambiguous?  RFC 9112's header rules that
 *	  libmicrohttpd 0.9.75 does not enforce, checked on what it hands over.
 *
 * What libmicrohttpd 0.9.75 does with each shape (measured, not assumed):
 * two Content-Length headers are both listed and the first is used; with
 * Transfer-Encoding too, chunked wins and Content-Length is listed; a
 * Transfer-Encoding value other than "chunked" makes it read the body
 * until the client closes; "Name : value" is listed under the name with
 * its trailing whitespace; an obs-folded line (one starting with a space or
 * a tab) is appended, its leading whitespace dropped, to the previous
 * header's NAME ("X-A: one\r\n two" is listed as "X-Atwo: one").  So a
 * fold shows only when the joined name is no token, or when it runs on
 * from Content-Length or Transfer-Encoding: a folded continuation made
 * only of token characters after any other header renames that header
 * and cannot be told from a header of that name.  Such a rename can drop
 * an Authorization (401) or a Content-Type (415), never change framing.
 */
#include <string.h>
#include <strings.h>

#include "framing.h"

/* RFC 9110 5.6.2: tchar */
static bool
IsTokenChar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		   (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Is name (len bytes) the header field name want, in any letter case? */
static bool
NameIs(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* Does name run on from want ("Content-Length0", "Transfer-Encodingx")? */
static bool
NameRunsOn(const char *name, size_t len, const char *want)
{
	size_t n = strlen(want);

	return len > n && strncasecmp(name, want, n) == 0;
}

/* Is the value, without surrounding whitespace, "chunked" in any letter case? */
static bool
IsChunked(const char *value, size_t len)
{
	while (len > 0 && (*value == ' ' || *value == '\t'))
	{
		value++;
		len--;
	}
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	return len == 7 && strncasecmp(value, "chunked", 7) == 0;
}

void
FramingInit(Framing *f)
{
	memset(f, 0, sizeof(*f));
}

void
FramingAdd(Framing *f, const char *name, size_t name_len, const char *value, size_t value_len)
{
	if (name == NULL)
		return;
	for (size_t i = 0; i < name_len && f->bad_name == NULL; i++)
		if (!IsTokenChar((unsigned char) name[i]))
			f->bad_name = "a header name holds whitespace or another character no field name may hold "
						  "(whitespace before the colon, or an obs-folded line)";
	if (name_len == 0 && f->bad_name == NULL)
		f->bad_name = "a header has no name";
	if (NameIs(name, name_len, "Content-Length"))
		f->content_lengths++;
	else if (NameIs(name, name_len, "Transfer-Encoding"))
	{
		f->transfer_encodings++;
		if (value == NULL || !IsChunked(value, value_len))
			f->coding_not_chunked = true;
	}
	else if (NameIs(name, name_len, "Host"))
		f->hosts++;
	else if ((NameRunsOn(name, name_len, "Content-Length") ||
			  NameRunsOn(name, name_len, "Transfer-Encoding")) &&
			 f->bad_name == NULL)
		f->bad_name = "a header name runs on from Content-Length or Transfer-Encoding (an obs-folded line)";
}

const char *
FramingVerdict(const Framing *f, const char *version)
{
	bool http11 = version != NULL && strcmp(version, "HTTP/1.1") == 0;

	if (f->bad_name)
		return f->bad_name;
	if (f->content_lengths > 1)
		return "Content-Length is given more than once";
	if (f->content_lengths > 0 && f->transfer_encodings > 0)
		return "Content-Length and Transfer-Encoding are both given";
	if (f->transfer_encodings > 1 || f->coding_not_chunked)
		return "the only Transfer-Encoding taken is one \"chunked\"";
	if (f->transfer_encodings > 0 && !http11)
		return "Transfer-Encoding needs HTTP/1.1";
	if (f->hosts > 1)
		return "Host is given more than once";
	if (f->hosts == 0 && http11)
		return "an HTTP/1.1 request needs a Host header";
	return NULL;
}
