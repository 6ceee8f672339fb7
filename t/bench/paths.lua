-- GET a random one of the request paths (with their query strings) in the file
-- CC_BENCH_PATHS names, one per line, with the bearer token from the environment: wrk
-- rotates over several searches, lookups or filters instead of one cached answer.  Each
-- thread draws its own sequence.
local paths = {}
for line in io.lines(os.getenv("CC_BENCH_PATHS")) do
    paths[#paths + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CC_BENCH_TOKEN")

local next_tid = 0
setup = function(thread)
    next_tid = next_tid + 1
    thread:set("tid", next_tid)
end

init = function(args)
    math.randomseed(os.time() * 100 + tid)
end

request = function()
    return wrk.format("GET", paths[math.random(#paths)])
end
