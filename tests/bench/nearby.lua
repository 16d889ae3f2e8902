-- wrk script: GET /api/stores/nearby at a random point of the continental US,
-- the same area the generated stores cover.  radius 50 km, 20 results.
math.randomseed(42)
request = function()
  local lat = 25 + math.random() * 24
  local lon = -125 + math.random() * 58
  return wrk.format("GET", string.format(
    "/api/stores/nearby?latitude=%.5f&longitude=%.5f&radius=50&limit=20", lat, lon))
end
