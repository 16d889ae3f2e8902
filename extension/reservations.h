/*-------------------------------------------------------------------------
 *
 * reservations.h
 *	  Reservations: stock held for a buyer at one store for a while, all
 *	  lines or none.  The engine that the REST holds and the orders share.
 *
 * A reservation is a row (status active | consumed | released | expired,
 * an owner, an expiry) and its holds, one per product and bucket.  An
 * active reservation past its expiry is expired the moment it is overdue:
 * it shows as expired, its holds count as released for every reader, and
 * whoever next needs the stock, or the sweep, writes that down.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_RESERVATIONS_H
#define MULTISTORE_RESERVATIONS_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

#include "json_build.h"

#define RESERVATIONS_DEFAULT_TTL  900	/* seconds: multistore.reservation_ttl */
#define RESERVATIONS_MAX_TTL	  86400 /* multistore.reservation_max_ttl */
#define RESERVATIONS_MAX_LINES	  100
#define RESERVATIONS_MAX_QUANTITY 999

extern int multistore_reservation_ttl;
extern int multistore_reservation_max_ttl;

extern void ReservationsInit(void);

typedef struct ReservationLine
{
	char *product_id;
	int32 quantity;
} ReservationLine;

typedef struct ReservationRequest
{
	const char		*store_id;
	ReservationLine *lines; /* may repeat a product: quantities are summed */
	int				 nlines;
	int32			 ttl_seconds; /* 0: multistore.reservation_ttl */
	const char		*owner_type;  /* "order", "cart" or "external" */
	const char		*owner_ref;	  /* may be NULL */
	pg_uuid_t		*created_by;  /* may be NULL */
} ReservationRequest;

/* What ReservationCreate made, to answer without reading it back */
typedef struct ReservationCreated
{
	pg_uuid_t		 id;
	TimestampTz		 created_at;
	TimestampTz		 expires_at;
	ReservationLine *lines; /* merged and sorted by product */
	int				 nlines;
} ReservationCreated;

/*
 * ReservationCreate holds every line or none, inside SPI.  Raises not_found
 * for an unknown store or product and out_of_stock naming every short line
 * with what was requested and what is available.  Returns the id; sets
 * *expires_at.
 */
extern pg_uuid_t ReservationCreate(const ReservationRequest *req, TimestampTz *expires_at,
								   ReservationCreated *created);

/* Writes the member "reservation":{...} of one just created */
extern void ReservationWriteCreated(JsonWriter *w, const ReservationRequest *req,
									const ReservationCreated *c);

/* Status changes for the order code; each raises invalid_transition when not active */
extern void ReservationRelease(pg_uuid_t id);
extern void ReservationConsume(pg_uuid_t id);

/* What selling a reservation came to, when not told to raise */
typedef enum ConsumeResult
{
	CONSUME_DONE,  /* sold (now or before) */
	CONSUME_ENDED, /* released or expired: nothing to sell */
	CONSUME_SHORT  /* on hand was set below what it holds */
} ConsumeResult;

/* Consumes an active reservation; says why not instead of raising, changing nothing */
extern ConsumeResult ReservationTryConsume(pg_uuid_t id);

/* Writes the member "reservation":{...} */
extern void ReservationWrite(JsonWriter *w, pg_uuid_t id);

/* The sweep: expires every overdue reservation it can lock now; returns how many */
extern int64 ReservationsExpire(void);

#endif /* MULTISTORE_RESERVATIONS_H */
