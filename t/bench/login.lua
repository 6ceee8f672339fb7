-- POST /api/v1/auth/login as a random one of the tenant's 10,000 seeded users (all
-- share the bench password).  One account hammered by 32 connections would trip the
-- login throttle, which counts attempts in flight.
local password = os.getenv("CC_BENCH_PASSWORD")
local tenant = os.getenv("CC_BENCH_TENANT")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
    local body = string.format('{"email":"user%d@%s.example","password":"%s","tenant":"%s"}',
                               math.random(10000), tenant, password, tenant)
    return wrk.format("POST", "/api/v1/auth/login", nil, body)
end
