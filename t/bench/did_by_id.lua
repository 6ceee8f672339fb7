-- GET /api/v1/dids/{id} for a random id of the caller's own tenant.  The ids come from
-- CC_BENCH_DID_IDS_FILE (one per line), written by bench.sh from the database.
local token = os.getenv("CC_BENCH_TOKEN")
local ids = {}
for line in io.lines(os.getenv("CC_BENCH_DID_IDS_FILE")) do
    ids[#ids + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
    return wrk.format("GET", "/api/v1/dids/" .. ids[math.random(#ids)])
end
