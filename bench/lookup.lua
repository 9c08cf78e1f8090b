-- wrk script: GET /v1/codes/{code} for random codes read from codes.txt
-- (one code per line). The key comes from the environment: wrk passes no
-- arguments to init for every thread, so the key file path is fixed too.
local codes = {}
local key = nil

function init(args)
  for line in io.lines(os.getenv("CODES_FILE") or "codes.txt") do
    codes[#codes + 1] = line
  end
  key = os.getenv("PROMOKIT_KEY")
  math.randomseed(os.time() + #codes)
end

function request()
  local c = codes[math.random(#codes)]
  return wrk.format("GET", "/v1/codes/" .. c, { ["Authorization"] = "Bearer " .. key })
end

done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
