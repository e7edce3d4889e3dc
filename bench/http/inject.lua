-- wrk script for POST /api/inject/v1 (bench/http-inject). Environment:
--   RECIPIENTS  recipients per request (default 1), r<thread>-<n>@sink.test
--   CONTENT     "raw": one ~1 KB RFC 5322 message for all recipients of a request (default);
--               "builder": the same text as a builder request whose subject is a template with a
--               substitution per recipient, so the server renders and builds MIME per recipient.
-- Requests that are not answered 200 are counted and the first one's body is printed (failures and
-- first_failure are globals so that done() can read them from each thread).

local per = tonumber(os.getenv("RECIPIENTS") or "1")
local builder = os.getenv("CONTENT") == "builder"

local line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
local text = string.rep(line, 14)
local headers = "From: Bench <bench@example.com>\r\nTo: r@sink.test\r\n"
  .. "Subject: http inject bench\r\nMIME-Version: 1.0\r\n"
  .. "Content-Type: text/plain; charset=us-ascii\r\n\r\n"

local function json_string(s)
  s = s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\r", "\\r"):gsub("\n", "\\n")
  return '"' .. s .. '"'
end

local content
if builder then
  content = '{"subject":"http inject bench for {{ name }}",'
    .. '"from":{"email":"bench@example.com","name":"Bench"},"text_body":' .. json_string(text) .. "}"
else
  content = json_string(headers .. text)
end

local threads = {}
local counter = 0
failures = 0
first_failure = nil

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  local recipients = {}
  for i = 1, per do
    counter = counter + 1
    local name = "r" .. id .. "-" .. counter
    if builder then
      recipients[i] = '{"email":"' .. name .. '@sink.test","substitutions":{"name":"' .. name .. '"}}'
    else
      recipients[i] = '{"email":"' .. name .. '@sink.test"}'
    end
  end
  local body = '{"envelope_sender":"bench@example.com","recipients":['
    .. table.concat(recipients, ",") .. '],"content":' .. content .. "}"
  return wrk.format("POST", "/api/inject/v1", { ["Content-Type"] = "application/json" }, body)
end

function response(status, _, body)
  if status ~= 200 then
    failures = failures + 1
    if first_failure == nil then
      first_failure = status .. " " .. body
    end
  end
end

function done(summary)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    local first = thread:get("first_failure")
    if first ~= nil then
      io.stderr:write("first failure: " .. first .. "\n")
    end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("recipients_per_s=%.1f\n", (summary.requests - failed) * per / seconds))
  io.write(string.format("requests=%d\nfailures=%d\n", summary.requests, failed))
end
