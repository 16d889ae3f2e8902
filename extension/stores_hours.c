/*-------------------------------------------------------------------------
 *
 * stores_hours.c
 *	  Opening hours: parsing, validation, rendering, and "is it open now"
 *	  in the store's own time zone, overnight ranges and exceptions included.
 *
 * A day's schedule is a list of ranges in minutes after that day's local
 * midnight.  A range may end after midnight (close > 1440), so the instant
 * (date D, minute m) is open when a range of D covers m or a range of D - 1
 * covers m + 1440.  The schedule of D is its dated exception when there is
 * one, else the weekly hours of D's weekday.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "utils/builtins.h"
#include "utils/datetime.h"

#include "jsonb_read.h"
#include "stores_hours.h"

static const char *const day_names[7] = {"monday", "tuesday",  "wednesday", "thursday",
										 "friday", "saturday", "sunday"};

/* "HH:MM" to minutes; "24:00" only when allow_24 */
static bool
ParseClock(const char *text, int len, bool allow_24, int *minutes)
{
	int h, m;

	if (len != 5 || text[2] != ':' || !isdigit((unsigned char) text[0]) ||
		!isdigit((unsigned char) text[1]) || !isdigit((unsigned char) text[3]) ||
		!isdigit((unsigned char) text[4]))
		return false;
	h = (text[0] - '0') * 10 + (text[1] - '0');
	m = (text[3] - '0') * 10 + (text[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (!allow_24 || m != 0)))
		return false;
	*minutes = h * 60 + m;
	return true;
}

/* A date as YYYY-MM-DD whatever the session's DateStyle */
static void
FormatDate(DateADT date, char *buf, size_t size)
{
	int y, m, d;

	j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

/* Parses one day's list of {opens, closes}; path names the list */
static void
ParseDay(JsonbContainer *list, const char *path, HoursDay *day, MsValidation *v)
{
	JsonbIterator	  *it;
	JsonbValue		   elem;
	JsonbIteratorToken tok;
	int				   i = 0;

	day->nranges = 0;
	if (!JsonContainerIsArray(list))
	{
		MsValidationAdd(v, path, "must be a list of {\"opens\":\"HH:MM\",\"closes\":\"HH:MM\"}");
		return;
	}

	it = JsonbIteratorInit(list);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		char					*item_path;
		JsonbValue				 opens, closes;
		static const char *const allowed[] = {"opens", "closes", NULL};
		int						 open_min, close_min;
		int						 errors_before = v->count;

		if (tok != WJB_ELEM)
			continue;
		item_path = psprintf("%s[%d]", path, i++);
		if (day->nranges == HOURS_MAX_RANGES)
		{
			MsValidationAdd(v, path, "may hold at most %d ranges", HOURS_MAX_RANGES);
			return;
		}
		if (elem.type != jbvBinary || !JsonContainerIsObject(elem.val.binary.data))
		{
			MsValidationAdd(v, item_path, "must be an object {\"opens\":\"HH:MM\",\"closes\":\"HH:MM\"}");
			continue;
		}
		JrRejectUnknown(v, elem.val.binary.data, item_path, allowed);
		if (!JrGet(elem.val.binary.data, "opens", &opens) || opens.type != jbvString ||
			!ParseClock(opens.val.string.val, opens.val.string.len, false, &open_min))
			MsValidationAdd(v, psprintf("%s.opens", item_path),
							"must be a time \"HH:MM\" from 00:00 to 23:59");
		if (!JrGet(elem.val.binary.data, "closes", &closes) || closes.type != jbvString ||
			!ParseClock(closes.val.string.val, closes.val.string.len, true, &close_min))
			MsValidationAdd(v, psprintf("%s.closes", item_path),
							"must be a time \"HH:MM\" from 00:00 to 24:00");
		if (v->count > errors_before)
			continue;

		if (close_min == open_min)
		{
			MsValidationAdd(v, psprintf("%s.closes", item_path),
							"must differ from opens (use 00:00 to 24:00 for a whole day)");
			continue;
		}
		if (close_min < open_min)
			close_min += HOURS_MINUTES_PER_DAY; /* runs past midnight */
		if (day->nranges > 0 && open_min < day->ranges[day->nranges - 1].close)
		{
			MsValidationAdd(v, item_path, "must start after the previous range ends");
			continue;
		}
		day->ranges[day->nranges].open = open_min;
		day->ranges[day->nranges].close = close_min;
		day->nranges++;
	}
}

/* Orders exceptions by date for binary search */
static int
CompareExceptions(const void *a, const void *b)
{
	DateADT da = ((const HoursException *) a)->date;
	DateADT db = ((const HoursException *) b)->date;

	return (da > db) - (da < db);
}

/* "YYYY-MM-DD" to a date, strictly */
static bool
ParseDate(const char *text, int len, DateADT *out)
{
	int	 y, m, d;
	char buf[11];

	if (len != 10)
		return false;
	memcpy(buf, text, 10);
	buf[10] = '\0';
	if (sscanf(buf, "%4d-%2d-%2d", &y, &m, &d) != 3 || buf[4] != '-' || buf[7] != '-' || y < 2000 ||
		y > 2200 || m < 1 || m > 12 || d < 1 || d > day_tab[isleap(y)][m - 1])
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char) buf[i]))
			return false;
	*out = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	return true;
}

void
HoursParse(JsonbContainer *weekly, JsonbContainer *exceptions, StoreHours *out, MsValidation *v)
{
	memset(out, 0, sizeof(*out));

	if (weekly != NULL)
	{
		JsonbValue day;

		if (!JsonContainerIsObject(weekly))
			MsValidationAdd(v, "openingHours",
							"must be an object keyed by weekday (\"monday\" ... \"sunday\")");
		else
		{
			static const char *const allowed[] = {"monday", "tuesday",	"wednesday", "thursday",
												  "friday", "saturday", "sunday",	 NULL};

			JrRejectUnknown(v, weekly, "openingHours", allowed);
			for (int d = 0; d < 7; d++)
			{
				char *path = psprintf("openingHours.%s", day_names[d]);

				if (!JrGet(weekly, day_names[d], &day) || day.type == jbvNull)
					continue;
				if (day.type != jbvBinary)
					MsValidationAdd(v, path, "must be a list of ranges");
				else
					ParseDay(day.val.binary.data, path, &out->week[d], v);
			}
		}
	}

	if (exceptions != NULL)
	{
		if (!JsonContainerIsObject(exceptions))
			MsValidationAdd(v, "hoursExceptions", "must be an object keyed by date (\"YYYY-MM-DD\")");
		else
		{
			JsonbIterator	  *it = JsonbIteratorInit(exceptions);
			JsonbValue		   key, val;
			JsonbIteratorToken tok;
			int				   n = JsonContainerSize(exceptions);

			if (n > HOURS_MAX_EXCEPTIONS)
				MsValidationAdd(v, "hoursExceptions", "may hold at most %d dates", HOURS_MAX_EXCEPTIONS);
			else
			{
				out->exceptions = palloc0(sizeof(HoursException) * Max(n, 1));
				while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
				{
					char		   *path;
					HoursException *e;

					if (tok != WJB_KEY)
						continue;
					tok = JsonbIteratorNext(&it, &val, true);
					Assert(tok == WJB_VALUE);
					/* at most 32 bytes of the key, cut on a character boundary */
					path = psprintf("hoursExceptions.%.*s",
									pg_mbcliplen(key.val.string.val, key.val.string.len, 32),
									key.val.string.val);
					e = &out->exceptions[out->nexceptions];
					if (!ParseDate(key.val.string.val, key.val.string.len, &e->date))
					{
						MsValidationAdd(v, path, "must be keyed by a date \"YYYY-MM-DD\"");
						continue;
					}
					if (val.type != jbvBinary)
					{
						MsValidationAdd(v, path, "must be a list of ranges ([] when closed)");
						continue;
					}
					ParseDay(val.val.binary.data, path, &e->day, v);
					out->nexceptions++;
				}
				qsort(out->exceptions, out->nexceptions, sizeof(HoursException), CompareExceptions);
			}
		}
	}
}

static void
WriteClock(JsonWriter *w, const char *key, int minutes)
{
	char buf[8];

	if (minutes > HOURS_MINUTES_PER_DAY)
		minutes -= HOURS_MINUTES_PER_DAY;
	snprintf(buf, sizeof(buf), "%02d:%02d", minutes / 60, minutes % 60);
	JwString(w, key, buf);
}

static void
WriteDay(JsonWriter *w, const char *key, const HoursDay *day)
{
	JwArrayStart(w, key);
	for (int i = 0; i < day->nranges; i++)
	{
		JwObjectStart(w, NULL);
		WriteClock(w, "opens", day->ranges[i].open);
		WriteClock(w, "closes", day->ranges[i].close);
		JwObjectEnd(w);
	}
	JwArrayEnd(w);
}

void
HoursWrite(JsonWriter *w, const StoreHours *hours)
{
	JwObjectStart(w, "openingHours");
	for (int d = 0; d < 7; d++)
		WriteDay(w, day_names[d], &hours->week[d]);
	JwObjectEnd(w);

	JwObjectStart(w, "hoursExceptions");
	for (int i = 0; i < hours->nexceptions; i++)
	{
		char date[16];

		FormatDate(hours->exceptions[i].date, date, sizeof(date));
		WriteDay(w, date, &hours->exceptions[i].day);
	}
	JwObjectEnd(w);
}

/*
 * HoursTimeZone accepts IANA zone names ("America/New_York", "UTC"), not the
 * POSIX rule strings pg_tzset also understands ("EST5EDT,M3.2.0"), which
 * would let a typo pass as a fixed offset.
 */
pg_tz *
HoursTimeZone(const char *name)
{
	pg_tz *tz;
	size_t len = strlen(name);

	if (len == 0 || len > 64)
		return NULL;
	for (const char *p = name; *p; p++)
	{
		if (!isalnum((unsigned char) *p) && strchr("/_+-", *p) == NULL)
			return NULL;
	}
	if (strchr(name, '/') == NULL && strcmp(name, "UTC") != 0 && strcmp(name, "GMT") != 0)
		return NULL;
	tz = pg_tzset(name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		return NULL;
	return tz;
}

/* The schedule of a local date: its exception, else its weekday's hours */
static const HoursDay *
DaySchedule(const StoreHours *hours, DateADT date)
{
	int lo = 0, hi = hours->nexceptions - 1;

	while (lo <= hi)
	{
		int		mid = (lo + hi) / 2;
		DateADT d = hours->exceptions[mid].date;

		if (d == date)
			return &hours->exceptions[mid].day;
		if (d < date)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	/* j2day: 0 = Sunday; our week starts on Monday */
	return &hours->week[(j2day(date + POSTGRES_EPOCH_JDATE) + 6) % 7];
}

/* The local calendar date and minute of the day of an instant */
static void
LocalClock(pg_tz *tz, TimestampTz at, DateADT *date, int *minute)
{
	struct pg_tm tm;
	fsec_t		 fsec;
	int			 tzoff;

	if (timestamp2tm(at, &tzoff, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	*date = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
	*minute = tm.tm_hour * 60 + tm.tm_min;
}

/* Open at minute of a day, given that day's schedule and the day before's? */
static bool
OpenAt(const HoursDay *today, const HoursDay *yesterday, int minute)
{
	for (int i = 0; i < today->nranges; i++)
		if (today->ranges[i].open <= minute && minute < today->ranges[i].close)
			return true;
	for (int i = 0; i < yesterday->nranges; i++)
		if (minute + HOURS_MINUTES_PER_DAY < yesterday->ranges[i].close)
			return true;
	return false;
}

bool
HoursIsOpen(const StoreHours *hours, pg_tz *tz, TimestampTz at)
{
	DateADT date;
	int		minute;

	LocalClock(tz, at, &date, &minute);
	return OpenAt(DaySchedule(hours, date), DaySchedule(hours, date - 1), minute);
}

/* One day's schedule straight from the stored jsonb: its exception, else its weekday */
static void
StoredDay(JsonbContainer *weekly, JsonbContainer *exceptions, DateADT date, HoursDay *day)
{
	JsonbValue	 list;
	MsValidation ignored;
	bool		 found = false;

	day->nranges = 0;
	if (JsonContainerSize(exceptions) > 0)
	{
		char key[16];

		FormatDate(date, key, sizeof(key));
		found = JrGet(exceptions, key, &list);
	}
	if (!found)
		found = JrGet(weekly, day_names[(j2day(date + POSTGRES_EPOCH_JDATE) + 6) % 7], &list);
	if (!found || list.type != jbvBinary)
		return;
	MsValidationInit(&ignored);
	ParseDay(list.val.binary.data, "", day, &ignored);
}

bool
HoursIsOpenStored(JsonbContainer *weekly, JsonbContainer *exceptions, pg_tz *tz, TimestampTz at)
{
	DateADT	 date;
	int		 minute;
	HoursDay today, yesterday;

	LocalClock(tz, at, &date, &minute);
	StoredDay(weekly, exceptions, date, &today);
	StoredDay(weekly, exceptions, date - 1, &yesterday);
	return OpenAt(&today, &yesterday, minute);
}

/* A local date and minute as an instant, DST rules of the zone applied */
static TimestampTz
LocalInstant(pg_tz *tz, DateADT date, int minute)
{
	struct pg_tm tm;
	int			 tzoff;
	TimestampTz	 result;

	memset(&tm, 0, sizeof(tm));
	j2date(date + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = minute / 60;
	tm.tm_min = minute % 60;
	tzoff = DetermineTimeZoneOffset(&tm, tz);
	if (tm2timestamp(&tm, 0, &tzoff, &result) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return result;
}

bool
HoursNextOpening(const StoreHours *hours, pg_tz *tz, TimestampTz at, TimestampTz *opens_at)
{
	DateADT date;
	int		minute;

	if (HoursIsOpen(hours, tz, at))
		return false;
	LocalClock(tz, at, &date, &minute);

	/* a year and a week covers any run of closed exception dates */
	for (int d = 0; d <= 372; d++)
	{
		const HoursDay *day = DaySchedule(hours, date + d);

		for (int i = 0; i < day->nranges; i++)
		{
			if (d == 0 && day->ranges[i].open <= minute)
				continue;
			*opens_at = LocalInstant(tz, date + d, day->ranges[i].open);
			return true;
		}
	}
	return false;
}
