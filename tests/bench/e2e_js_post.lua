-- e2e_js_post.lua - post.lua, with wrk's threads spread over several servers.
--
--   E2E_JS_PORTS=P1,P2 wrk -t T -c C ... -s e2e_js_post.lua http://127.0.0.1:P1 \
--       -- PATH FILE T [START [COUNT]]
--
-- Everything (the records, the disjoint per-thread slices, the BENCH line) is
-- post.lua's; this wrapper only points wrk thread i at 127.0.0.1:P(i mod K+1)
-- (K ports in E2E_JS_PORTS), the way wrk's own scripts/addr.lua does.  So one
-- wrk process with -t2 loads two hookgate instances, each thread with its own
-- C/T connections, and wrk merges the latency histograms and the request
-- counts: the p50/p99 are exact over both instances, which summing two wrk
-- processes could not give.  Without E2E_JS_PORTS it is post.lua.  The Host
-- header names the URL's port for every thread; hookgate does not look at it.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua")

local post_setup = setup
local ports = {}
for p in (os.getenv("E2E_JS_PORTS") or ""):gmatch("%d+") do
   table.insert(ports, p)
end
local nth = 0

function setup(thread)
   if #ports > 0 then
      local addrs = wrk.lookup("127.0.0.1", ports[nth % #ports + 1])
      thread.addr = addrs[1]
   end
   nth = nth + 1
   post_setup(thread)
end
