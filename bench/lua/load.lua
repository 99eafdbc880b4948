-- wrk script for bench/load.py: every benchmark load, chosen by BENCH_MODE.
--
--   get     GET a random line of BENCH_PATHS
--   post    POST a random line of BENCH_BODIES ("path<TAB>json body")
--   status  POST /api/v2/cases/<id>/status, each case of this thread's share of
--           BENCH_CASES ("uuid STATUS") moved to its next status in turn, so
--           every request is a real change (OPEN -> IN_PROGRESS -> CLOSED -> OPEN)
--   mix     the three above in turn (the soak)
--
-- Keys come from BENCH_API_KEY / BENCH_APP_KEY. done() writes one JSON object
-- (requests, duration, errors, latency percentiles in microseconds) to BENCH_RESULT.
-- Every response that is not 2xx or 3xx counts in errors.status.

local mode = os.getenv("BENCH_MODE") or "get"
local next_status = { OPEN = "IN_PROGRESS", IN_PROGRESS = "CLOSED", CLOSED = "OPEN" }
local threads = {}
local counter = 0

local function lines(path)
  local out = {}
  if path == nil or path == "" then return out end
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

local get_headers = {
  ["DD-API-KEY"] = os.getenv("BENCH_API_KEY"),
  ["DD-APPLICATION-KEY"] = os.getenv("BENCH_APP_KEY"),
}
local post_headers = {
  ["DD-API-KEY"] = os.getenv("BENCH_API_KEY"),
  ["DD-APPLICATION-KEY"] = os.getenv("BENCH_APP_KEY"),
  ["Content-Type"] = "application/json",
}

local paths, bodies, cases, current = {}, {}, {}, {}
local next_case = 0

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  local index = thread_index or 0
  local count = tonumber(os.getenv("BENCH_THREADS") or "1")
  math.randomseed(os.time() + index * 7919)
  paths = lines(os.getenv("BENCH_PATHS"))
  for _, line in ipairs(lines(os.getenv("BENCH_BODIES"))) do
    local tab = line:find("\t", 1, true)
    bodies[#bodies + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  local all = lines(os.getenv("BENCH_CASES"))
  for i, line in ipairs(all) do
    if (i - 1) % count == index then
      local id, status = line:match("^(%S+)%s+(%S+)$")
      cases[#cases + 1] = id
      current[id] = status
    end
  end
end

local function get()
  return wrk.format("GET", paths[math.random(#paths)], get_headers)
end

local function post()
  local b = bodies[math.random(#bodies)]
  return wrk.format("POST", b[1], post_headers, b[2])
end

local function status()
  next_case = next_case % #cases + 1
  local id = cases[next_case]
  local target = next_status[current[id]]
  current[id] = target
  local body = '{"data":{"type":"case","attributes":{"status":"' .. target .. '"}}}'
  return wrk.format("POST", "/api/v2/cases/" .. id .. "/status", post_headers, body)
end

local mixed = { get, post, status }

function request()
  if mode == "get" then return get() end
  if mode == "post" then return post() end
  if mode == "status" then return status() end
  counter = counter + 1
  return mixed[counter % #mixed + 1]()
end

function done(summary, latency, requests)
  local e = summary.errors
  -- Percentiles 0.1, 0.2 ... 99.9: lets bench/load.py merge the latencies of several runs.
  local grid = {}
  for i = 1, 999 do grid[i] = string.format("%d", latency:percentile(i / 10)) end
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,'
      .. '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%f,'
      .. '"grid_us":[%s]}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, table.concat(grid, ","))
  local f = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
  f:write(out)
  f:close()
end
