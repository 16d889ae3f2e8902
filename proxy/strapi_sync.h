/*
 * strapi_sync.h
 *	  `multistore-proxy strapi-sync`: reconciles the catalogue from Strapi's
 *	  REST API, through the extension's strapi_sync_entry and
 *	  strapi_sync_finish.
 */
#ifndef PROXY_STRAPI_SYNC_H
#define PROXY_STRAPI_SYNC_H

/*
 * StrapiSyncMain runs the subcommand (settings from the environment; see
 * strapi_page.h) and returns the process's exit code: 0 when every model
 * was listed and applied, 1 on any failure, 2 for a missing or bad setting.
 */
extern int StrapiSyncMain(int argc, char **argv);

#endif /* PROXY_STRAPI_SYNC_H */
