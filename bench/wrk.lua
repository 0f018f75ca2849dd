-- The wrk request for bench/load.ts: BENCH_TOKEN is the bearer token, BENCH_METHOD GET or PUT,
-- BENCH_BODY the JSON body of a PUT.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
