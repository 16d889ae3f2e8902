-- Sample data for development and the end-to-end tests (make seed, and
-- make run on a fresh cluster).  Idempotent: existing rows are left alone.
-- Stores: 60 in four metro areas (New York, San Francisco Bay, Chicago,
-- Los Angeles) at real coordinates; store_1 (Times Square) is open around
-- the clock, store_3 (Grand Central) overnight, store_4 takes no orders.
-- Products: prod_1 .. prod_120.  Stock: every product at every store.
-- Accounts: admin@, manager@ (of store_1 and store_2), customer@example.com.

SET client_min_messages = warning;

WITH hours(kind, weekly) AS (
  VALUES
    ('regular', '{"monday":[{"opens":"08:00","closes":"22:00"}],"tuesday":[{"opens":"08:00","closes":"22:00"}],"wednesday":[{"opens":"08:00","closes":"22:00"}],"thursday":[{"opens":"08:00","closes":"22:00"}],"friday":[{"opens":"08:00","closes":"23:00"}],"saturday":[{"opens":"08:00","closes":"23:00"}],"sunday":[{"opens":"09:00","closes":"21:00"}]}'::jsonb),
    ('always', '{"monday":[{"opens":"00:00","closes":"24:00"}],"tuesday":[{"opens":"00:00","closes":"24:00"}],"wednesday":[{"opens":"00:00","closes":"24:00"}],"thursday":[{"opens":"00:00","closes":"24:00"}],"friday":[{"opens":"00:00","closes":"24:00"}],"saturday":[{"opens":"00:00","closes":"24:00"}],"sunday":[{"opens":"00:00","closes":"24:00"}]}'::jsonb),
    ('overnight', '{"monday":[{"opens":"18:00","closes":"06:00"}],"tuesday":[{"opens":"18:00","closes":"06:00"}],"wednesday":[{"opens":"18:00","closes":"06:00"}],"thursday":[{"opens":"18:00","closes":"06:00"}],"friday":[{"opens":"18:00","closes":"06:00"}],"saturday":[{"opens":"18:00","closes":"06:00"}],"sunday":[{"opens":"18:00","closes":"06:00"}]}'::jsonb),
    ('split', '{"monday":[{"opens":"07:00","closes":"12:00"},{"opens":"14:00","closes":"20:00"}],"tuesday":[{"opens":"07:00","closes":"12:00"},{"opens":"14:00","closes":"20:00"}],"wednesday":[{"opens":"07:00","closes":"12:00"},{"opens":"14:00","closes":"20:00"}],"thursday":[{"opens":"07:00","closes":"12:00"},{"opens":"14:00","closes":"20:00"}],"friday":[{"opens":"07:00","closes":"12:00"},{"opens":"14:00","closes":"20:00"}],"saturday":[{"opens":"09:00","closes":"17:00"}]}'::jsonb)
),
s(n, name, address, lat, lon, tz, kind, accepting, radius) AS (
  VALUES
    -- New York
    (1, 'Times Square', '1540 Broadway, New York, NY 10036', 40.7580, -73.9855, 'America/New_York', 'always', true, 8),
    (2, 'Herald Square', '151 W 34th St, New York, NY 10001', 40.7506, -73.9880, 'America/New_York', 'regular', true, 6),
    (3, 'Grand Central Night Market', '89 E 42nd St, New York, NY 10017', 40.7527, -73.9772, 'America/New_York', 'overnight', true, 5),
    (4, 'Columbus Circle', '10 Columbus Cir, New York, NY 10019', 40.7681, -73.9819, 'America/New_York', 'regular', false, 5),
    (5, 'Union Square', '33 Union Sq W, New York, NY 10003', 40.7359, -73.9911, 'America/New_York', 'regular', true, 5),
    (6, 'Chelsea Market', '75 9th Ave, New York, NY 10011', 40.7424, -74.0061, 'America/New_York', 'regular', true, 5),
    (7, 'Washington Square', '70 Washington Sq S, New York, NY 10012', 40.7308, -73.9973, 'America/New_York', 'split', true, 4),
    (8, 'SoHo', '535 Broadway, New York, NY 10012', 40.7233, -74.0030, 'America/New_York', 'regular', true, 4),
    (9, 'Wall Street', '60 Wall St, New York, NY 10005', 40.7060, -74.0088, 'America/New_York', 'regular', true, 4),
    (10, 'Upper East Side', '150 E 86th St, New York, NY 10028', 40.7794, -73.9554, 'America/New_York', 'regular', true, 5),
    (11, 'Upper West Side', '2109 Broadway, New York, NY 10023', 40.7784, -73.9817, 'America/New_York', 'regular', true, 5),
    (12, 'Harlem', '125 W 125th St, New York, NY 10027', 40.8090, -73.9482, 'America/New_York', 'regular', true, 6),
    (13, 'Long Island City', '27-01 Queens Plaza N, Queens, NY 11101', 40.7447, -73.9485, 'America/New_York', 'regular', true, 6),
    (14, 'Williamsburg', '214 Bedford Ave, Brooklyn, NY 11249', 40.7081, -73.9571, 'America/New_York', 'regular', true, 6),
    (15, 'Downtown Brooklyn', '445 Albee Square W, Brooklyn, NY 11201', 40.6928, -73.9903, 'America/New_York', 'regular', true, 6),
    (16, 'Park Slope', '200 7th Ave, Brooklyn, NY 11215', 40.6710, -73.9814, 'America/New_York', 'split', true, 5),
    (17, 'Astoria', '31-01 Steinway St, Queens, NY 11103', 40.7644, -73.9235, 'America/New_York', 'regular', true, 6),
    (18, 'Jersey City Newport', '30 Mall Dr W, Jersey City, NJ 07310', 40.7270, -74.0340, 'America/New_York', 'regular', true, 7),
    (19, 'Hoboken', '101 Washington St, Hoboken, NJ 07030', 40.7440, -74.0324, 'America/New_York', 'regular', true, 5),
    (20, 'Flushing', '39-01 Main St, Queens, NY 11354', 40.7590, -73.8303, 'America/New_York', 'regular', true, 8),
    -- San Francisco Bay
    (21, 'Union Square SF', '170 O''Farrell St, San Francisco, CA 94102', 37.7880, -122.4075, 'America/Los_Angeles', 'regular', true, 5),
    (22, 'Ferry Building', '1 Ferry Building, San Francisco, CA 94111', 37.7955, -122.3937, 'America/Los_Angeles', 'regular', true, 5),
    (23, 'Mission District', '2480 Mission St, San Francisco, CA 94110', 37.7599, -122.4148, 'America/Los_Angeles', 'regular', true, 5),
    (24, 'Castro', '2275 Market St, San Francisco, CA 94114', 37.7609, -122.4350, 'America/Los_Angeles', 'split', true, 4),
    (25, 'Haight-Ashbury', '1500 Haight St, San Francisco, CA 94117', 37.7692, -122.4481, 'America/Los_Angeles', 'regular', true, 4),
    (26, 'Marina', '2055 Chestnut St, San Francisco, CA 94123', 37.8037, -122.4368, 'America/Los_Angeles', 'regular', true, 4),
    (27, 'North Beach', '1600 Stockton St, San Francisco, CA 94133', 37.8061, -122.4103, 'America/Los_Angeles', 'always', true, 4),
    (28, 'SoMa', '845 Market St, San Francisco, CA 94103', 37.7785, -122.4056, 'America/Los_Angeles', 'regular', true, 5),
    (29, 'Inner Richmond', '400 Clement St, San Francisco, CA 94118', 37.7829, -122.4654, 'America/Los_Angeles', 'regular', true, 5),
    (30, 'Inner Sunset', '800 Irving St, San Francisco, CA 94122', 37.7639, -122.4687, 'America/Los_Angeles', 'regular', true, 5),
    (31, 'Noe Valley', '3915 24th St, San Francisco, CA 94114', 37.7502, -122.4337, 'America/Los_Angeles', 'regular', true, 4),
    (32, 'Oakland Downtown', '1414 Broadway, Oakland, CA 94612', 37.8044, -122.2712, 'America/Los_Angeles', 'regular', true, 8),
    (33, 'Berkeley', '2150 Shattuck Ave, Berkeley, CA 94704', 37.8716, -122.2727, 'America/Los_Angeles', 'regular', true, 6),
    (34, 'Daly City', '1 Serramonte Center, Daly City, CA 94015', 37.6879, -122.4702, 'America/Los_Angeles', 'regular', true, 8),
    -- Chicago
    (35, 'The Loop', '111 N State St, Chicago, IL 60602', 41.8827, -87.6278, 'America/Chicago', 'regular', true, 5),
    (36, 'Magnificent Mile', '835 N Michigan Ave, Chicago, IL 60611', 41.8948, -87.6244, 'America/Chicago', 'always', true, 5),
    (37, 'River North', '10 W Hubbard St, Chicago, IL 60654', 41.8924, -87.6341, 'America/Chicago', 'regular', true, 5),
    (38, 'West Loop', '1000 W Randolph St, Chicago, IL 60607', 41.8837, -87.6476, 'America/Chicago', 'regular', true, 5),
    (39, 'Lincoln Park', '2000 N Clark St, Chicago, IL 60614', 41.9214, -87.6513, 'America/Chicago', 'regular', true, 5),
    (40, 'Wicker Park', '1600 N Milwaukee Ave, Chicago, IL 60647', 41.9088, -87.6796, 'America/Chicago', 'split', true, 5),
    (41, 'Lakeview', '3600 N Clark St, Chicago, IL 60613', 41.9484, -87.6553, 'America/Chicago', 'regular', true, 5),
    (42, 'Hyde Park', '1500 E 53rd St, Chicago, IL 60615', 41.7943, -87.5907, 'America/Chicago', 'regular', true, 6),
    (43, 'Logan Square', '2600 N Milwaukee Ave, Chicago, IL 60647', 41.9231, -87.7093, 'America/Chicago', 'regular', true, 5),
    (44, 'Pilsen', '1800 S Blue Island Ave, Chicago, IL 60608', 41.8564, -87.6562, 'America/Chicago', 'regular', true, 5),
    (45, 'Andersonville', '5300 N Clark St, Chicago, IL 60640', 41.9800, -87.6686, 'America/Chicago', 'regular', true, 5),
    (46, 'Evanston', '1700 Sherman Ave, Evanston, IL 60201', 42.0451, -87.6877, 'America/Chicago', 'regular', true, 7),
    (47, 'Oak Park', '1000 Lake St, Oak Park, IL 60301', 41.8850, -87.7845, 'America/Chicago', 'regular', true, 7),
    -- Los Angeles
    (48, 'Downtown LA', '700 W 7th St, Los Angeles, CA 90017', 34.0522, -118.2437, 'America/Los_Angeles', 'regular', true, 8),
    (49, 'Hollywood', '6801 Hollywood Blvd, Los Angeles, CA 90028', 34.1016, -118.3267, 'America/Los_Angeles', 'always', true, 8),
    (50, 'Santa Monica', '1315 3rd St Promenade, Santa Monica, CA 90401', 34.0195, -118.4912, 'America/Los_Angeles', 'regular', true, 7),
    (51, 'Venice', '1301 Abbot Kinney Blvd, Venice, CA 90291', 33.9850, -118.4695, 'America/Los_Angeles', 'regular', true, 6),
    (52, 'Silver Lake', '3900 Sunset Blvd, Los Angeles, CA 90029', 34.0869, -118.2702, 'America/Los_Angeles', 'split', true, 6),
    (53, 'Koreatown', '3500 Wilshire Blvd, Los Angeles, CA 90010', 34.0618, -118.3004, 'America/Los_Angeles', 'regular', true, 6),
    (54, 'Pasadena', '280 E Colorado Blvd, Pasadena, CA 91101', 34.1478, -118.1445, 'America/Los_Angeles', 'regular', true, 8),
    (55, 'Culver City', '9500 Culver Blvd, Culver City, CA 90232', 34.0211, -118.3965, 'America/Los_Angeles', 'regular', true, 6),
    (56, 'Burbank', '201 E Magnolia Blvd, Burbank, CA 91502', 34.1808, -118.3090, 'America/Los_Angeles', 'regular', true, 8),
    (57, 'Long Beach', '100 W Broadway, Long Beach, CA 90802', 33.7701, -118.1937, 'America/Los_Angeles', 'regular', true, 8),
    (58, 'West Hollywood', '8500 Santa Monica Blvd, West Hollywood, CA 90069', 34.0900, -118.3617, 'America/Los_Angeles', 'regular', true, 5),
    (59, 'Glendale', '100 W Broadway, Glendale, CA 91210', 34.1425, -118.2551, 'America/Los_Angeles', 'regular', true, 7),
    (60, 'Inglewood', '3650 W Century Blvd, Inglewood, CA 90303', 33.9617, -118.3531, 'America/Los_Angeles', 'regular', true, 7)
)
INSERT INTO multistore.stores (id, name, address, phone, location, time_zone, opening_hours,
                               hours_exceptions, delivery_radius_km, accepting_orders)
SELECT 'store_' || s.n, s.name, s.address, '+1-555-01' || lpad(s.n::text, 2, '0'),
       ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)::geography, s.tz, h.weekly,
       CASE WHEN s.kind = 'always' THEN '{}'::jsonb ELSE '{"2026-12-25":[],"2027-01-01":[{"opens":"12:00","closes":"18:00"}]}'::jsonb END,
       s.radius, s.accepting
  FROM s JOIN hours h ON h.kind = s.kind
ON CONFLICT (id) DO NOTHING;

-- 40 grocery lines in three sizes: prod_1 .. prod_120
WITH base(b, name, price, category) AS (
  VALUES
    (1, 'Organic Bananas', 0.79, 'produce'), (2, 'Hass Avocados', 1.49, 'produce'),
    (3, 'Honeycrisp Apples', 2.29, 'produce'), (4, 'Baby Spinach', 3.49, 'produce'),
    (5, 'Vine Tomatoes', 2.99, 'produce'), (6, 'Blueberries', 4.49, 'produce'),
    (7, 'Whole Milk', 3.29, 'dairy'), (8, 'Greek Yogurt', 1.29, 'dairy'),
    (9, 'Cheddar Cheese', 4.99, 'dairy'), (10, 'Salted Butter', 4.79, 'dairy'),
    (11, 'Free-Range Eggs', 4.29, 'dairy'), (12, 'Oat Milk', 3.99, 'dairy'),
    (13, 'Sourdough Loaf', 5.49, 'bakery'), (14, 'Butter Croissants', 3.99, 'bakery'),
    (15, 'Bagels', 4.49, 'bakery'), (16, 'Whole Wheat Bread', 3.79, 'bakery'),
    (17, 'Spaghetti', 1.79, 'pantry'), (18, 'Marinara Sauce', 3.49, 'pantry'),
    (19, 'Basmati Rice', 4.99, 'pantry'), (20, 'Black Beans', 1.19, 'pantry'),
    (21, 'Extra Virgin Olive Oil', 9.99, 'pantry'), (22, 'Peanut Butter', 3.99, 'pantry'),
    (23, 'Rolled Oats', 3.49, 'pantry'), (24, 'Honey', 6.99, 'pantry'),
    (25, 'Ground Coffee', 8.99, 'beverages'), (26, 'Green Tea', 4.29, 'beverages'),
    (27, 'Orange Juice', 4.49, 'beverages'), (28, 'Sparkling Water', 0.99, 'beverages'),
    (29, 'Cold Brew', 3.99, 'beverages'), (30, 'Kombucha', 3.49, 'beverages'),
    (31, 'Sea Salt Chips', 3.29, 'snacks'), (32, 'Dark Chocolate', 2.99, 'snacks'),
    (33, 'Trail Mix', 5.49, 'snacks'), (34, 'Popcorn', 2.79, 'snacks'),
    (35, 'Paper Towels', 6.99, 'household'), (36, 'Dish Soap', 3.49, 'household'),
    (37, 'Laundry Detergent', 11.99, 'household'), (38, 'Trash Bags', 7.99, 'household'),
    (39, 'Toothpaste', 3.99, 'personal-care'), (40, 'Shampoo', 6.49, 'personal-care')
),
size(k, label, factor) AS (VALUES (0, 'Small', 0.75), (1, 'Regular', 1.0), (2, 'Family Size', 1.9))
INSERT INTO multistore.products (id, sku, name, description, price, currency, published)
SELECT 'prod_' || (base.b + 40 * size.k), 'SKU-' || upper(left(base.category, 3)) || '-' || lpad((base.b + 40 * size.k)::text, 4, '0'),
       base.name || ' (' || size.label || ')', initcap(replace(base.category, '-', ' ')) || ': ' || base.name,
       round(base.price * size.factor, 2), 'USD', true
  FROM base CROSS JOIN size
ON CONFLICT (id) DO NOTHING;

-- Stock: 0..60 units, the same on every run; every 17th pair is out of stock.
-- Each pair's stock is spread over 32 buckets (multistore.inventory_buckets).
INSERT INTO multistore.inventory (store_id, product_id, bucket, on_hand)
SELECT s.id, p.id, b.n,
       t.units / 32 + CASE WHEN b.n < t.units % 32 THEN 1 ELSE 0 END
  FROM multistore.stores s CROSS JOIN multistore.products p
 CROSS JOIN LATERAL (SELECT CASE WHEN (hashtext(s.id || '/' || p.id) & 2147483647) % 17 = 0 THEN 0
                                 ELSE 5 + (hashtext(p.id || '/' || s.id) & 2147483647) % 56 END AS units) t
 CROSS JOIN generate_series(0, 31) AS b(n)
 WHERE s.id ~ '^store_[0-9]+$' AND p.id ~ '^prod_[0-9]+$'
ON CONFLICT (store_id, product_id, bucket) DO NOTHING;

-- Demo accounts, password "multistore-demo" (Argon2id, hashed by the extension)
\o /dev/null
SELECT multistore_internal.user_create('admin@example.com', 'multistore-demo', 'Ada', 'Admin', 'admin')
 WHERE NOT EXISTS (SELECT 1 FROM multistore.users WHERE email = 'admin@example.com');
SELECT multistore_internal.user_create('manager@example.com', 'multistore-demo', 'Max', 'Manager', 'store_manager')
 WHERE NOT EXISTS (SELECT 1 FROM multistore.users WHERE email = 'manager@example.com');
SELECT multistore_internal.user_create('customer@example.com', 'multistore-demo', 'Cleo', 'Customer', 'customer')
 WHERE NOT EXISTS (SELECT 1 FROM multistore.users WHERE email = 'customer@example.com');
INSERT INTO multistore.store_managers (store_id, user_id)
SELECT s, u.id FROM multistore.users u, unnest(ARRAY['store_1', 'store_2']) s
 WHERE u.email = 'manager@example.com'
ON CONFLICT DO NOTHING;
\o

SELECT format('sample data: %s stores, %s products, %s stock rows',
              (SELECT count(*) FROM multistore.stores WHERE id ~ '^store_'),
              (SELECT count(*) FROM multistore.products),
              (SELECT count(DISTINCT (store_id, product_id)) FROM multistore.inventory))
    || format(', %s demo accounts', (SELECT count(*) FROM multistore.users WHERE email LIKE '%@example.com'));
