-- pg_cron: the jobs are scheduled once however often asked, the sweeps run
-- within about a minute and expire an overdue hold and an unpaid order,
-- and they can be removed.  Commits its fixtures (ids t_cron*) and removes them.
\ir helpers.psql
SELECT plan(13);

SELECT has_schema('cron', 'pg_cron is installed in this database');
SELECT is((SELECT array_agg(j->>'name' || ' ' || (j->>'schedule') ORDER BY j->>'name')
             FROM jsonb_array_elements((multistore.jobs_schedule()::jsonb)->'jobs') j),
          ARRAY['multistore-expire-orders * * * * *', 'multistore-expire-reservations * * * * *',
                'multistore-purge 17 * * * *', 'multistore-purge-events */10 * * * *'],
          'jobs_schedule schedules the expiry sweeps every minute, the purge hourly, the events purge every 10 minutes');
SELECT is((multistore.jobs_schedule()::jsonb)->'jobs'->1->>'schedule', '* * * * *', 'calling it twice is safe');
SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname LIKE 'multistore-%' AND database = current_database()),
          4, 'four jobs, not eight');
SELECT matches(multistore.jobs_schedule_sql(), 'cron\.schedule_in_database\(''multistore-expire-reservations'', ''\* \* \* \* \*'', ''SELECT multistore\.reservations_expire\(\)'', ''' || current_database() || '''\)',
               'jobs_schedule_sql gives the statement for pg_cron''s database');

-- an overdue hold for the job to find
SELECT pg_temp.add_store('t_cron', -62, 0);
SELECT pg_temp.add_product('t_cron_p');
CREATE TEMP TABLE sess AS SELECT pg_temp.session_for('admin') AS admin;
SELECT multistore.inventory_set(admin, 't_cron', 't_cron_p', '{"onHand":3}') FROM sess;
CREATE TEMP TABLE r AS
SELECT (multistore.reservation_create(admin, 't_cron', '{"items":[{"productId":"t_cron_p","quantity":2}],"ttlSeconds":1}')::jsonb
        ->'reservation'->>'id')::uuid AS id FROM sess;
-- and an order whose payment deadline is a second away
CREATE TEMP TABLE buyer AS SELECT pg_temp.session_for('customer') AS sid;
SELECT multistore.cart_add_item(sid, '{"productId":"t_cron_p","quantity":1}') FROM buyer;
SET multistore.reservation_ttl = 1;
CREATE TEMP TABLE o AS
SELECT (p.body->'order'->>'id')::uuid AS id, p.status
  FROM buyer, multistore.order_place(buyer.sid, 't_cron_key', '{"storeId":"t_cron","deliveryType":"pickup"}') p;
RESET multistore.reservation_ttl;
CREATE TEMP TABLE started AS SELECT clock_timestamp() AS at;

-- waits (at most 90 s) for the job to write the reservation down
CREATE FUNCTION pg_temp.wait_for_sweep() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..90 LOOP
		IF (SELECT status FROM multistore.reservations WHERE id = (SELECT id FROM r)) = 'expired' THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(1);
	END LOOP;
	RETURN false;
END $$;
SELECT ok(pg_temp.wait_for_sweep(), 'the scheduled sweep expired the overdue reservation');

-- waits (at most 90 s) for the order job to write the order down
CREATE FUNCTION pg_temp.wait_for_order_expiry() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..90 LOOP
		IF (SELECT status FROM multistore.orders WHERE id = (SELECT id FROM o)) = 'expired' THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(1);
	END LOOP;
	RETURN false;
END $$;
SELECT is((SELECT status FROM o), 201, 'the order was placed');
SELECT ok(pg_temp.wait_for_order_expiry(), 'the scheduled job expired the unpaid order');
SELECT is((SELECT array_agg(to_status || ' by ' || actor ORDER BY seq) FROM multistore.order_status_history
            WHERE order_id = (SELECT id FROM o)),
          ARRAY['pending_payment by customer', 'expired by system'], 'its history says so');
-- readers see both holds gone at once; the held figures are written down by
-- the sweep, which skips a bucket another job has locked at that moment and
-- takes it on its next run (here: called once more, as the next minute would)
SELECT is((multistore.store_availability('t_cron', '{t_cron_p}')->'products'->0->>'available')::int, 3,
          'and both returned their stock: all 3 are available');
SELECT multistore.reservations_expire();
SELECT is((SELECT sum(held)::int FROM multistore.inventory WHERE store_id = 't_cron'), 0,
          'and after the next sweep at the latest nothing is held');
SELECT ok(EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                   WHERE j.jobname = 'multistore-expire-reservations' AND d.status = 'succeeded'
                     AND d.start_time >= (SELECT at FROM started)),
          'pg_cron recorded a successful run');

SELECT is(multistore.jobs_unschedule(), 4::bigint, 'jobs_unschedule removes the jobs');

DELETE FROM multistore.orders WHERE store_id = 't_cron';
DELETE FROM multistore.reservations WHERE store_id = 't_cron';
DELETE FROM multistore.carts WHERE user_id IN (SELECT user_id FROM multistore.sessions WHERE id = (SELECT sid FROM buyer));
DELETE FROM multistore.stores WHERE id = 't_cron';
DELETE FROM multistore.products WHERE id = 't_cron_p';
DELETE FROM multistore.users WHERE id IN (SELECT user_id FROM multistore.sessions
                                           WHERE id IN ((SELECT admin FROM sess), (SELECT sid FROM buyer)));
SELECT * FROM finish();
