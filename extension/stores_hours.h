/*-------------------------------------------------------------------------
 *
 * stores_hours.h
 *	  Weekly opening hours with date exceptions, evaluated in the store's
 *	  own time zone.
 *
 * JSON form, as clients send and receive it:
 *	  openingHours:    {"monday":[{"opens":"08:00","closes":"22:00"}], ...}
 *	  hoursExceptions: {"2026-12-25":[], "2026-12-24":[{"opens":"08:00","closes":"14:00"}]}
 * A missing day or an empty list is closed.  "closes" at or before "opens"
 * means the range runs past midnight into the next day ("22:00" to "02:00");
 * "00:00" to "24:00" is a whole day.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MULTISTORE_STORES_HOURS_H
#define MULTISTORE_STORES_HOURS_H

#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/date.h"
#include "utils/jsonb.h"

#include "errors.h"
#include "json_build.h"

#define HOURS_MAX_RANGES	  4	  /* ranges in one day */
#define HOURS_MAX_EXCEPTIONS  400 /* dated exceptions per store */
#define HOURS_MINUTES_PER_DAY 1440

typedef struct HoursRange
{
	int open;  /* minutes after the day's local midnight */
	int close; /* > open; above 1440 when it runs overnight */
} HoursRange;

typedef struct HoursDay
{
	int		   nranges;
	HoursRange ranges[HOURS_MAX_RANGES]; /* sorted, not overlapping */
} HoursDay;

typedef struct HoursException
{
	DateADT	 date; /* local calendar date */
	HoursDay day;
} HoursException;

typedef struct StoreHours
{
	HoursDay		week[7]; /* 0 = Monday ... 6 = Sunday */
	int				nexceptions;
	HoursException *exceptions; /* sorted by date */
} StoreHours;

/*
 * Parse and validate both JSON forms (either may be NULL: none given).
 * Problems go into v under the field names "openingHours..." and
 * "hoursExceptions...".
 */
extern void HoursParse(JsonbContainer *weekly, JsonbContainer *exceptions, StoreHours *out, MsValidation *v);

/* Writes the members "openingHours" and "hoursExceptions" */
extern void HoursWrite(JsonWriter *w, const StoreHours *hours);

/* A time zone from an IANA name, or NULL when there is no such zone */
extern pg_tz *HoursTimeZone(const char *name);

/* Is the store open at the instant "at"? */
extern bool HoursIsOpen(const StoreHours *hours, pg_tz *tz, TimestampTz at);

/*
 * The same from the stored jsonb, reading only the two days that matter
 * (today and yesterday, exceptions first): for lists of many stores.
 */
extern bool HoursIsOpenStored(JsonbContainer *weekly, JsonbContainer *exceptions, pg_tz *tz, TimestampTz at);

/*
 * When does the store next open after "at", if it is closed at "at"?
 * Returns false when it is open at "at" or never opens in the next year.
 */
extern bool HoursNextOpening(const StoreHours *hours, pg_tz *tz, TimestampTz at, TimestampTz *opens_at);

#endif /* MULTISTORE_STORES_HOURS_H */
