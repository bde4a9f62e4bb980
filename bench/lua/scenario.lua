-- wrk script for the Arches scenarios (closed loop). Usage:
--   wrk -s bench/lua/scenario.lua URL -- SCENARIO TARGET_DIR
-- SCENARIO: read-uniform | read-zipf | list | create | login | mixed (80% read-zipf, 15% list, 5% create)
-- Target files come from `BenchData targets` (tokens of many users and API keys, never one hot token).
-- Lists follow the nextCursor of their responses, so a walk goes page after page.

local scenario, dir
local reads, orgs, writers, logins = {}, {}, {}, {}
local cursors = {}
local tokens_by_org = {}

local function load(path, into)
  local f = io.open(path)
  if not f then return end
  for line in f:lines() do
    local a, b = line:match("^([^\t]+)\t([^\t]+)$")
    if a then into[#into + 1] = { a, b } end
  end
  f:close()
end

function init(args)
  scenario, dir = args[1], args[2]
  load(dir .. (scenario == "read-uniform" and "/read-uniform.tsv" or "/read-zipf.tsv"), reads)
  load(dir .. "/orgs.tsv", orgs)
  for _, l in ipairs(orgs) do
    local t = tokens_by_org[l[1]] or {}
    t[#t + 1] = l[2]
    tokens_by_org[l[1]] = t
  end
  load(dir .. "/writers.tsv", writers)
  load(dir .. "/logins.tsv", logins)
  local seed = tonumber(tostring({}):match("0x(%x+)"), 16) or os.time()
  math.randomseed(seed % 2147483647)
  -- Reading bodies costs wrk time: only scenarios that follow cursors ask for them.
  if scenario ~= "list" and scenario ~= "mixed" then response = nil end
end

local function auth(token)
  return { ["Authorization"] = "Bearer " .. token }
end

local function read()
  local l = reads[math.random(#reads)]
  return wrk.format("GET", l[2], auth(l[1]))
end

local function list()
  local n = #cursors
  if n > 0 then
    local c = table.remove(cursors, n)
    return wrk.format("GET", "/api/v1/organizations/" .. c[1] .. "/content?limit=20&cursor=" .. c[3], auth(c[2]))
  end
  local l = orgs[math.random(#orgs)]
  return wrk.format("GET", "/api/v1/organizations/" .. l[1] .. "/content?limit=20", auth(l[2]))
end

local function create()
  local l = writers[math.random(#writers)]
  local body = string.format('{"title":"Load test note %d","body":"Written by the closed-loop benchmark to '
    .. 'measure the write path of the platform.","tags":["bench","t%d"],"metadata":{"run":%d}}',
    math.random(1000000), math.random(20), math.random(100))
  local h = auth(l[2])
  h["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/organizations/" .. l[1] .. "/content", h, body)
end

local function login()
  local l = logins[math.random(#logins)]
  return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" },
    string.format('{"email":"%s","password":"%s"}', l[1], l[2]))
end

function request()
  if scenario == "read-uniform" or scenario == "read-zipf" then return read() end
  if scenario == "list" then return list() end
  if scenario == "create" then return create() end
  if scenario == "login" then return login() end
  local p = math.random(100)
  if p <= 80 then return read() elseif p <= 95 then return list() else return create() end
end

function response(status, headers, body)
  if status == 200 and #cursors < 1000 then
    local cursor = body:match('"nextCursor":"([^"]+)"')
    if cursor then
      local org = body:match('"organizationId":"([^"]+)"')
      local tokens = org and tokens_by_org[org]
      if tokens then cursors[#cursors + 1] = { org, tokens[math.random(#tokens)], cursor } end
    end
  end
end

-- Prints the BENCHJSON summary line (run from the repository root, as bench.py does).
dofile("bench/lua/report.lua")
