-- POSTs JSON bodies in turn, one request per body, and prints a summary
-- line for the benchmark harness.
--
--   wrk -t1 -c32 -d5s -s benchmarks/wrk/post.lua URL -- BODIES_FILE
--
-- BODIES_FILE holds one JSON body per line. The requests are formatted
-- once, in init, so that the load generator spends nothing per request on
-- building them. Headers given with -H (a Host, an Authorization) are sent
-- with every request.

local requests = {}
local next_request = 0

function init(args)
  local path = args[1]
  assert(path, "usage: wrk ... -s post.lua URL -- BODIES_FILE")
  local headers = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  for line in io.lines(path) do
    if #line > 0 then
      table.insert(requests, wrk.format("POST", nil, headers, line))
    end
  end
  assert(#requests > 0, "no bodies in " .. path)
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
