-- deliver_post.lua - post.lua, but each record is sent exactly once.
--
--   wrk -t1 -c C -d MAX -s deliver_post.lua URL -- PATH FILE 1 START COUNT DONEFILE
--
-- tests/bench/deliver loads a backlog of exactly COUNT unique events, so
-- unlike post.lua (which wraps around and resends, harmless for a
-- deduplicating gateway) this wrapper never sends a record twice: once the
-- COUNT records are handed out, connections that want another request get
-- a GET on PATH (405 from hookgate, 403 from adnanh/webhook's HMAC rule:
-- neither stores nor runs anything).  When COUNT responses with status 200
-- have arrived it writes DONEFILE and stops the thread; wrk itself only
-- exits at -d or on SIGINT, which tests/bench/deliver sends once DONEFILE
-- exists.  Only one wrk thread (-t1) is supported.
--
-- wrk calls request() once before the run, in the first thread's Lua state,
-- to check the request parses (script_verify_request), and never sends what
-- it returns.  With plain post.lua that silently skips record START (the
-- wrap-around resends it); here that first call gets the filler, so every
-- record is really sent.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua")

local base_init, base_request, base_response = init, request, response
local limit, issued, donefile, finished = 0, 0, nil, false
local verified = false
local filler

function init(args)
   -- post.lua takes PATH FILE THREADS START COUNT [CONN]: its sixth
   -- argument is not our DONEFILE, so it gets the first five only
   base_init({args[1], args[2], args[3], args[4], args[5]})
   if tonumber(args[3] or "1") ~= 1 then
      error("deliver_post.lua: only one wrk thread (-t1) is supported")
   end
   limit = tonumber(args[5] or "")
   donefile = args[6]
   if not limit or not donefile then
      error("deliver_post.lua: needs PATH FILE 1 START COUNT DONEFILE")
   end
   filler = wrk.format("GET", args[1])
end

function request()
   if not verified then -- wrk's verification call: not sent
      verified = true
      return filler
   end
   issued = issued + 1
   if issued > limit then
      return filler
   end
   return base_request()
end

function response(status, headers, body)
   base_response(status, headers, body)
   if not finished and ok >= limit then
      finished = true
      local f = assert(io.open(donefile, "w"))
      f:write(string.format("ok=%d issued=%d\n", ok, issued))
      f:close()
      wrk.thread:stop()
   end
end
