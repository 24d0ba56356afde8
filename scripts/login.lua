-- wrk script: sign in as the benchmark user; WRK_DELAY_MS paces each connection.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"benchmark passphrase 42"}'
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
function delay()
  return pause
end
