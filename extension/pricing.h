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
	char *unit_price;	/* money as text */
	char *discount;		/* per line: the unit discount times the quantity */
	char *line_total;	/* unit_price * quantity - discount */
	bool  available;	/* published, with a price in the cart's currency */
	char *promotion_id; /* the promotion applied, or NULL */
	char *promotion_code;
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

/*
 * The promotion rule, as a LATERAL join for a query that has a product's
 * id, price and currency and a store id (SQL expressions, the store may be
 * NULL): among the promotions that name the product, are published and
 * active, inside their window at now() (start inclusive, end exclusive) and
 * at that store or at every store, the single one that takes the most off a
 * unit, never more than the price.  A fixed amount applies only in its own
 * currency.  Promotions do not stack.  It yields promo.promotion_id,
 * promo.promotion_code and promo.unit_discount (NULL: none applies).  The
 * cart, the order and the catalogue all price through it.
 */
#define PRICING_PROMOTION_JOIN(product, price, currency, store)                                              \
	" LEFT JOIN LATERAL ("                                                                                   \
	"  SELECT pr.id AS promotion_id, pr.code AS promotion_code, "                                            \
	"         least(" price ", CASE pr.discount_type WHEN 'percentage' "                                     \
	"                 THEN round(" price " * pr.value / 100, 2) ELSE pr.value END) AS unit_discount "        \
	"    FROM multistore.promotions pr "                                                                     \
	"   WHERE pr.product_ids @> ARRAY[" product "]::text[] AND pr.published AND pr.active "                  \
	"     AND (pr.store_ids IS NULL OR pr.store_ids @> ARRAY[" store "]::text[]) "                           \
	"     AND (pr.starts_at IS NULL OR pr.starts_at <= now()) AND (pr.ends_at IS NULL OR now() < "           \
	"pr.ends_at) "                                                                                           \
	"     AND (pr.discount_type = 'percentage' OR pr.currency = " currency ") "                              \
	"   ORDER BY 3 DESC, pr.id LIMIT 1) promo ON true "

/*
 * Prices a cart's lines at time now, inside SPI, for store_id (NULL: the
 * cart's own store; promotions limited to some stores need one).
 */
extern void PricingCart(Datum cart_id, const char *store_id, PricedCart *priced);

/* Writes the member "promotion": {id, code}, or null */
extern void PricingWritePromotion(JsonWriter *w, const char *promotion_id, const char *promotion_code);

/* Writes the members items, subtotal, discount, total, currency */
extern void PricingWrite(JsonWriter *w, const PricedCart *priced);

#endif /* MULTISTORE_PRICING_H */
