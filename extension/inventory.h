/*-------------------------------------------------------------------------
 *
 * inventory.h
 *	  Stock per store and product, split into buckets.
 *
 * The stock of one product at one store is N rows ("buckets"), each with
 * on_hand and held (what active reservations hold).  For that product:
 *	  on hand = sum of on_hand, held = sum of held,
 *	  available = max(0, on hand - held), less nothing for overdue holds,
 *	  which count as released the moment they are overdue.
 * Buckets let many sessions reserve the same hot product at once: each
 * takes its units from one bucket it locks alone.  Whenever the whole
 * product has to be looked at (too little left in any single bucket, a
 * stock change), every bucket is locked in bucket order and the stock is
 * spread again so that each bucket holds at least what is held in it.
 *
 * Locks are always taken in one global order, so no two sessions wait on
 * each other in a cycle: a reservation row first, then buckets ordered by
 * (product, bucket); a lock taken out of that order is taken with SKIP
 * LOCKED, never waited for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_INVENTORY_H
#define MULTISTORE_INVENTORY_H

#include "datatype/timestamp.h"

#define INVENTORY_DEFAULT_BUCKETS 32
#define INVENTORY_MAX_ON_HAND	  1000000000

extern int multistore_inventory_buckets;

extern void InventoryInit(void);

/* One product's stock at one store, as a client sees it */
typedef struct StockLevel
{
	int64 on_hand;
	int64 held;		 /* by active holds that are not overdue */
	int64 available; /* max(0, on_hand - held) */
} StockLevel;

/*
 * InventorySetOnHand sets a product's stock on hand at a store (creating
 * its buckets when it had none), inside SPI.  Setting it below what is
 * held is allowed: available becomes 0, never negative, and the holds
 * stay; consuming them later may then fail with out_of_stock.
 */
extern StockLevel InventorySetOnHand(const char *store_id, const char *product_id, int64 on_hand);

/* Puts quantity units back on hand (a cancelled sale), inside SPI */
extern void InventoryRestock(const char *store_id, const char *product_id, int32 quantity);

/*
 * InventoryTake holds quantity units of a product at a store for a
 * reservation, inside SPI: from one bucket when one has enough (locked
 * with SKIP LOCKED, so sessions spread over buckets), else from all of
 * them, locked in order, after releasing overdue holds.  Returns false
 * when the product's total available is short, with *available set.
 */
extern bool InventoryTake(const char *store_id, const char *product_id, int32 quantity, Datum reservation_id,
						  TimestampTz expires_at, int64 *available);

/*
 * INVENTORY_LEVEL_SQL(store, product) is a LATERAL-able subquery giving one
 * row (on_hand, held, available) for a product at a store, overdue holds
 * counted as released: the one formula every reader of stock uses.
 */
#define INVENTORY_LEVEL_SQL(store, product)                                                                  \
	"(SELECT s.on_hand, s.held - s.overdue AS held, "                                                        \
	"        greatest(s.on_hand - s.held + s.overdue, 0) AS available "                                      \
	"   FROM (SELECT coalesce(sum(i.on_hand), 0)::int8 AS on_hand, "                                         \
	"                coalesce(sum(i.held), 0)::int8 AS held, "                                               \
	"                (SELECT coalesce(sum(h.quantity), 0) FROM multistore.reservation_holds h "              \
	"                  WHERE h.store_id = " store " AND h.product_id = " product                             \
	"                    AND h.state = 'active' AND h.expires_at <= now())::int8 AS overdue "                \
	"           FROM multistore.inventory i "                                                                \
	"          WHERE i.store_id = " store " AND i.product_id = " product ") s)"

/* Available units of a product at a store now, overdue holds counted as released */
extern StockLevel InventoryLevel(const char *store_id, const char *product_id);

/* Writes {"storeId","productId","onHand","held","available"} members */
struct JsonWriter;
extern void InventoryWriteLevel(struct JsonWriter *w, const char *store_id, const char *product_id,
								StockLevel level);

#endif /* MULTISTORE_INVENTORY_H */
