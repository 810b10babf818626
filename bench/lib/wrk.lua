-- Generic wrk script driven by environment variables, printing one JSON line at the end.
--   WRK_METHOD, WRK_BODY_FILE, WRK_CONTENT_TYPE: the request to send
--   WRK_DELAY_MS: pause per connection before each request (paced load for latency runs)
local method = os.getenv("WRK_METHOD") or "GET"
local body_file = os.getenv("WRK_BODY_FILE")
local content_type = os.getenv("WRK_CONTENT_TYPE")
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")

wrk.method = method
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end
if content_type and content_type ~= "" then
  wrk.headers["Content-Type"] = content_type
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
