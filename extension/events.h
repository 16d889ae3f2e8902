/*-------------------------------------------------------------------------
 *
 * events.h
 *	  The event log: one row per change that matters, announced at commit.
 *
 * EventsEmit writes the row and NOTIFYs its id on EVENTS_CHANNEL inside the
 * caller's transaction: PostgreSQL delivers a notification only when the
 * transaction commits, and drops it with a rolled-back (sub)transaction, so
 * listeners hear of committed changes only, in commit order.  The payload
 * is the id alone (NOTIFY carries at most 8,000 bytes); readers fetch the
 * row.
 *
 * Except inventory.changed, unless multistore.notify_stock_events is on.
 * A transaction that NOTIFYs takes one database-wide lock from its
 * pre-commit until its commit record is flushed, so notifying commits run
 * one at a time.  Every reservation changes stock: with synchronous_commit
 * on, 32 sessions updating random rows committed 10,080 a second without
 * NOTIFY and 3,250 with one (BENCHMARKS.md), and the hot product fell
 * from 2,360-2,710 reservations a second to 340-1,320.  A listener reads
 * the log anyway to catch up; it reads it every few milliseconds (the
 * proxy: REALTIME_POLL_INTERVAL_MS, 5), which is how stock events reach
 * it by default, committed ones only like the rest.  A database whose
 * stock changes are few can turn the setting on and have them pushed too.
 * Order, session and access events are rarer and someone waits for
 * them: they always NOTIFY.
 *
 * Emitting is C called where the change happens, not a trigger: the
 * rules that decide what happened (a transition, a hold, a revocation) are
 * C, and a trigger on inventory would fire once per bucket row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_EVENTS_H
#define MULTISTORE_EVENTS_H

#include "utils/uuid.h"

#define EVENTS_CHANNEL		   "multistore_events"
#define EVENTS_KEEP_HOURS	   24
#define EVENTS_TICKET_TTL	   30 /* seconds a realtime ticket is valid */
#define EVENTS_SINCE_MAX	   1000
#define EVENTS_SINCE_DEFAULT   500
#define EVENTS_MAX_STORES	   100 /* stores one stream may watch */
#define EVENTS_TICKET_KEEP_MIN 60  /* minutes used and expired tickets are kept */

/* multistore.notify_stock_events: inventory.changed NOTIFYs too (off) */
extern bool multistore_notify_stock_events;

extern void EventsInit(void);

/*
 * EventsEmit writes an event of type for store_id (may be NULL) and user_id
 * (may be NULL) with payload (a JSON object's text), and NOTIFYs its id
 * (stock events: when multistore.notify_stock_events is on).
 * Inside SPI.
 */
extern void EventsEmit(const char *type, const char *store_id, const pg_uuid_t *user_id, const char *payload);

/* inventory.changed for one product at one store: "available" is read when the event is */
extern void EventsInventoryChanged(const char *store_id, const char *product_id);

#endif /* MULTISTORE_EVENTS_H */
