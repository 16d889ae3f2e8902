/*
 * realtime_msg.c
 *	  Who sees which event, what a client may say, the handshake key, SSE
 *	  frames.  Pure functions (realtime_msg.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "params.h"
#include "realtime_msg.h"

static int
Find(const RtStores *s, const char *id, bool *found)
{
	int lo = 0, hi = s->n;

	while (lo < hi)
	{
		int mid = (lo + hi) / 2;
		int c = strcmp(s->ids[mid], id);

		if (c == 0)
		{
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

bool
RtStoresAdd(RtStores *s, const char *id)
{
	bool found;
	int	 at = Find(s, id, &found);

	if (found)
		return true;
	if (s->n >= RT_MAX_STORES)
		return false;
	memmove(&s->ids[at + 1], &s->ids[at], sizeof(char *) * (size_t) (s->n - at));
	s->ids[at] = strdup(id);
	s->n++;
	return true;
}

void
RtStoresRemove(RtStores *s, const char *id)
{
	bool found;
	int	 at = Find(s, id, &found);

	if (!found)
		return;
	free(s->ids[at]);
	memmove(&s->ids[at], &s->ids[at + 1], sizeof(char *) * (size_t) (s->n - at - 1));
	s->n--;
}

bool
RtStoresHas(const RtStores *s, const char *id)
{
	bool found = false;

	if (id != NULL && s->n > 0)
		Find(s, id, &found);
	return found;
}

void
RtStoresClear(RtStores *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->ids[i]);
	s->n = 0;
}

bool
RtEventVisible(const RtIdentity *who, const RtStores *watching, const RtEventMeta *ev)
{
	if (ev->type == NULL)
		return false;
	if (strncmp(ev->type, "order.", 6) == 0)
		return who->signed_in && (who->admin || (ev->user_id && strcmp(ev->user_id, who->user_id) == 0) ||
								  RtStoresHas(&who->managed, ev->store_id));
	if (strcmp(ev->type, "inventory.changed") == 0)
		return RtStoresHas(watching, ev->store_id);
	return false;
}

bool
RtIdIsValid(const char *s, size_t len)
{
	if (len == 0 || len > RT_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!(isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

RtMessageType
RtParseClientMessage(const char *text, size_t len, RtClientMessage *out, char *err, size_t errlen)
{
	json_error_t error;
	json_t		*doc;
	json_t		*stores;
	const char	*type;
	const char	*key;
	json_t		*value;

	memset(out, 0, sizeof(*out));
	out->type = RT_MSG_INVALID;
	if (!Utf8IsValid(text, len))
	{
		snprintf(err, errlen, "a message must be UTF-8 text");
		return RT_MSG_INVALID;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	if (!json_is_object(doc))
	{
		snprintf(err, errlen,
				 "a message must be a JSON object such as {\"type\":\"subscribe\",\"stores\":[...]}");
		json_decref(doc);
		return RT_MSG_INVALID;
	}
	json_object_foreach(doc, key, value)
	{
		if (strcmp(key, "type") != 0 && strcmp(key, "stores") != 0)
		{
			snprintf(err, errlen, "a message has only \"type\" and \"stores\"");
			json_decref(doc);
			return RT_MSG_INVALID;
		}
	}
	type = json_string_value(json_object_get(doc, "type"));
	stores = json_object_get(doc, "stores");
	if (type == NULL || (strcmp(type, "subscribe") != 0 && strcmp(type, "unsubscribe") != 0))
	{
		snprintf(err, errlen, "\"type\" must be \"subscribe\" or \"unsubscribe\"");
		json_decref(doc);
		return RT_MSG_INVALID;
	}
	if (!json_is_array(stores) || json_array_size(stores) == 0 || json_array_size(stores) > RT_MAX_STORES)
	{
		snprintf(err, errlen, "\"stores\" must be a list of 1 to %d store ids", RT_MAX_STORES);
		json_decref(doc);
		return RT_MSG_INVALID;
	}
	for (size_t i = 0; i < json_array_size(stores); i++)
	{
		json_t *s = json_array_get(stores, i);

		if (!json_is_string(s) || !RtIdIsValid(json_string_value(s), json_string_length(s)))
		{
			snprintf(err, errlen, "\"stores\" must hold store ids such as \"store_1\"");
			json_decref(doc);
			return RT_MSG_INVALID;
		}
		memcpy(out->stores[out->nstores], json_string_value(s), json_string_length(s) + 1);
		out->nstores++;
	}
	out->type = strcmp(type, "subscribe") == 0 ? RT_MSG_SUBSCRIBE : RT_MSG_UNSUBSCRIBE;
	json_decref(doc);
	return out->type;
}

bool
RtWebSocketKeyIsValid(const char *key)
{
	unsigned char raw[32];

	if (key == NULL || strlen(key) != 24 || key[22] != '=' || key[23] != '=')
		return false;
	for (int i = 0; i < 22; i++)
		if (!(isalnum((unsigned char) key[i]) || key[i] == '+' || key[i] == '/'))
			return false;
	return EVP_DecodeBlock(raw, (const unsigned char *) key, 24) == 18; /* 16 bytes and two of padding */
}

void
RtWebSocketAccept(const char *key, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char	  digest[SHA_DIGEST_LENGTH];
	char			  joined[128];
	int				  n = snprintf(joined, sizeof(joined), "%.64s%s", key, guid);

	SHA1((const unsigned char *) joined, (size_t) n, digest);
	EVP_EncodeBlock((unsigned char *) out, digest, SHA_DIGEST_LENGTH);
	out[28] = '\0';
}

bool
RtHeaderHasToken(const char *value, const char *token)
{
	size_t tlen = strlen(token);

	if (value == NULL)
		return false;
	for (const char *p = value; *p;)
	{
		const char *end;
		size_t		n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = p + strcspn(p, ",");
		n = (size_t) (end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(p, token, tlen) == 0)
			return true;
		p = end;
	}
	return false;
}

char *
RtSseFrame(int64_t id, const char *json, size_t json_len, size_t *len)
{
	char   head[48];
	int	   h = snprintf(head, sizeof(head), "id: %lld\ndata: ", (long long) id);
	char  *out = malloc((size_t) h + json_len + 3);
	size_t o = (size_t) h;

	memcpy(out, head, (size_t) h);
	/* an SSE data line ends at a newline: JSON's only raw newlines are whitespace */
	for (size_t i = 0; i < json_len; i++)
		out[o++] = json[i] == '\n' || json[i] == '\r' ? ' ' : json[i];
	out[o++] = '\n';
	out[o++] = '\n';
	out[o] = '\0';
	*len = o;
	return out;
}

bool
RtParseEventId(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return false;
	for (const char *p = s; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		/* checked before it is computed: 19 digits can overflow int64_t */
		if (v > ((((int64_t) 1 << 62) - (*p - '0')) / 10))
			return false;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return true;
}
