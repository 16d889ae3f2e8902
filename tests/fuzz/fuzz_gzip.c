/*
 * fuzz_gzip.c
 *	  EdgeGzip and EdgeEtag on any response body.
 *
 * Input: a flags byte, then the body.  With the flags' high bit set, the
 * body is repeated (flags & 0x7f) + 1 times, up to 512 KiB, so the
 * larger windows and memory levels EdgeGzip picks for big bodies are
 * fuzzed too.  What must hold: a gzipped body is smaller and inflates
 * (zlib, gzip wrapper) back to exactly the body; EdgeEtag is a function
 * of the body, and its plain and gzip tags differ.
 */
#include <zlib.h>

#include "edge.h"
#include "fuzz.h"

static void
CheckInflates(const char *zipped, size_t zipped_len, const char *body, size_t len)
{
	z_stream z;
	char	*out = malloc(len + 1);
	int		 rc;

	memset(&z, 0, sizeof(z));
	FuzzAssert(inflateInit2(&z, 15 + 16) == Z_OK, "inflateInit2");
	z.next_in = (Bytef *) zipped;
	z.avail_in = (uInt) zipped_len;
	z.next_out = (Bytef *) out;
	z.avail_out = (uInt) len + 1;
	rc = inflate(&z, Z_FINISH);
	FuzzAssert(rc == Z_STREAM_END, "inflate: %d (%s)", rc, z.msg ? z.msg : "");
	FuzzAssert(z.total_out == len && memcmp(out, body, len) == 0,
			   "inflated %lu bytes, not the %zu of the body", z.total_out, len);
	FuzzAssert(z.avail_in == 0, "%u bytes after the gzip stream", z.avail_in);
	inflateEnd(&z);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = size ? data[0] : 0;
	char	*body;
	size_t	 len, copies = (flags & 0x80) ? (flags & 0x7f) + 1 : 1;
	char	*zipped = NULL;
	size_t	 zipped_len = 0;
	char	 tag[EDGE_ETAG_SIZE], again[EDGE_ETAG_SIZE], gz[EDGE_ETAG_SIZE];

	if (size)
		data++, size--;
	len = size * copies;
	body = malloc(len + 1);
	for (size_t i = 0; i < copies; i++)
		memcpy(body + i * size, data, size);

	if (EdgeGzip(body, len, &zipped, &zipped_len))
	{
		FuzzAssert(zipped != NULL && zipped_len < len, "gzip of %zu bytes is %zu", len, zipped_len);
		CheckInflates(zipped, zipped_len, body, len);
		free(zipped);
	}

	EdgeEtag(body, len, false, tag);
	EdgeEtag(body, len, false, again);
	EdgeEtag(body, len, true, gz);
	FuzzAssert(strcmp(tag, again) == 0, "ETag not stable: %s %s", tag, again);
	FuzzAssert(strcmp(tag, gz) != 0 && strncmp(tag, gz, 33) == 0, "tags %s %s", tag, gz);
	FuzzAssert(EdgeNoneMatch(tag, gz) && EdgeNoneMatch(gz, tag), "tags of one body do not match");
	/* another body (one byte more), another tag */
	body[len] = 'x';
	EdgeEtag(body, len + 1, false, again);
	FuzzAssert(strcmp(tag, again) != 0, "one tag for two bodies: %s", tag);
	free(body);
	return 0;
}
