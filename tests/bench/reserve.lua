-- wrk script: POST /api/stores/<store>/reservations, one unit of one hot
-- product, as an admin (BENCH_TOKEN, BENCH_STORE, BENCH_PRODUCT).
wrk.method = "POST"
wrk.path = "/api/stores/" .. (os.getenv("BENCH_STORE") or "gen_1") .. "/reservations"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"items":[{"productId":"' .. (os.getenv("BENCH_PRODUCT") or "bench_hot") .. '","quantity":1}]}'
