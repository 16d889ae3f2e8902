/*-------------------------------------------------------------------------
 *
 * pricing.c
 *	  Prices: a line costs its product's price times its quantity, less the
 *	  discount of the best promotion that applies (PRICING_PROMOTION_JOIN in
 *	  pricing.h); a cart is the sum of its available lines.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "multistore.h"
#include "pricing.h"

static SPIPlanPtr cart_plan = NULL;

void
PricingCart(Datum cart_id, const char *store_id, PricedCart *priced)
{
	Oid	   types[2] = {UUIDOID, TEXTOID};
	Datum  values[2] = {cart_id, store_id ? CStringGetTextDatum(store_id) : (Datum) 0};
	char   nulls[2] = {' ', store_id ? ' ' : 'n'};
	uint64 n;

	/*
	 * Per line: the unit price, the best promotion's discount times the
	 * quantity, the line total; over the available lines: the sums.  A line
	 * whose product is unpublished, has no price or is priced in another
	 * currency is unavailable and counts for nothing.
	 */
	n = MsExecute(
		MsPlan(&cart_plan,
			   "WITH lines AS ( "
			   "  SELECT ci.id, ci.product_id, p.name, ci.quantity, p.price AS unit_price, "
			   "         (coalesce(promo.unit_discount, 0) * ci.quantity)::numeric(12, 2) AS discount, "
			   "         (p.published AND p.price IS NOT NULL AND p.currency = coalesce(c.currency, "
			   "p.currency)) "
			   "           AS available, "
			   "         c.currency, ci.added_at, promo.promotion_id, promo.promotion_code "
			   "    FROM multistore.cart_items ci "
			   "    JOIN multistore.carts c ON c.id = ci.cart_id "
			   "    JOIN multistore.products p ON p.id = ci.product_id " PRICING_PROMOTION_JOIN(
				   "p.id", "p.price", "p.currency",
				   "coalesce($2, c.store_id)") "   WHERE ci.cart_id = $1) "
											   "SELECT id, product_id, name, quantity, unit_price, discount, "
											   "       (unit_price * quantity - discount)::numeric(12, 2), "
											   "available, "
											   "       (sum(unit_price * quantity) FILTER (WHERE available) "
											   "OVER ())::numeric(12, 2), "
											   "       (sum(discount) FILTER (WHERE available) OVER "
											   "())::numeric(12, 2), "
											   "       (sum(unit_price * quantity - discount) FILTER (WHERE "
											   "available) OVER ())::numeric(12, "
											   "2), "
											   "       currency, promotion_id, promotion_code "
											   "  FROM lines ORDER BY added_at, id",
			   2, types),
		values, nulls, false, 0);

	priced->nlines = (int) n;
	priced->lines = palloc0(sizeof(PricedLine) * Max(n, 1));
	priced->subtotal = "0.00";
	priced->discount = "0.00";
	priced->total = "0.00";
	priced->currency = NULL;
	for (uint64 i = 0; i < n; i++)
	{
		PricedLine *l = &priced->lines[i];
		bool		isnull;

		l->item_id = MsColumnText(i, 1);
		l->product_id = MsColumnText(i, 2);
		l->name = MsColumnText(i, 3);
		l->quantity = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4, &isnull));
		l->unit_price = MsColumnText(i, 5);
		l->discount = MsColumnText(i, 6);
		l->line_total = MsColumnText(i, 7);
		l->available = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 8, &isnull));
		l->promotion_id = MsColumnText(i, 13);
		l->promotion_code = MsColumnText(i, 14);
		if (i == 0)
		{
			char *v;

			priced->subtotal = (v = MsColumnText(i, 9)) ? v : "0.00";
			priced->discount = (v = MsColumnText(i, 10)) ? v : "0.00";
			priced->total = (v = MsColumnText(i, 11)) ? v : "0.00";
			priced->currency = MsColumnText(i, 12);
		}
	}
}

void
PricingWritePromotion(JsonWriter *w, const char *promotion_id, const char *promotion_code)
{
	if (promotion_id == NULL)
	{
		JwNull(w, "promotion");
		return;
	}
	JwObjectStart(w, "promotion");
	JwString(w, "id", promotion_id);
	JwString(w, "code", promotion_code);
	JwObjectEnd(w);
}

void
PricingWrite(JsonWriter *w, const PricedCart *priced)
{
	JwArrayStart(w, "items");
	for (int i = 0; i < priced->nlines; i++)
	{
		const PricedLine *l = &priced->lines[i];

		JwObjectStart(w, NULL);
		JwString(w, "id", l->item_id);
		JwString(w, "productId", l->product_id);
		JwString(w, "name", l->name);
		JwInt(w, "quantity", l->quantity);
		JwStringOrNull(w, "unitPrice", l->unit_price);
		JwString(w, "discount", l->discount);
		JwStringOrNull(w, "lineTotal", l->line_total);
		JwBool(w, "available", l->available);
		PricingWritePromotion(w, l->promotion_id, l->promotion_code);
		JwObjectEnd(w);
	}
	JwArrayEnd(w);
	JwString(w, "subtotal", priced->subtotal);
	JwString(w, "discount", priced->discount);
	JwString(w, "total", priced->total);
	JwStringOrNull(w, "currency", priced->currency);
}
