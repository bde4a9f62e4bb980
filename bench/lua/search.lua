-- wrk script for the search scenarios (closed loop). Usage:
--   wrk -s bench/lua/search.lua URL -- MODE TARGET_DIR
-- MODE: semantic | keyword | hybrid (POST .../content/search over corpus-large, cycling through the
-- query set from a random starting point per thread) or similar (GET .../content/{id}/similar).
-- Target files come from `SearchCorpus targets` (members' tokens and the viewer API key).

local mode, lines = nil, {}
local i = 0

function init(args)
  mode = args[1]
  local file = args[2] .. (mode == "similar" and "/search-similar.tsv" or "/search-large.tsv")
  local f = assert(io.open(file))
  for line in f:lines() do
    local a, b, c = line:match("^([^\t]+)\t([^\t]+)\t?(.*)$")
    if a then lines[#lines + 1] = { a, b, c } end
  end
  f:close()
  local seed = tonumber(tostring({}):match("0x(%x+)"), 16) or os.time()
  math.randomseed(seed % 2147483647)
  i = math.random(#lines)
end

function request()
  i = i % #lines + 1
  local l = lines[i]
  if mode == "similar" then
    return wrk.format("GET", l[2], { ["Authorization"] = "Bearer " .. l[1] })
  end
  return wrk.format("POST", "/api/v1/organizations/" .. l[2] .. "/content/search",
    { ["Authorization"] = "Bearer " .. l[1], ["Content-Type"] = "application/json" },
    '{"query":' .. l[3] .. ',"mode":"' .. mode .. '","limit":10}')
end

-- Prints the BENCHJSON summary line (run from the repository root, as bench.py does).
dofile("bench/lua/report.lua")
