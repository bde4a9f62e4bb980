-- wrk script that starts workflow runs (closed loop). Usage:
--   wrk -s bench/lua/runs.lua URL -- FILE
-- FILE: token \t organization \t workflow id, one line per organization (bench/runs.py writes it).
-- Requests rotate over the lines, so every organization's queue and concurrency limit take part.
-- Prints BENCHEXTRA {"accepted":n,"limited":n} after the BENCHJSON line: 202s and 429s (a full
-- queue is the platform pushing back, not an error).

local lines, i = {}, 0
accepted, limited = 0, 0

function init(args)
  local f = assert(io.open(args[1]))
  for line in f:lines() do
    local t, o, w = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    if t then lines[#lines + 1] = { t, o, w } end
  end
  f:close()
  i = math.random(#lines) - 1
end

function request()
  i = i % #lines + 1
  local l = lines[i]
  return wrk.format("POST", "/api/v1/organizations/" .. l[2] .. "/workflows/" .. l[3] .. "/runs",
    { ["Authorization"] = "Bearer " .. l[1], ["Content-Type"] = "application/json" }, '{"input":{"n":1}}')
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 elseif status == 429 then limited = limited + 1 end
end

dofile("bench/lua/report.lua")
local report = done

function done(summary, latency, requests)
  report(summary, latency, requests)
  local a, l = 0, 0
  for _, t in ipairs(threads or {}) do
    a = a + t:get("accepted")
    l = l + t:get("limited")
  end
  io.write(string.format('BENCHEXTRA {"accepted":%d,"limited":%d}\n', a, l))
end

threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end
