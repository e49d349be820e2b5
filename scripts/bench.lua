-- bench.lua - wrk script of make bench: replays the requests made by
-- wx-bench-core gen (one "QUERY<TAB>BODY" a line), each once, in order.
--
--   WX_BENCH_REQS=FILE WX_BENCH_PATH=/wx wrk -s bench.lua http://host:port
--
-- Every request is a distinct message (its own MsgId), so the gateway's
-- retry table never answers one from its store: each runs the whole path.
-- done() reports when the file ran out and requests had to be repeated,
-- the requests sent, p50/p99 and the latency distribution.

local reqs = {}
local n, sent, wrapped = 0, 0, 0

-- Lines WX_BENCH_FROM .. +WX_BENCH_COUNT are used; each of WX_BENCH_THREADS
-- threads takes its own share of them, so that no two threads send the
-- same message.
function init(args)
   local path = os.getenv("WX_BENCH_PATH") or "/wx"
   local nthreads = tonumber(os.getenv("WX_BENCH_THREADS") or "1")
   local headers = { ["Content-Type"] = "text/xml" }
   local from = tonumber(os.getenv("WX_BENCH_FROM") or "0")
   local last = from + tonumber(os.getenv("WX_BENCH_COUNT") or "1e12")
   local i = 0
   for line in io.lines(os.getenv("WX_BENCH_REQS")) do
      if i >= last then break end
      if i >= from and i % nthreads == tid then
         local q, body = line:match("^([^\t]*)\t(.*)$")
         n = n + 1
         reqs[n] = wrk.format("POST", path .. "?" .. q, headers, body)
      end
      i = i + 1
   end
end

function request()
   sent = sent + 1
   if sent > n then
      wrapped = wrapped + 1
      return reqs[(sent - 1) % n + 1]
   end
   return reqs[sent]
end

-- WX_BENCH_DELAY_MS (scripts/soak.sh): each connection waits so long
-- between requests, for a steady rate instead of the most it can do.
local delay_ms = tonumber(os.getenv("WX_BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
   function delay()
      return delay_ms
   end
end

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local w = 0
   for _, t in ipairs(threads) do
      w = w + (t:get("wrapped") or 0)
   end
   io.write(string.format("wrapped %d\n", w))
   io.write(string.format("p50 %.3f\np99 %.3f\n",
                          latency:percentile(50) / 1000, latency:percentile(99) / 1000))
   io.write(string.format("non2xx %d\n", summary.errors.status))
   io.write(string.format("requests %d\n", summary.requests))
   -- The latency distribution, for the plot: "dist PERCENTILE MS".
   for _, p in ipairs({ 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99 }) do
      io.write(string.format("dist %g %.3f\n", p, latency:percentile(p) / 1000))
   end
end
