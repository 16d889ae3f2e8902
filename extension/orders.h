/*-------------------------------------------------------------------------
 *
 * orders.h
 *	  Orders: a cart turned into stock held at one store, then paid,
 *	  prepared and handed over, along the state machine of orders_status.c.
 *
 * Lock order for everything that changes an order: the order's row first,
 * then its reservation's row, then stock buckets by (product, bucket).
 * Payments, cancels, status changes and the expiry job all go this way, so
 * none of them can deadlock with another and each sees the others' result.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_ORDERS_H
#define MULTISTORE_ORDERS_H

#include "utils/uuid.h"

#include "accounts.h"
#include "json_build.h"

#define ORDERS_NOTES_MAX	500
#define ORDERS_PAGE_DEFAULT 20
#define ORDERS_PAGE_MAX		100

/* Who changes an order's status */
typedef enum OrderActor
{
	ACTOR_OWNER = 1 << 0,	/* the customer who placed it */
	ACTOR_MANAGER = 1 << 1, /* a manager of its store, or an admin */
	ACTOR_PAYMENT = 1 << 2, /* the payment provider's webhook */
	ACTOR_SYSTEM = 1 << 3	/* the expiry job */
} OrderActor;

/* An order's row, locked for a change */
typedef struct OrderRow
{
	pg_uuid_t id;
	char	 *store_id;
	pg_uuid_t user_id;
	char	 *status;
	char	 *delivery_type;
	bool	  has_reservation;
	pg_uuid_t reservation_id;
	char	 *total; /* money as text */
	char	 *currency;
	bool	  overdue; /* pending and past its payment deadline */
} OrderRow;

/* Locks an order's row, inside SPI; false when there is none */
extern bool OrderLock(pg_uuid_t id, OrderRow *row);

/*
 * OrderTransition moves a locked order to status "to" for an actor: checks
 * the state machine (invalid_transition naming the current status), does
 * what the change means for stock (consume, release, restock), and writes
 * the history row.
 */
extern void OrderTransition(OrderRow *row, const char *to, OrderActor actor, pg_uuid_t *actor_id,
							const char *note);

/* Writes the member "order":{...} with items and history */
extern void OrderWrite(JsonWriter *w, pg_uuid_t id);

/* May the caller see this order: its owner, a manager of its store, an admin */
extern bool OrderVisibleTo(const MsCaller *caller, pg_uuid_t owner, const char *store_id);

/* The expiry job: unpaid orders past their deadline; returns how many */
extern int64 OrdersExpire(void);

#endif /* MULTISTORE_ORDERS_H */
