/*-------------------------------------------------------------------------
 *
 * carts.h
 *	  One cart per user: lines of products to order, priced by pricing.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_CARTS_H
#define MULTISTORE_CARTS_H

#include "utils/uuid.h"

#include "json_build.h"

#define CARTS_MAX_QUANTITY 99  /* per line */
#define CARTS_MAX_LINES	   100 /* lines per cart */

/* The caller's cart, created when missing and locked for this transaction; inside SPI */
extern pg_uuid_t CartOf(pg_uuid_t user_id);

/* Writes the member "cart":{id,storeId,items,subtotal,discount,total,currency,updatedAt} */
extern void CartWrite(JsonWriter *w, pg_uuid_t cart_id);

/* Empties a cart (an order took its lines) */
extern void CartEmpty(pg_uuid_t cart_id);

#endif /* MULTISTORE_CARTS_H */
