-- wrk script: the Node.js baseline's POST /api/reservations, one unit of one
-- hot product (its schema stocks every product with 10^9 units).
wrk.method = "POST"
wrk.path = "/api/reservations"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"storeId":"store_1","productId":"prod_1","quantity":1}'
