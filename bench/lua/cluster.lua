-- wrk script for the cluster bench's mixed load (closed loop, bench/cluster.py). Usage:
--   wrk -s bench/lua/cluster.lua URL -- TARGET_DIR
-- The mix: 70% document reads, 15% content lists (following nextCursor), 5% member lists,
-- 5% hybrid searches (POST, a fixed set of query texts) and 5% document creates (POST).
-- TARGET_DIR (cluster.py writes it): reads.tsv (API key \t document path), orgs.tsv (organization
-- \t API key), queries.txt (one JSON string a line). Every organization has several keys, so no
-- one credential is hot.
-- Prints BENCHEXTRA {"status":{"200":n,...}} after the BENCHJSON line: answers by status over all
-- threads (wrk's own summary lumps every non-2xx/3xx into one number).

local reads, orgs, queries, keys_by_org, cursors = {}, {}, {}, {}, {}
local threads = {}
status = {}

local function load(path, into)
  local f = assert(io.open(path))
  for line in f:lines() do
    local a, b = line:match("^([^\t]+)\t([^\t]+)$")
    if a then into[#into + 1] = { a, b } end
  end
  f:close()
end

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  local dir = args[1]
  load(dir .. "/reads.tsv", reads)
  load(dir .. "/orgs.tsv", orgs)
  for _, l in ipairs(orgs) do
    local t = keys_by_org[l[1]] or {}
    t[#t + 1] = l[2]
    keys_by_org[l[1]] = t
  end
  local f = assert(io.open(dir .. "/queries.txt"))
  for line in f:lines() do
    if #line > 0 then queries[#queries + 1] = line end
  end
  f:close()
  local seed = tonumber(tostring({}):match("0x(%x+)"), 16) or os.time()
  math.randomseed(seed % 2147483647)
end

local function auth(key)
  return { ["Authorization"] = "Bearer " .. key }
end

local function json_auth(key)
  return { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
end

function request()
  local p = math.random(100)
  if p <= 70 then
    local l = reads[math.random(#reads)]
    return wrk.format("GET", l[2], auth(l[1]))
  end
  if p <= 85 then
    local n = #cursors
    if n > 0 then
      local c = table.remove(cursors, n)
      return wrk.format("GET", "/api/v1/organizations/" .. c[1] .. "/content?limit=20&cursor=" .. c[3], auth(c[2]))
    end
    local l = orgs[math.random(#orgs)]
    return wrk.format("GET", "/api/v1/organizations/" .. l[1] .. "/content?limit=20", auth(l[2]))
  end
  local l = orgs[math.random(#orgs)]
  if p <= 90 then
    return wrk.format("GET", "/api/v1/organizations/" .. l[1] .. "/members", auth(l[2]))
  end
  if p <= 95 then
    return wrk.format("POST", "/api/v1/organizations/" .. l[1] .. "/content/search", json_auth(l[2]),
      '{"query":' .. queries[math.random(#queries)] .. ',"mode":"hybrid","limit":10}')
  end
  return wrk.format("POST", "/api/v1/organizations/" .. l[1] .. "/content", json_auth(l[2]),
    string.format('{"title":"Cluster load note %d","body":"Written by the cluster benchmark: the write path '
      .. 'through the balancer.","tags":["cluster-bench"]}', math.random(1000000000)))
end

function response(s, headers, body)
  status[s] = (status[s] or 0) + 1
  if s == 200 and #cursors < 200 then
    local cursor = body:match('"nextCursor":"([^"]+)"')
    if cursor then
      local org = body:match('"organizationId":"([^"]+)"')
      local keys = org and keys_by_org[org]
      if keys then cursors[#cursors + 1] = { org, keys[math.random(#keys)], cursor } end
    end
  end
end

dofile("bench/lua/report.lua")
local report = done

function done(summary, latency, requests)
  report(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("status")) do all[s] = (all[s] or 0) + n end
  end
  local parts = {}
  for s, n in pairs(all) do parts[#parts + 1] = string.format('"%d":%d', s, n) end
  io.write('BENCHEXTRA {"status":{' .. table.concat(parts, ",") .. '}}\n')
end
