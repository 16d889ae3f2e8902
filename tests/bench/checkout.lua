-- wrk script: checkouts through REST, run with as many threads as
-- connections (-t32 -c32) so that each thread drives one connection and
-- one customer in order: three POST /api/cart/items, then POST /api/orders
-- with a fresh Idempotency-Key.  BENCH_TOKENS: the customers' access
-- tokens, comma-separated, one per thread.  BENCH_STORE: where to order.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do tokens[#tokens + 1] = t end
local next_id = 1

function setup(thread)
	thread:set("id", next_id)
	next_id = next_id + 1
end

local store = os.getenv("BENCH_STORE") or "gen_1"
local nonce = tostring(os.time())
local step, orders = 0, 0
local add = {}
local order_body = '{"storeId":"' .. store .. '","deliveryType":"delivery",' ..
	'"deliveryAddress":{"line1":"1 Bench Street","city":"Benchville","postalCode":"10001"}}'

function init(args)
	for i = 1, 3 do
		add[i] = wrk.format("POST", "/api/cart/items", {
			["Content-Type"] = "application/json",
			["Authorization"] = "Bearer " .. tokens[id],
		}, '{"productId":"bench_o' .. i .. '","quantity":1}')
	end
end

function request()
	step = step % 4 + 1
	if step <= 3 then return add[step] end
	orders = orders + 1
	return wrk.format("POST", "/api/orders", {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. tokens[id],
		["Idempotency-Key"] = "bench-" .. nonce .. "-" .. id .. "-" .. orders,
	}, order_body)
end
