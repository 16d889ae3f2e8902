/*-------------------------------------------------------------------------
 *
 * stores.h
 *	  Stores: where they are, when they open, whether they take orders.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_STORES_H
#define MULTISTORE_STORES_H

#include "utils/array.h"

#include "stores_hours.h"

#define STORES_DEFAULT_RADIUS_KM   10.0
#define STORES_MAX_RADIUS_KM	   100.0 /* multistore.nearby_max_radius_km */
#define STORES_DEFAULT_RESULTS	   20
#define STORES_MAX_RESULTS		   100	/* multistore.nearby_max_results */
#define STORES_RESULTS_CEILING	   1000 /* the most that GUC allows */
#define STORES_DEFAULT_DELIVERY_KM 5.0
#define STORES_MAX_DELIVERY_KM	   100.0
#define STORES_MAX_PRODUCT_IDS	   100 /* per availability call */
#define STORES_MAX_BASKET		   20  /* products in a nearby search's basket */

extern double multistore_nearby_max_radius_km;
extern int	  multistore_nearby_max_results;

/* One store as read by StoreLoad */
typedef struct StoreRow
{
	char	   *id;
	char	   *name;
	char	   *address;
	char	   *phone; /* NULL when none */
	double		latitude;
	double		longitude;
	char	   *time_zone;
	pg_tz	   *tz;
	StoreHours	hours;
	double		delivery_radius_km;
	bool		accepting_orders;
	TimestampTz created_at;
	TimestampTz updated_at;
} StoreRow;

/* How StoreLoad reads: inside a read-only call, after this call wrote, or locking the row */
typedef enum StoreLoadMode
{
	STORE_READ,
	STORE_READ_OWN_WRITES,
	STORE_FOR_UPDATE
} StoreLoadMode;

/* StoreLoad reads a store inside SPI; returns false when there is none */
extern bool StoreLoad(const char *store_id, StoreLoadMode mode, StoreRow *row);

/* StoreWrite writes the store object's members, as GET /api/stores/:id shows them */
extern void StoreWrite(JsonWriter *w, const StoreRow *row, TimestampTz now);

/* Raises not_found for a store that does not exist or an id that cannot be one */
extern void StoreNotFound(const char *store_id) pg_attribute_noreturn();

/* A list of product ids from a request: valid, at most 100, duplicates dropped; else a bad field */
extern ArrayType *StoresProductIdList(ArrayType *ids, const char *field);

#endif /* MULTISTORE_STORES_H */
