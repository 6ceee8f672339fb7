-- POST /api/v1/dids with a number no request has used: "+1", a 6-digit tag random per
-- wrk run (the warm-up and the timed run are two runs), the thread's digit and a 7-digit
-- per-thread counter: 15 digits, so never one of the seeded 10-digit numbers.
-- CC_BENCH_CREATE_TOKENS (space-separated) spreads the creates over several tenants,
-- one tenant per request in turn; else every create is bench-1's (CC_BENCH_TOKEN).
-- CC_BENCH_IDEMPOTENCY=1 sends each create with an Idempotency-Key of its own (the
-- number): what the key's claim and stored answer cost a create.
local tokens = {}
for t in string.gmatch(os.getenv("CC_BENCH_CREATE_TOKENS") or os.getenv("CC_BENCH_TOKEN"),
                       "%S+") do
    tokens[#tokens + 1] = "Bearer " .. t
end
local idempotent = os.getenv("CC_BENCH_IDEMPOTENCY") == "1"
local next_tid = 0
local run_tag

local function random_tag()
    local f = assert(io.open("/dev/urandom", "rb"))
    local b1, b2, b3 = f:read(3):byte(1, 3)
    f:close()
    return (b1 * 65536 + b2 * 256 + b3) % 1000000
end

-- Runs in the main Lua state once per thread, before the threads start; tag and tid
-- become globals of that thread's state.
setup = function(thread)
    run_tag = run_tag or random_tag()
    thread:set("tag", run_tag)
    thread:set("tid", next_tid % 10)
    next_tid = next_tid + 1
end

local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
    counter = (counter + 1) % 10000000
    local body = string.format('{"number":"+1%06d%d%07d","description":"bench"}',
                               tag, tid, counter)
    wrk.headers["Authorization"] = tokens[counter % #tokens + 1]
    if idempotent then
        wrk.headers["Idempotency-Key"] = string.format("bench-%06d-%d-%07d", tag, tid, counter)
    end
    return wrk.format("POST", "/api/v1/dids", nil, body)
end
