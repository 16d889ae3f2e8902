/*-------------------------------------------------------------------------
 *
 * pricing.h
 *	  The one pricing function: what each line of a cart costs and what the
 *	  cart comes to.  Carts show it; orders snapshot it.
 *
 * Money is numeric(12,2) with a currency, computed in SQL and carried as
 * text ("12.30"), never as floating point.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_PRICING_H
#define MULTISTORE_PRICING_H

#include "json_build.h"

typedef struct PricedLine
{
	char *item_id; /* the cart line */
	char *product_id;
	char *name;
	int32 quantity;
	char *unit_price; /* money as text */
	char *discount;	  /* per line */
	char *line_total; /* unit_price * quantity - discount */
	bool  available;  /* published, with a price in the cart's currency */
} PricedLine;

typedef struct PricedCart
{
	int			nlines;
	PricedLine *lines;	  /* in the order they were added */
	char	   *subtotal; /* of the available lines */
	char	   *discount;
	char	   *total;
	char	   *currency; /* NULL for an empty cart */
} PricedCart;

/* Prices a cart's lines at time now, inside SPI */
extern void PricingCart(Datum cart_id, PricedCart *priced);

/* Writes the members items, subtotal, discount, total, currency */
extern void PricingWrite(JsonWriter *w, const PricedCart *priced);

#endif /* MULTISTORE_PRICING_H */
