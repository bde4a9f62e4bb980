-- wrk script for a plain GET (the machine-limit baseline); prints the same JSON line as scenario.lua.
dofile("bench/lua/report.lua")
