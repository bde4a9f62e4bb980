-- wrk script for search with never-seen query texts (closed loop, wrk -t2). Usage:
--   wrk -t2 -s bench/lua/novel.lua URL -- MODE FILE novel
--   wrk -t2 -s bench/lua/novel.lua URL -- MODE FILE replay SENT_0 SENT_1
-- FILE: credential \t org \t query as a JSON string, one never-seen text a line (hotpath.py writes it).
-- novel: thread t sends the lines of its half of the file in order, each once (a thread that
-- reaches the end of its half wraps, and says so in "wrapped"). replay: thread t cycles through
-- the SENT_t lines it sent in the novel run, whose vectors the server has cached since.
-- Prints BENCHEXTRA {"sent":[...],"degraded":n,"wrapped":n} after the BENCHJSON line; degraded
-- counts hybrid answers that came back keyword-only (mode "keyword").

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

local mode, phase, lines, first, size, i
sent, degraded, wrapped = 0, 0, 0

function init(args)
  mode, phase = args[1], args[3]
  lines = {}
  local f = assert(io.open(args[2]))
  for line in f:lines() do
    local a, b, c = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    if a then lines[#lines + 1] = { a, b, c } end
  end
  f:close()
  local half = math.floor(#lines / 2)
  first = tid * half
  size = half
  if phase == "replay" then size = math.max(1, math.min(half, tonumber(args[4 + tid]) or half)) end
  i = 0
end

function request()
  if i >= size then
    i = 0
    if phase == "novel" then wrapped = wrapped + 1 end
  end
  local l = lines[first + i + 1]
  i = i + 1
  sent = sent + 1
  return wrk.format("POST", "/api/v1/organizations/" .. l[2] .. "/content/search",
    { ["Authorization"] = "Bearer " .. l[1], ["Content-Type"] = "application/json" },
    '{"query":' .. l[3] .. ',"mode":"' .. mode .. '","limit":10}')
end

function response(status, headers, body)
  if status == 200 and mode == "hybrid" and body:find('"mode":"keyword"', 1, true) then
    degraded = degraded + 1
  end
end

dofile("bench/lua/report.lua")
local report = done

function done(summary, latency, requests)
  report(summary, latency, requests)
  local s, d, w = {}, 0, 0
  for _, t in ipairs(threads) do
    s[#s + 1] = tostring(t:get("sent"))
    d = d + t:get("degraded")
    w = w + t:get("wrapped")
  end
  io.write(string.format('BENCHEXTRA {"sent":[%s],"degraded":%d,"wrapped":%d}\n', table.concat(s, ","), d, w))
end
