/*
 * fuzz.h
 *	  What the libFuzzer harnesses of tests/fuzz share: cutting one input
 *	  into text fields, decoding a request target the way libmicrohttpd
 *	  does before the proxy sees it, and failing loudly.
 *
 * Every harness is built by scripts/fuzz with AddressSanitizer, UBSan and
 * LeakSanitizer, so a harness only has to say what must hold (FuzzAssert)
 * and free everything it allocated.
 */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "errors.h"
#include "params.h"

extern int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern int LLVMFuzzerInitialize(int *argc, char ***argv);

/* jansson seeds its hash tables at random: a fixed seed makes a crash reproducible */
#define FUZZ_FIXED_JANSSON_SEED                                                                              \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                                                        \
	{                                                                                                        \
		(void) argc;                                                                                         \
		(void) argv;                                                                                         \
		json_object_seed(1);                                                                                 \
		return 0;                                                                                            \
	}

/* A broken property is a crash: libFuzzer keeps the input as a reproducer */
#define FuzzAssert(cond, ...)                                                                                \
	do                                                                                                       \
	{                                                                                                        \
		if (!(cond))                                                                                         \
		{                                                                                                    \
			fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond);                                 \
			fprintf(stderr, __VA_ARGS__);                                                                    \
			fputc('\n', stderr);                                                                             \
			abort();                                                                                         \
		}                                                                                                    \
	} while (0)

#define FUZZ_MAX_FIELDS 16

/*
 * Fields: the input cut at its first n - 1 newlines; the last field keeps
 * the rest, newlines and NULs included.  Each field is NUL-terminated in
 * one owned buffer; len[i] counts its bytes (a field may hold NULs, as a
 * body may; a header value never does, so harnesses use it as a C string).
 */
typedef struct Fields
{
	int	   n;
	char  *field[FUZZ_MAX_FIELDS];
	size_t len[FUZZ_MAX_FIELDS];
	char  *buf;
} Fields;

static inline void
FieldsSplit(Fields *f, const uint8_t *data, size_t size, int n)
{
	char *p;
	char *end;

	memset(f, 0, sizeof(*f));
	f->buf = malloc(size + 1);
	memcpy(f->buf, data, size);
	f->buf[size] = '\0';
	p = f->buf;
	end = f->buf + size;
	for (f->n = 0; f->n < n; f->n++)
	{
		char *nl = f->n == n - 1 ? NULL : memchr(p, '\n', (size_t) (end - p));

		f->field[f->n] = p;
		if (nl == NULL)
		{
			f->len[f->n] = (size_t) (end - p);
			f->n++;
			break;
		}
		*nl = '\0';
		f->len[f->n] = (size_t) (nl - p);
		p = nl + 1;
	}
	/* absent fields are empty strings, never NULL */
	for (int i = f->n; i < n && i < FUZZ_MAX_FIELDS; i++)
	{
		f->field[i] = end;
		f->len[i] = 0;
	}
}

static inline void
FieldsFree(Fields *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* libmicrohttpd's MHD_unescape_plus (internal to the library): '+' is a space */
static inline void
FuzzUnescapePlus(char *arg)
{
	for (char *p = strchr(arg, '+'); p != NULL; p = strchr(p + 1, '+'))
		*p = ' ';
}

/*
 * The query string as libmicrohttpd hands it to request.c's CollectQuery:
 * MHD_parse_arguments_ cuts at '&', then at the first '=', turns '+' into
 * spaces and percent-decodes both halves with MHD_http_unescape (the
 * library's own, its default unescape callback); "key" alone has a NULL
 * value.  CollectQuery passes each pair to QueryAdd.  args is clobbered.
 */
static inline void
FuzzQueryParse(char *args, QueryParams *q)
{
	while (args != NULL && args[0] != '\0')
	{
		char  *equals = strchr(args, '=');
		char  *amper = strchr(args, '&');
		size_t value_len;

		if (amper != NULL)
			*amper++ = '\0';
		if (equals == NULL || (amper != NULL && equals >= amper))
		{
			FuzzUnescapePlus(args);
			MHD_http_unescape(args);
			QueryAdd(q, args, NULL, 0);
		}
		else
		{
			*equals++ = '\0';
			FuzzUnescapePlus(args);
			MHD_http_unescape(args);
			FuzzUnescapePlus(equals);
			value_len = MHD_http_unescape(equals);
			QueryAdd(q, args, equals, value_len);
		}
		args = amper;
	}
}

/*
 * A request target as the proxy gets it: libmicrohttpd cuts the query at
 * the first '?' and percent-decodes the path (MHD_http_unescape, no '+'
 * rule there); request.c's Begin refuses a path with "%00" before any
 * router work.  Returns false for such a path; *path and *query point into
 * target, which is clobbered; *query is NULL without a '?'.
 */
static inline bool
FuzzSplitTarget(char *target, char **path, char **query)
{
	char	   *q = strchr(target, '?');
	const char *nul = strcasestr(target, "%00");

	if (nul != NULL && (q == NULL || nul < q))
		return false;
	if (q != NULL)
		*q++ = '\0';
	MHD_http_unescape(target);
	*path = target;
	*query = q;
	return true;
}

/*
 * An error the proxy made must be sendable as it is: ErrorBody replaces a
 * code or message that is not UTF-8 (and falls back to a fixed body), so
 * the text itself is checked, lest that fallback hide where it came from.
 */
static inline void
FuzzCheckError(const ApiError *err, const char *what)
{
	char *text;

	FuzzAssert(Utf8IsValid(err->code, strlen(err->code)), "%s: code \"%s\" is not UTF-8", what, err->code);
	FuzzAssert(err->message == NULL || Utf8IsValid(err->message, strlen(err->message)),
			   "%s: message \"%s\" is not UTF-8", what, err->message);
	text = ErrorBody(err, "7d0c3b4a-9f6e-4c2b-8a1d-5e3f2a1b0c9d");
	FuzzAssert(text != NULL, "%s: status %d: ErrorBody is NULL", what, err->status);
	free(text);
}

/* A small number from a field: its first bytes, for choosing modes */
static inline unsigned
FuzzByte(const char *s, size_t len, size_t i)
{
	return i < len ? (unsigned char) s[i] : 0;
}

#endif /* FUZZ_FUZZ_H */
