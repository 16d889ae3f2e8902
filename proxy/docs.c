/*
 * docs.c
 *	  GET /openapi.json and the interactive documentation at GET /docs:
 *	  Swagger UI from npm's swagger-ui-dist (installed by `make` under
 *	  proxy/node_modules, never committed; DOCS_DIR elsewhere), showing the
 *	  built-in document.  Only the three files the page needs are served,
 *	  by name, so no request path ever reaches the file system.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "request.h"

/* proxy/openapi.json, NUL-terminated (openapi_doc.S) */
extern const char openapi_document[];

/* Swagger UI styles itself inline, so the page relaxes style-src alone */
#define DOCS_CSP                                                                                             \
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "        \
	"connect-src 'self'; frame-ancestors 'none'"

static const char docs_page[] = "<!DOCTYPE html>\n"
								"<html lang=\"en\">\n"
								"<head>\n"
								"<meta charset=\"utf-8\">\n"
								"<title>multistore API</title>\n"
								"<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\">\n"
								"</head>\n"
								"<body>\n"
								"<div id=\"swagger-ui\"></div>\n"
								"<script src=\"/docs/swagger-ui-bundle.js\"></script>\n"
								"<script src=\"/docs/docs-init.js\"></script>\n"
								"</body>\n"
								"</html>\n";

/* A file of its own rather than an inline script, which the CSP forbids */
static const char docs_init[] = "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui',\n"
								"  deepLinking: true, defaultModelsExpandDepth: 0 });\n";

static const struct
{
	const char *name;
	const char *content_type;
} assets[] = {
	{"swagger-ui.css", "text/css; charset=utf-8"},
	{"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
};

int
HandleOpenApi(struct Request *req, const char *const *values)
{
	(void) values;
	return RespondJson(req, 200, openapi_document, strlen(openapi_document));
}

int
HandleDocsPage(struct Request *req, const char *const *values)
{
	(void) values;
	req->content_type = "text/html; charset=utf-8";
	req->csp = DOCS_CSP;
	return RespondJson(req, 200, docs_page, strlen(docs_page));
}

/* Reads a whole file into a malloc'd buffer; NULL when it cannot */
static char *
ReadFile(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long  size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
		(data = malloc((size_t) size + 1)) != NULL)
	{
		*len = fread(data, 1, (size_t) size, f);
		if (*len != (size_t) size)
		{
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	return data;
}

int
HandleDocsAsset(struct Request *req, const char *const *values)
{
	const char *name = values[0];
	char		path[4096];
	char	   *data;
	size_t		len = 0;
	int			ret;

	req->csp = DOCS_CSP;
	if (strcmp(name, "docs-init.js") == 0)
	{
		req->content_type = "text/javascript; charset=utf-8";
		return RespondJson(req, 200, docs_init, strlen(docs_init));
	}
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
	{
		if (strcmp(name, assets[i].name) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", req->server->config.docs_dir, assets[i].name);
		data = ReadFile(path, &len);
		if (data == NULL)
		{
			RequestFail(req, 503, "unavailable",
						"Swagger UI is not installed (npm install --prefix proxy, or set DOCS_DIR)");
			return RespondError(req);
		}
		req->content_type = assets[i].content_type;
		ret = RespondJson(req, 200, data, len);
		free(data);
		return ret;
	}
	RequestFail(req, 404, "not_found", "no such file");
	return RespondError(req);
}
