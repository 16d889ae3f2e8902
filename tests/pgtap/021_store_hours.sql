-- Open or closed, and when next open, in the store's own time zone:
-- ranges past midnight, dated exceptions, DST, other zones.
\ir helpers.psql
BEGIN;
SELECT plan(20);

-- New York: weekdays 09-17, Saturday 22:00 to 02:00, Sunday closed;
-- Christmas Eve 10-12 only, Christmas Day closed.
SELECT pg_temp.add_store('t_ny', 40.7, -74.0, 'America/New_York',
  '{"monday":[{"opens":"09:00","closes":"17:00"}],"tuesday":[{"opens":"09:00","closes":"17:00"}],"wednesday":[{"opens":"09:00","closes":"17:00"}],"thursday":[{"opens":"09:00","closes":"17:00"}],"friday":[{"opens":"09:00","closes":"17:00"}],"saturday":[{"opens":"22:00","closes":"02:00"}]}',
  '{"2026-12-24":[{"opens":"10:00","closes":"12:00"}],"2026-12-25":[]}');
SELECT pg_temp.add_store('t_dst', 40.7, -74.0, 'America/New_York', pg_temp.every_day('01:00', '04:00'));
SELECT pg_temp.add_store('t_kolkata', 22.57, 88.36, 'Asia/Kolkata', pg_temp.every_day('09:00', '21:00'));

CREATE FUNCTION pg_temp.open_at(store text, at timestamptz) RETURNS boolean LANGUAGE sql AS
$$ SELECT (multistore.store_availability(store, '{}', at)->>'isOpen')::boolean $$;
CREATE FUNCTION pg_temp.next_at(store text, at timestamptz) RETURNS text LANGUAGE sql AS
$$ SELECT multistore.store_availability(store, '{}', at)->>'nextOpensAt' $$;

-- Monday 2026-11-23, New York is UTC-5
SELECT is(pg_temp.open_at('t_ny', '2026-11-23 14:00Z'), true, 'open at 09:00 sharp');
SELECT is(pg_temp.open_at('t_ny', '2026-11-23 13:59Z'), false, 'closed at 08:59');
SELECT is(pg_temp.next_at('t_ny', '2026-11-23 13:59Z'), '2026-11-23T14:00:00.000Z', 'and opens at 09:00 local, in UTC');
SELECT is(pg_temp.open_at('t_ny', '2026-11-23 22:00Z'), false, 'closed at 17:00 sharp (closing time is exclusive)');
SELECT is(pg_temp.next_at('t_ny', '2026-11-23 22:00Z'), '2026-11-24T14:00:00.000Z', 'next opening is Tuesday 09:00');
SELECT is(pg_temp.next_at('t_ny', '2026-11-23 15:00Z'), NULL, 'no next opening while open');
-- Saturday night into Sunday
SELECT is(pg_temp.open_at('t_ny', '2026-11-29 04:30Z'), true, 'open Saturday 23:30 in a range past midnight');
SELECT is(pg_temp.open_at('t_ny', '2026-11-29 06:59Z'), true, 'still open Sunday 01:59 from Saturday''s range');
SELECT is(pg_temp.open_at('t_ny', '2026-11-29 07:00Z'), false, 'closed Sunday 02:00');
SELECT is(pg_temp.next_at('t_ny', '2026-11-29 07:00Z'), '2026-11-30T14:00:00.000Z', 'closed all Sunday, opens Monday 09:00');
-- exceptions
SELECT is(pg_temp.open_at('t_ny', '2026-12-24 16:00Z'), true, 'Christmas Eve 11:00: open by its exception');
SELECT is(pg_temp.open_at('t_ny', '2026-12-24 18:00Z'), false, 'Christmas Eve 13:00: closed by its exception');
SELECT is(pg_temp.open_at('t_ny', '2026-12-25 17:00Z'), false, 'Christmas Day: closed');
SELECT is(pg_temp.next_at('t_ny', '2026-12-24 18:00Z'), '2026-12-27T03:00:00.000Z',
          'next opening skips the closed day: Saturday 22:00');
-- DST: clocks go from 02:00 EST to 03:00 EDT on 2027-03-14
SELECT is(pg_temp.open_at('t_dst', '2027-03-14 06:30Z'), true, '01:30 EST on the DST day');
SELECT is(pg_temp.open_at('t_dst', '2027-03-14 07:30Z'), true, '03:30 EDT on the DST day');
-- a half-hour zone
SELECT is(pg_temp.open_at('t_kolkata', '2026-11-23 03:30Z'), true, 'Kolkata (UTC+05:30) opens at 09:00 local');

-- the session's DateStyle never changes the date keys of exceptions
SET LOCAL DateStyle = 'SQL, DMY';
SELECT is(pg_temp.open_at('t_ny', '2026-12-24 18:00Z'), false, 'exceptions apply whatever the DateStyle');
SELECT ok((multistore.store_get('t_ny')->'store'->'hoursExceptions')::jsonb ? '2026-12-25', 'and are shown as YYYY-MM-DD');
RESET DateStyle;

-- the nearby list reads only two days of hours; it must agree with the full reading
SELECT is((SELECT count(*)::int FROM multistore.stores s,
                  json_array_elements(multistore.stores_nearby(ST_Y(s.location::geometry), ST_X(s.location::geometry), 0.001, 1)->'stores') n
            WHERE s.id LIKE 'store\_%'
              AND (n->>'isOpen')::boolean IS DISTINCT FROM (multistore.store_availability(s.id)->>'isOpen')::boolean),
          0, 'isOpen in nearby agrees with availability for every sample store');

SELECT * FROM finish();
ROLLBACK;
