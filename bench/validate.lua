-- wrk script: POST /v1/validate with a 5-line cart and 2 random codes read
-- from codes.txt; the store id and key come from the environment.
local codes = {}
local key, store

function init(args)
  for line in io.lines(os.getenv("CODES_FILE") or "codes.txt") do
    codes[#codes + 1] = line
  end
  key = os.getenv("PROMOKIT_KEY")
  store = os.getenv("PROMOKIT_STORE")
  math.randomseed(os.time() + #codes)
end

function request()
  local a, b = codes[math.random(#codes)], codes[math.random(#codes)]
  local body = '{"cart":{"store_id":"' .. store .. '","currency":"USD","shipping":499,"lines":[' ..
    '{"product_id":"p1","quantity":1,"unit_price":1999},{"product_id":"p2","quantity":2,"unit_price":550},' ..
    '{"product_id":"p3","quantity":1,"unit_price":12000},{"product_id":"p4","quantity":3,"unit_price":99},' ..
    '{"product_id":"p5","quantity":1,"unit_price":4500}]},"customer":{"email":"buyer@example.com"},' ..
    '"codes":["' .. a .. '","' .. b .. '"]}'
  return wrk.format("POST", "/v1/validate", { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end

done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
