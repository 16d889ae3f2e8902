/*
 * fuzz_headers.c
 *	  The request headers the proxy reads itself: X-Request-Id,
 *	  Accept-Encoding, If-None-Match, Origin, X-Forwarded-For (with the
 *	  trusted list), address lists and CIDRs, Content-Type and the
 *	  Idempotency-Key bound by ParamsBind.
 *
 * Input, newline-separated (a header value never holds one):
 *	  0 X-Request-Id			 1 Accept-Encoding		 2 If-None-Match
 *	  3 Origin					 4 CORS_ORIGINS			 5 the socket's peer
 *	  6 X-Forwarded-For			 7 TRUSTED_PROXIES		 8 an address
 *	  9 METRICS_ALLOW			10 Content-Type			11 Idempotency-Key
 *	  the rest: a response body, for its ETag.
 * Where a rule is simple enough, an oracle written apart from the proxy
 * says what the answer must be.
 */
#include <arpa/inet.h>

#include "edge.h"
#include "fuzz.h"
#include "request.h"

/* The items of a comma-separated list, trimmed, as edge.c reads them */
typedef struct Items
{
	int	 n;
	char item[64][256];
} Items;

static void
OracleItems(const char *list, size_t max, Items *items)
{
	const char *p = list;

	items->n = 0;
	while (p && *p && items->n < 64)
	{
		size_t len = strcspn(p, ",");
		size_t b = 0, e = len;

		while (b < e && (p[b] == ' ' || p[b] == '\t'))
			b++;
		while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (e > b)
		{
			/* too long to be anything edge.c knows: it matches nothing */
			if (e - b < max)
				snprintf(items->item[items->n], sizeof(items->item[0]), "%.*s", (int) (e - b), p + b);
			else
				items->item[items->n][0] = '\0';
			items->n++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

static bool
OracleCors(const char *list, const char *origin)
{
	Items items;

	if (origin[0] == '\0')
		return false;
	OracleItems(list, 256, &items);
	if (items.n == 64)
		return EdgeCorsAllows(list, origin); /* the oracle stops counting there */
	for (int i = 0; i < items.n; i++)
		if (strcmp(items.item[i], "*") == 0 || strcmp(items.item[i], origin) == 0)
			return true;
	return false;
}

static bool
OracleParse(const char *text, int *family, unsigned char bytes[16])
{
	memset(bytes, 0, 16);
	if (inet_pton(AF_INET, text, bytes) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, text, bytes) == 1)
		*family = AF_INET6;
	else
		return false;
	return true;
}

static bool
OracleInList(const char *list, const char *addr)
{
	Items		  items;
	int			  family;
	unsigned char a[16];

	if (!OracleParse(addr, &family, a))
		return false;
	OracleItems(list, 64, &items);
	if (items.n == 64)
		return EdgeAddressInList(list, addr);
	for (int i = 0; i < items.n; i++)
	{
		char		 *slash = strchr(items.item[i], '/');
		int			  nfamily;
		unsigned char net[16];
		long		  bits;
		int			  max;
		bool		  same = true;

		if (slash)
			*slash = '\0';
		if (items.item[i][0] == '\0' || !OracleParse(items.item[i], &nfamily, net) || nfamily != family)
			continue;
		max = family == AF_INET ? 32 : 128;
		bits = max;
		if (slash)
		{
			char *end;

			bits = strtol(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > max)
				continue;
		}
		/* whole bytes, then the bits of the last one */
		if (memcmp(net, a, (size_t) bits / 8) != 0)
			same = false;
		else if (bits % 8 != 0)
		{
			unsigned char mask = (unsigned char) (0xFF << (8 - bits % 8));

			same = (net[bits / 8] & mask) == (a[bits / 8] & mask);
		}
		if (same)
			return true;
	}
	return false;
}

static bool
OracleJsonType(const char *ct)
{
	const char *p;

	if (strncasecmp(ct, "application/json", 16) != 0)
		return false;
	p = ct + 16 + strspn(ct + 16, " ");
	if (*p == '\0')
		return true;
	if (*p++ != ';')
		return false;
	p += strspn(p, " ");
	if (strncasecmp(p, "charset=utf-8", 13) != 0)
		return false;
	p += 13;
	return p[strspn(p, " ")] == '\0';
}

static bool
OracleRequestId(const char *id)
{
	size_t len = strlen(id);

	return len >= 1 && len <= 64 &&
		   strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == len;
}

static void
CheckRequestId(const char *client_id)
{
	Request req;
	char   *text;
	bool	sane = RequestIdIsSane(client_id);

	FuzzAssert(sane == OracleRequestId(client_id), "RequestIdIsSane(\"%s\") is %d", client_id, (int) sane);
	FuzzAssert(!RequestIdIsSane(NULL), "no X-Request-Id is sane");
	memset(&req, 0, sizeof(req));
	/* as Begin does */
	if (sane)
		snprintf(req.request_id, sizeof(req.request_id), "%s", client_id);
	else
		RequestNewId(req.request_id, sizeof(req.request_id));
	FuzzAssert(RequestIdIsSane(req.request_id), "request id \"%s\"", req.request_id);
	RequestFail(&req, 400, "validation_failed", "x");
	text = ErrorBody(&req.error, req.request_id);
	FuzzAssert(text != NULL && strstr(text, req.request_id) != NULL, "no error body with request id \"%s\"",
			   req.request_id);
	free(text);
	ErrorClear(&req.error);
}

static void
CheckEtag(const char *body, size_t len, const char *if_none_match)
{
	char plain[EDGE_ETAG_SIZE], gz[EDGE_ETAG_SIZE], weak[EDGE_ETAG_SIZE + 2];

	EdgeEtag(body, len, false, plain);
	EdgeEtag(body, len, true, gz);
	snprintf(weak, sizeof(weak), "W/%s", plain);
	FuzzAssert(strlen(plain) == 34 && strlen(gz) == 37 && plain[0] == '"' && gz[36] == '"', "tags %s %s",
			   plain, gz);
	FuzzAssert(EdgeNoneMatch(plain, plain) && EdgeNoneMatch(gz, plain) && EdgeNoneMatch(plain, gz) &&
				   EdgeNoneMatch(weak, gz) && EdgeNoneMatch("*", plain),
			   "a body's own tags do not match it");
	(void) EdgeNoneMatch(if_none_match, plain);
	(void) EdgeNoneMatch(if_none_match, gz);
}

static void
CheckClientAddress(const char *peer, const char *xff, const char *trusted)
{
	char out[64];
	char hop[64];

	EdgeClientAddress(peer, xff, trusted, out, sizeof(out));
	FuzzAssert(memchr(out, '\0', sizeof(out)) != NULL, "address not terminated");
	if (strncmp(out, peer, sizeof(out) - 1) == 0)
		return;
	/* not the peer: the peer is trusted, and out is a well-formed hop of X-Forwarded-For */
	FuzzAssert(EdgeAddressInList(trusted, peer), "untrusted peer %s replaced by %s", peer, out);
	FuzzAssert(OracleParse(out, &(int){0}, (unsigned char[16]){0}), "client address \"%s\" is no address",
			   out);
	snprintf(hop, sizeof(hop), "%s", out);
	FuzzAssert(strstr(xff, hop) != NULL, "client address %s is not in X-Forwarded-For", out);
}

static void
CheckIdempotencyKey(const char *value)
{
	const Route *order = NULL;
	RouteMatch	 match;
	QueryParams	 q;
	const char	*headers[ROUTE_MAX_ARGS] = {0};
	const char	*values[ROUTE_MAX_ARGS];
	ApiError	 err;
	int			 i = 0;

	for (size_t r = 0; r < route_count; r++)
		if (strcmp(routes[r].method, "POST") == 0 && strcmp(routes[r].pattern, "/api/orders") == 0)
			order = &routes[r];
	FuzzAssert(order != NULL, "no POST /api/orders");
	memset(&q, 0, sizeof(q));
	memset(&err, 0, sizeof(err));
	RouterMatch(order, 1, "POST", "/api/orders", &match);
	/* as Begin does: each header argument looked up by name */
	for (const RouteArg *a = order->args; a->source != ARG_NONE; a++, i++)
		if (a->source == ARG_HEADER)
			headers[i] = value;
	if (ParamsBind(order, &match, &q, "{}", "7d0c3b4a-9f6e-4c2b-8a1d-5e3f2a1b0c9d", headers, values, &err))
		FuzzAssert(ParamCheck(TYPE_TEXT, value, strlen(value)) == NULL, "Idempotency-Key \"%s\" bound",
				   value);
	else
	{
		FuzzAssert(err.status == 400 && ParamCheck(TYPE_TEXT, value, strlen(value)) != NULL,
				   "Idempotency-Key \"%s\" refused with %d", value, err.status);
		FuzzCheckError(&err, "Idempotency-Key");
	}
	ErrorClear(&err);
}

FUZZ_FIXED_JANSSON_SEED

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fields f;
	char **v;

	FieldsSplit(&f, data, size, 13);
	v = f.field;

	CheckRequestId(v[0]);
	(void) EdgeAcceptsGzip(v[1]);
	FuzzAssert(!EdgeAcceptsGzip(NULL), "no Accept-Encoding accepts gzip");
	CheckEtag(v[12], f.len[12], v[2]);
	FuzzAssert(EdgeCorsAllows(v[4], v[3]) == OracleCors(v[4], v[3]), "EdgeCorsAllows(\"%s\", \"%s\")", v[4],
			   v[3]);
	FuzzAssert(!EdgeCorsAllows(NULL, v[3]) && !EdgeCorsAllows(v[4], NULL),
			   "CORS without a list or an origin");
	CheckClientAddress(v[5], v[6], v[7]);
	CheckClientAddress(v[5], v[6], v[5]);
	CheckClientAddress(v[8], v[6], v[7]);
	FuzzAssert(EdgeAddressInList(v[9], v[8]) == OracleInList(v[9], v[8]), "EdgeAddressInList(\"%s\", \"%s\")",
			   v[9], v[8]);
	FuzzAssert(EdgeAddressInList(v[7], v[5]) == OracleInList(v[7], v[5]), "EdgeAddressInList(\"%s\", \"%s\")",
			   v[7], v[5]);
	FuzzAssert(RequestIsJsonContentType(v[10]) == OracleJsonType(v[10]), "RequestIsJsonContentType(\"%s\")",
			   v[10]);
	CheckIdempotencyKey(v[11]);
	FieldsFree(&f);
	return 0;
}
