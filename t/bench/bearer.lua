-- GET with the bearer token from the environment (wrk -s bearer.lua URL).
local token = os.getenv("CC_BENCH_TOKEN")
wrk.headers["Authorization"] = "Bearer " .. token
