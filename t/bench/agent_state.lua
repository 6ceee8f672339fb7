-- PUT /api/v1/agents/<id>/state: a random agent of CC_BENCH_AGENT_IDS (one user id per
-- line) to the next of available, break (with a reason), on_call, offline: nearly every
-- request is a change (a new period, and the agent's two queue memberships paused or
-- unpaused in the same transaction).  As bench-1's admin (agents.manage).
local ids = {}
for line in io.lines(os.getenv("CC_BENCH_AGENT_IDS")) do
    ids[#ids + 1] = line
end
local bodies = { '{"state":"available"}', '{"state":"break","reason":"Lunch"}',
                 '{"state":"on_call"}', '{"state":"offline"}' }
local n = 0
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CC_BENCH_TOKEN")

request = function()
    n = n + 1
    local id = ids[math.random(#ids)]
    return wrk.format("PUT", "/api/v1/agents/" .. id .. "/state", nil, bodies[n % 4 + 1])
end
