-- GET <URL path><id> for a random id of the caller's own tenant, e.g. wrk on
-- http://.../api/v1/users/ asks for /api/v1/users/<id>.  The ids come from the file
-- CC_BENCH_IDS names (one per line), written by bench.sh from the database.
local token = os.getenv("CC_BENCH_TOKEN")
local ids = {}
for line in io.lines(os.getenv("CC_BENCH_IDS")) do
    ids[#ids + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
    return wrk.format("GET", wrk.path .. ids[math.random(#ids)])
end
