-- wrk script: nearby.lua as a browser on another origin sends it: Origin
-- (CORS), Accept-Encoding (gzip), a User-Agent; so every part of the HTTP
-- edge runs.
math.randomseed(42)
request = function()
  local lat = 25 + math.random() * 24
  local lon = -125 + math.random() * 58
  return wrk.format("GET", string.format(
    "/api/stores/nearby?latitude=%.5f&longitude=%.5f&radius=50&limit=20", lat, lon),
    { ["Origin"] = "https://shop.example", ["Accept-Encoding"] = "gzip, deflate, br",
      ["User-Agent"] = "Mozilla/5.0 (bench)" })
end
