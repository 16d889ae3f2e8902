/*
 * fuzz_strapi_page.c
 *	  strapi-sync's reading of one page of Strapi's REST listing
 *	  (StrapiPageParse), and the one-line summary of an error answer
 *	  (StrapiErrorText).
 *
 * Input: the whole answer body, as Strapi (or whatever answers in its
 * place) sent it.  What must hold besides no crash and no leak:
 * - a refusal says why on one line of UTF-8;
 * - an accepted page is what jansson reads: "data" is an array of objects,
 *   count entries, no more than pageSize, pageCount = ceil(total/pageSize),
 *   each entry with an id StrapiEntryId can write;
 * - each entry's slice (the bytes sent to PostgreSQL as it came) is
 *   exactly that entry: parsed alone it equals the entry jansson found,
 *   and the slices are in order without overlapping;
 * - the error summary is one line of printable ASCII.
 */
#include "fuzz.h"
#include "strapi_page.h"

FUZZ_FIXED_JANSSON_SEED

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *) data;
	StrapiPage	page;
	char		err[512];
	char		id[STRAPI_ID_MAX];
	char		text[256];
	json_t	   *doc;

	err[0] = '\0';
	if (!StrapiPageParse(body, size, &page, err, sizeof(err)))
	{
		FuzzAssert(err[0] != '\0' && strchr(err, '\n') == NULL && Utf8IsValid(err, strlen(err)),
				   "refused without one line of reason: \"%s\"", err);
		FuzzAssert(page.root == NULL && page.raw == NULL, "a refused page holds memory");
	}
	else
	{
		doc = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
		FuzzAssert(doc != NULL, "accepted what jansson refuses");
		FuzzAssert(json_equal(json_object_get(doc, "data"), page.data), "data differs from jansson's");
		json_decref(doc);
		FuzzAssert(json_is_array(page.data) && json_array_size(page.data) == page.count, "count %zu",
				   page.count);
		FuzzAssert(page.page >= 1 && page.page_size >= 1 && page.count <= (size_t) page.page_size,
				   "page %d size %d count %zu", page.page, page.page_size, page.count);
		FuzzAssert((long long) page.page_count ==
					   ((long long) page.total + page.page_size - 1) / page.page_size,
				   "pageCount %d for total %d by %d", page.page_count, page.total, page.page_size);
		for (size_t i = 0; i < page.count; i++)
		{
			const json_t *entry = json_array_get(page.data, i);
			json_t		 *alone;

			FuzzAssert(json_is_object(entry), "entry %zu is no object", i);
			FuzzAssert(StrapiEntryId(entry, id, sizeof(id)) && id[0] != '\0' && strlen(id) < STRAPI_ID_MAX,
					   "entry %zu has no id", i);
			FuzzAssert(page.raw[i].offset + page.raw[i].len <= size, "slice %zu out of the body", i);
			FuzzAssert(i == 0 || page.raw[i].offset >= page.raw[i - 1].offset + page.raw[i - 1].len,
					   "slices %zu and %zu overlap", i - 1, i);
			alone = json_loadb(body + page.raw[i].offset, page.raw[i].len, JSON_REJECT_DUPLICATES, NULL);
			FuzzAssert(alone != NULL && json_equal(alone, entry), "slice %zu is not entry %zu: \"%.*s\"", i,
					   i, (int) (page.raw[i].len > 200 ? 200 : page.raw[i].len), body + page.raw[i].offset);
			json_decref(alone);
		}
	}
	StrapiPageFree(&page);

	StrapiErrorText(body, size, text, sizeof(text));
	for (const char *p = text; *p; p++)
		FuzzAssert((unsigned char) *p >= 0x20 && (unsigned char) *p < 0x7f, "error text byte 0x%02x",
				   (unsigned char) *p);
	return 0;
}
