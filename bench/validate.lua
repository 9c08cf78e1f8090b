-- wrk script: POST /v1/validate with a 5-line cart and 2 random codes read
-- from codes.txt; the store id and key come from the environment. The
-- requests are built in init, one per code of the file (paired with a
-- random second code) and sent in turn from a random start, so that the
-- load generator spends its time sending rather than formatting.
local requests = {}
local next = 1

function init(args)
  local codes = {}
  for line in io.lines(os.getenv("CODES_FILE") or "codes.txt") do
    codes[#codes + 1] = line
  end
  local headers = { ["Authorization"] = "Bearer " .. os.getenv("PROMOKIT_KEY"), ["Content-Type"] = "application/json" }
  local cart = '{"cart":{"store_id":"' .. os.getenv("PROMOKIT_STORE") .. '","currency":"USD","shipping":499,"lines":[' ..
    '{"product_id":"p1","quantity":1,"unit_price":1999},{"product_id":"p2","quantity":2,"unit_price":550},' ..
    '{"product_id":"p3","quantity":1,"unit_price":12000},{"product_id":"p4","quantity":3,"unit_price":99},' ..
    '{"product_id":"p5","quantity":1,"unit_price":4500}]},"customer":{"email":"buyer@example.com"},"codes":["'
  math.randomseed(os.time() + #codes + tonumber(tostring({}):sub(8), 16) % 1000)
  for i = 1, #codes do
    local body = cart .. codes[i] .. '","' .. codes[math.random(#codes)] .. '"]}'
    requests[i] = wrk.format("POST", "/v1/validate", headers, body)
  end
  next = math.random(#requests)
end

function request()
  next = next % #requests + 1
  return requests[next]
end

done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
