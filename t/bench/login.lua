-- POST /api/v1/auth/login with the seeded tenant admin's credentials.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s","tenant":"%s"}',
                         os.getenv("CC_BENCH_EMAIL"), os.getenv("CC_BENCH_PASSWORD"),
                         os.getenv("CC_BENCH_TENANT"))
