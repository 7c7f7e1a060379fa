"""The operator's console's API (issue 18; docs/console.md), over real HTTP
with the real binary: access (bearer token, session cookie, CSRF, the
sign-in lockout, a POST refused on its headers before its body), every
list filter, an event's page with masked headers, replay to a sink, the
rejected ring with its reasons and bounds, sinks and routes, the live tail
(Server-Sent Events, resumed with Last-Event-ID, ended with the session or
token that opened it), send-test, and
`hookgate events rejected`.

Every answer goes through hg.curl, so the leak sweep (tests/leaks) checks
it for the route secrets, the admin token and every signature computed
here; each test also asserts that no answer holds a secret it used.
"""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import hg

TOKEN = "console-token-0123456789"
TOKEN2 = "console-token-after-reload-0123"
SECRET = "generic-secret"


def sig(body, secret=SECRET):
    return hg.sign_generic(secret, body.encode() if isinstance(body, str) else body)


class ConsoleTest(hg.GatewayTest):
    def start(self, token=True, rejected_max=None, keep_bodies=False, sinks=None, route_extra=None,
              retry=None, top=None):
        cfg = self.config(listen=[{"address": "127.0.0.1:0"}, {"address": "127.0.0.1:0", "admin": True}])
        cfg.update(top or {})
        if token:
            cfg["admin"] = {"token": "env:HG_ADMIN_TOKEN"}
        if rejected_max is not None:
            cfg.setdefault("admin", {})["rejected_max"] = rejected_max
        r = cfg["routes"][0]
        r["name"] = "gen"
        if keep_bodies:
            r["keep_rejected_bodies"] = True
        if sinks:
            cfg["sinks"].update(sinks)
            r["sinks"] = ["out"] + list(sinks)
        r.update(route_extra or {})
        cfg["routes"].append({"path": "/hooks/locked", "name": "locked", "profile": "generic",
                              "secrets": ["env:T_SECRET"], "sinks": ["out"], "allow": ["10.9.9.9/32"]})
        if retry:
            cfg["retry"] = retry
        return self.gateway(cfg, env={"HG_ADMIN_TOKEN": TOKEN})

    def api(self, g, path, body=None, method=None, headers=None, auth=True):
        h = dict(headers or {})
        if auth:
            h["Authorization"] = "Bearer " + TOKEN
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        return hg.curl(g.url(path, i=1), body, h, method=method)

    def send(self, g, eid, etype="invoice.paid", extra=None, path="/hooks/generic"):
        body = json.dumps({"id": eid, "type": etype, **(extra or {})})
        r = hg.curl(g.url(path), body.encode(), {"Content-Type": "application/json",
                                                 "X-Webhook-Signature": sig(body),
                                                 "Authorization": "Bearer producer-api-key-777"})
        self.assertEqual(r.status, 200, r.body)
        return r.json().get("seq")  # none for a duplicate

    def no_secrets(self, text):
        for s in (TOKEN, TOKEN2, SECRET, "producer-api-key-777"):
            self.assertNotIn(s, text)

    def login(self, g, jar, token=TOKEN, extra=()):
        return hg.curl(g.url("/api/login", i=1), json.dumps({"token": token}).encode(),
                       extra=["-c", jar] + list(extra))

    def open_stream(self, g, auth):
        """A raw GET /api/stream with the header auth; (socket, bytes after the
        answer's head) once its first comment arrived."""
        s = socket.create_connection(("127.0.0.1", g.ports[1]), timeout=10)
        s.sendall(f"GET /api/stream HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n".encode())
        got = self.read_until(s, lambda b: b"\r\n\r\n" in b and b": ping" in b)
        head, _, rest = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:200])
        return s, rest

    def read_until(self, s, done, timeout=20):
        got, deadline = b"", time.time() + timeout
        while not done(got) and time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        self.assertTrue(done(got), got[-500:])
        return got

    @staticmethod
    def read_to_eof(s, timeout):
        """(what s received, True if the peer closed it within timeout s)."""
        got, deadline = b"", time.time() + timeout
        while time.time() < deadline:
            s.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                return got, True
            if not chunk:
                return got, True
            got += chunk
        return got, False

    # ---- access ----

    def test_console_off_without_token_says_how(self):
        g = self.start(token=False)
        r = self.api(g, "/api/events")
        self.assertEqual(r.status, 404)
        self.assertIn("admin.token", r.json()["error"])
        r = hg.curl(g.url("/ui/", i=1))
        self.assertEqual(r.status, 404)
        self.assertIn("admin.token", r.body)
        # the public listener never serves the console
        self.assertEqual(hg.curl(g.url("/api/events")).status, 404)

    def test_token_required_and_compared(self):
        g = self.start()
        r = self.api(g, "/api/events", auth=False)
        self.assertEqual(r.status, 401)
        r = self.api(g, "/api/events", auth=False, headers={"Authorization": "Bearer " + TOKEN + "x"})
        self.assertEqual(r.status, 401)
        r = self.api(g, "/api/events", auth=False, headers={"Authorization": "Bearer " + TOKEN[:-1]})
        self.assertEqual(r.status, 401)
        self.assertEqual(self.api(g, "/api/events").status, 200)
        # not on the public listener, even with the token
        r = hg.curl(g.url("/api/events"), headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(r.status, 404)
        refused = [l for l in g.logs() if l.get("msg") == "console sign-in refused"]
        self.assertTrue(refused)
        self.no_secrets(g.stderr())

    def test_page_is_served_with_a_strict_policy(self):
        g = self.start()
        r = hg.curl(g.url("/ui/", i=1))
        self.assertEqual(r.status, 200)
        self.assertIn("<html", r.body.lower())
        csp = r.headers.get("content-security-policy", "")
        self.assertIn("default-src 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertEqual(r.headers.get("x-frame-options"), "DENY")
        self.assertEqual(hg.curl(g.url("/ui/app.js", i=1)).status, 200)
        self.assertEqual(hg.curl(g.url("/ui", i=1)).status, 301)

    def test_session_cookie_and_csrf(self):
        g = self.start()
        seq = self.send(g, "evt_csrf")
        jar = os.path.join(self.tmp, "jar")
        r = hg.curl(g.url("/api/login", i=1), json.dumps({"token": "wrong-token-000000"}).encode())
        self.assertEqual(r.status, 401)
        r = hg.curl(g.url("/api/login", i=1), json.dumps({"token": TOKEN}).encode(), extra=["-c", jar])
        self.assertEqual(r.status, 200, r.body)
        csrf = r.json()["csrf"]
        cookie = r.headers["set-cookie"]
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attr, cookie)
        self.assertNotIn("Secure", cookie)  # a plain listener (TLS: tests below)
        # the cookie lets a GET in; a POST needs the CSRF token too
        r = hg.curl(g.url("/api/events", i=1), extra=["-b", jar])
        self.assertEqual(r.status, 200)
        self.assertEqual(hg.curl(g.url("/api/session", i=1), extra=["-b", jar]).json()["csrf"], csrf)
        r = hg.curl(g.url(f"/api/events/{seq}/replay", i=1), b"{}", extra=["-b", jar])
        self.assertEqual(r.status, 403)
        self.assertIn("CSRF", r.json()["error"])
        wrong = csrf[:-1] + ("1" if csrf.endswith("0") else "0")  # (one in 16 ends in "0")
        r = hg.curl(g.url(f"/api/events/{seq}/replay", i=1), b"{}", {"X-CSRF-Token": wrong},
                    extra=["-b", jar])
        self.assertEqual(r.status, 403)
        r = hg.curl(g.url(f"/api/events/{seq}/replay", i=1), b"{}", {"X-CSRF-Token": csrf}, extra=["-b", jar])
        self.assertEqual(r.status, 202, r.body)
        # a GET never changes anything
        self.assertEqual(self.api(g, f"/api/events/{seq}/replay").status, 405)
        r = hg.curl(g.url("/api/logout", i=1), b"{}", {"X-CSRF-Token": csrf}, extra=["-b", jar, "-c", jar])
        self.assertEqual(r.status, 200)
        self.assertEqual(hg.curl(g.url("/api/events", i=1), extra=["-b", jar]).status, 401)

    def test_sign_in_lockout_per_address(self):
        """Ten wrong tokens from one address in a minute lock it out of every token
        check (429 with Retry-After), the right token included; another address
        (127.0.0.2, 127.0.0.3: other loopback sources) is not affected."""
        g = self.start()
        jar = os.path.join(self.tmp, "jar")
        for i in range(10):
            r = self.login(g, jar, f"wrong-token-{i:04d}-xxxxxxxx")
            self.assertEqual(r.status, 401, (i, r.body))
        r = self.login(g, jar)  # the right token, the eleventh try
        self.assertEqual(r.status, 429, r.body)
        self.assertNotIn("set-cookie", r.headers)
        retry = int(r.headers["retry-after"])
        self.assertTrue(1 <= retry <= 60, retry)
        self.assertEqual(self.api(g, "/api/events").status, 429)  # a bearer token is not even compared
        self.assertIn("retry-after", self.api(g, "/api/events").headers)
        # another address signs in and reads as usual
        r = self.login(g, jar, extra=["--interface", "127.0.0.2"])
        self.assertEqual(r.status, 200, r.body)
        r = hg.curl(g.url("/api/events", i=1), extra=["-b", jar, "--interface", "127.0.0.2"])
        self.assertEqual(r.status, 200, r.body)
        # wrong bearer tokens count too
        other = ["--interface", "127.0.0.3"]
        for i in range(10):
            r = hg.curl(g.url("/api/events", i=1), headers={"Authorization": f"Bearer wrong-{i:04d}-xxxxxxxx"},
                        extra=other)
            self.assertEqual(r.status, 401, (i, r.body))
        r = hg.curl(g.url("/api/events", i=1), headers={"Authorization": "Bearer " + TOKEN}, extra=other)
        self.assertEqual(r.status, 429, r.body)
        self.assertEqual(hg.curl(g.url("/api/login", i=1), json.dumps({"token": TOKEN}).encode(),
                                 extra=other).status, 429)
        locked = [l for l in g.logs() if l.get("msg") == "console sign-in locked"]
        self.assertEqual(sorted(l.get("client") for l in locked), ["127.0.0.1", "127.0.0.3"], locked)
        self.assertEqual(locked[0].get("refused"), 10)
        self.no_secrets(g.stderr())

    def test_sign_in_body_bounded_in_size_and_time(self):
        """A sign-in comes before any credential: a chunked body past 4 KiB, or
        one still arriving after request_timeout, closes the connection (it was
        read to its end, however slowly, with no deadline)."""
        g = self.start(top={"limits": {"request_timeout": "1s"}})
        big = socket.create_connection(("127.0.0.1", g.ports[1]), timeout=10)
        big.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(6):  # 6 KiB
            big.sendall(b"400\r\n" + b" " * 1024 + b"\r\n")
        got, closed = self.read_to_eof(big, 5)
        big.close()
        self.assertTrue(closed and b"200 OK" not in got, got[:200])
        slow = socket.create_connection(("127.0.0.1", g.ports[1]), timeout=10)
        slow.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
        try:  # a byte every 0.4 s: never idle for request_timeout, but slower in all
            for _ in range(8):
                time.sleep(0.4)
                slow.sendall(b"1\r\n \r\n")
        except OSError:
            pass
        got, closed = self.read_to_eof(slow, 5)
        slow.close()
        self.assertTrue(closed and b"200 OK" not in got, got[:200])
        logs = g.stderr()
        self.assertIn("streamed console body over its limit; connection closed", logs)
        self.assertIn("request_timeout: body too slow; connection closed", logs)
        # the listener still signs in
        self.assertEqual(hg.curl(g.url("/api/login", i=1), json.dumps({"token": TOKEN}).encode()).status, 200)

    def test_cross_site_sign_ins_refused_and_not_counted(self):
        """A page on another site can post to /api/login without a preflight
        (a form, a no-cors fetch); its browser says so (Sec-Fetch-Site).  Such
        posts are refused on their headers and do not count against the
        address, so they cannot lock the operator out."""
        g = self.start()
        for site in ["cross-site"] * 12 + ["same-site"]:
            r = hg.curl(g.url("/api/login", i=1), json.dumps({"token": "wrong-token-000000"}).encode(),
                        {"Content-Type": "text/plain", "Sec-Fetch-Site": site})
            self.assertEqual(r.status, 403, r.body)
            self.assertIn("another site", r.body)
        # the page itself (same-origin) and scripts (no header) sign in
        r = hg.curl(g.url("/api/login", i=1), json.dumps({"token": TOKEN}).encode(),
                    {"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(hg.curl(g.url("/api/login", i=1), json.dumps({"token": TOKEN}).encode()).status, 200)

    def test_unauthenticated_post_refused_before_its_body(self):
        """A POST to /api/ is refused on its headers: 401 at once for one without
        credentials that announces 50 MB and sends 2 bytes, and the connection is
        closed instead of being held to read the rest; the body limits still hold
        for a sign-in (4 KiB) and for an authenticated request (64 KiB)."""
        g = self.start()
        cases = [("/api/events/1/replay", "", 401),
                 ("/api/events/1/replay", "Authorization: Bearer wrong-token-0000000\r\n", 401),
                 ("/api/login", "", 413),
                 ("/api/events/1/replay", f"Authorization: Bearer {TOKEN}\r\n", 413)]
        for path, auth, want in cases:
            s = socket.create_connection(("127.0.0.1", g.ports[1]), timeout=10)
            t0 = time.time()
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
                      f"Content-Length: {50 << 20}\r\n\r\n{{}}".encode())
            got, closed = self.read_to_eof(s, 5)
            s.close()
            self.assertTrue(got.startswith(f"HTTP/1.1 {want} ".encode()), (path, auth, got[:300]))
            self.assertTrue(closed, f"POST {path}: the connection is held open to read the body")
            self.assertLess(time.time() - t0, 5)
        # an authenticated body over 64 KiB: 413 when its Content-Length says
        # so; streamed (chunked), the connection is closed once it passes the
        # limit, as a route's is - never read to its end
        big = b'{"sink":"' + b"x" * (70 << 10) + b'"}'
        self.assertEqual(self.api(g, "/api/events/1/replay", big).status, 413)
        self.assertEqual(self.api(g, "/api/events/1/replay", big, headers={"Transfer-Encoding": "chunked"}).status,
                         0)
        self.assertIn("streamed console body over its limit; connection closed", g.stderr())
        self.assertEqual(self.api(g, "/api/send-test", {"route": "gen"}).status, 200)  # still served
        self.no_secrets(g.stderr())

    # ---- events ----

    def test_list_filters_and_paging(self):
        g = self.start()
        seqs = [self.send(g, f"evt_{i}", "invoice.paid" if i % 2 else "charge.done") for i in range(12)]
        mid = time.time()
        time.sleep(1.1)
        late = self.send(g, "evt_late", "invoice.void")
        g.wait_events(13)
        ev = self.api(g, "/api/events").json()["events"]
        self.assertEqual([e["seq"] for e in ev], [late] + seqs[::-1])
        r = self.api(g, "/api/events?limit=5").json()
        self.assertEqual(len(r["events"]), 5)
        r2 = self.api(g, f"/api/events?limit=5&before={r['next_before']}").json()
        self.assertEqual([e["seq"] for e in r2["events"]], seqs[::-1][4:9])
        self.assertEqual({e["type"] for e in self.api(g, "/api/events?type=invoice.paid").json()["events"]},
                         {"invoice.paid"})
        self.assertEqual(len(self.api(g, "/api/events?type=invoice.*").json()["events"]), 7)
        self.assertEqual([e["id"] for e in self.api(g, "/api/events?id=evt_3").json()["events"]], ["evt_3"])
        self.assertEqual(self.api(g, "/api/events?id=nope").json()["events"], [])
        self.assertEqual(self.api(g, "/api/events?route=gen").json()["events"][0]["seq"], late)
        self.assertEqual(self.api(g, "/api/events?route=locked").json()["events"], [])
        since = self.api(g, f"/api/events?since={int(mid) + 1}").json()["events"]
        self.assertEqual([e["seq"] for e in since], [late])
        until = self.api(g, f"/api/events?until={int(mid) + 1}").json()["events"]
        self.assertNotIn(late, [e["seq"] for e in until])
        self.assertEqual(len(until), 12)
        hg.wait_for(lambda: all(e["sinks"].get("out") == "delivered"
                                for e in self.api(g, "/api/events").json()["events"]))
        self.assertEqual(len(self.api(g, "/api/events?state=delivered").json()["events"]), 13)
        self.assertEqual(self.api(g, "/api/events?state=pending").json()["events"], [])
        self.assertEqual(self.api(g, "/api/events?state=bogus").status, 400)
        self.assertEqual(self.api(g, "/api/events?since=yesterday").status, 400)

    def test_event_page_masks_headers_and_serves_raw(self):
        g = self.start()
        seq = self.send(g, "evt_page", extra={"big": "x" * 100})
        r = self.api(g, f"/api/events/{seq}")
        self.assertEqual(r.status, 200)
        e = r.json()
        self.assertEqual(e["id"], "evt_page")
        self.assertEqual(e["envelope"]["data"]["big"], "x" * 100)
        self.assertEqual(e["envelope"]["hookgateseq"], seq)
        h = {k.lower(): v for k, v in e["headers"]}
        self.assertEqual(h["x-webhook-signature"], "***")
        self.assertEqual(h["authorization"], "***")
        self.assertEqual(h["content-type"], "application/json")
        self.no_secrets(r.body)
        self.assertEqual(e["sinks"][0]["name"], "out")
        raw = self.api(g, e["raw"])
        self.assertEqual(raw.status, 200)
        self.assertEqual(raw.headers["content-type"], "application/octet-stream")
        self.assertIn("attachment", raw.headers["content-disposition"])
        self.assertEqual(json.loads(raw.body)["id"], "evt_page")
        self.assertEqual(self.api(g, "/api/events/999").status, 404)
        # credentials under other names, and a forwarded URL that may carry a path token
        body = json.dumps({"id": "evt_names", "type": "t"})
        extra = {"X-AuthToken": "tok-aaaa-1111", "X-Authorization": "Bearer tok-bbbb-2222",
                 "X-Secrets": "tok-cccc-3333", "X-Airtable-Content-MAC": "tok-dddd-4444",
                 "X-Forwarded-Uri": "/hooks/generic/tok-eeee-5555", "X-Request-Id": "req-visible-1"}
        r = hg.curl(g.url("/hooks/generic"), body.encode(),
                    dict({"Content-Type": "application/json", "X-Webhook-Signature": sig(body)}, **extra))
        page = self.api(g, f"/api/events/{r.json()['seq']}")
        h = {k.lower(): v for k, v in page.json()["headers"]}
        for name in extra:
            self.assertEqual(h[name.lower()], "req-visible-1" if name == "X-Request-Id" else "***", name)
        self.assertNotIn("tok-", page.body)

    def test_replay_delivers_again_and_counts_attempts(self):
        g = self.start()
        seq = self.send(g, "evt_replay")
        g.wait_events(1)
        before = self.api(g, f"/api/events/{seq}").json()["sinks"][0]
        self.assertEqual(before["state"], "delivered")
        r = self.api(g, f"/api/events/{seq}/replay", {"sink": "out"})
        self.assertEqual(r.status, 202, r.body)
        self.assertEqual(r.json()["replayed"], ["out"])
        ev = g.wait_events(2)
        self.assertEqual([e["id"] for e in ev], ["evt_replay", "evt_replay"])
        after = hg.wait_for(lambda: self.api(g, f"/api/events/{seq}").json()["sinks"][0]["attempts"] > 1 and
                            self.api(g, f"/api/events/{seq}").json()["sinks"][0])
        self.assertEqual(after["attempts"], before["attempts"] + 1)
        self.assertEqual(self.api(g, f"/api/events/{seq}/replay", {"sink": "nope"}).status, 400)
        self.assertEqual(self.api(g, "/api/events/999/replay", {}).status, 404)

    def test_dead_letters_replayed_from_the_sinks_api(self):
        flag = os.path.join(self.tmp, "fail")
        open(flag, "w").close()
        script = f'cat >/dev/null; test ! -e "{flag}"'
        g = self.start(sinks={"ex": {"type": "exec", "command": ["/bin/sh", "-c", script]}},
                       retry={"initial": "50ms", "max": "100ms", "max_attempts": 2})
        seq = self.send(g, "evt_dead")
        dead = hg.wait_for(lambda: self.api(g, "/api/sinks/ex/dead").json()["dead"])
        self.assertEqual([d["seq"] for d in dead], [seq])
        self.assertEqual(dead[0]["attempts"], 2)
        page = self.api(g, f"/api/events/{seq}").json()
        ex = [s for s in page["sinks"] if s["name"] == "ex"][0]
        self.assertEqual(ex["state"], "dead")
        self.assertEqual(ex["attempts"], 2)
        self.assertEqual(self.api(g, "/api/events?state=dead").json()["events"][0]["seq"], seq)
        sinks = {s["name"]: s for s in self.api(g, "/api/sinks").json()["sinks"]}
        self.assertEqual(sinks["ex"]["dead"], 1)
        self.assertIs(sinks["ex"]["dead_more"], False)
        self.assertGreaterEqual(sinks["ex"]["failed"], 2)
        os.unlink(flag)
        r = self.api(g, "/api/sinks/ex/replay", {"seqs": [seq]})
        self.assertEqual(r.status, 202, r.body)
        self.assertTrue(hg.wait_for(lambda: self.api(g, "/api/sinks/ex/dead").json()["dead"] == []))
        self.assertEqual(self.api(g, "/api/sinks/ex/replay", {"what": 1}).status, 400)

    def test_dead_letter_count_stops_at_ten_thousand(self):
        # /api/sinks walks a sink's dead letters to count them (the page
        # asks every 10 s): at most 10,000, then "dead_more" says there are
        # more, however many a long outage left
        g = self.start(sinks={"down": {"type": "http", "url": "http://127.0.0.1:9/"}},
                       retry={"initial": "50ms", "max": "50ms", "max_attempts": 1})
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", int(g.url("/").split(":")[2].split("/")[0]),
                                          timeout=30)
        for i in range(10001):
            body = json.dumps({"id": "many-%05d" % i, "type": "invoice.paid"})
            conn.request("POST", "/hooks/generic", body, {
                "Content-Type": "application/json", "X-Webhook-Signature": sig(body),
                "Authorization": "Bearer producer-api-key-777"})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        conn.close()

        def down():
            return {s["name"]: s for s in self.api(g, "/api/sinks").json()["sinks"]}["down"]
        d = hg.wait_for(lambda: down()["dead_more"] and down(), timeout=240)
        self.assertEqual(d["dead"], 10000)
        listed = self.api(g, "/api/sinks/down/dead?limit=5").json()["dead"]
        self.assertEqual([x["seq"] for x in listed], [1, 2, 3, 4, 5])

    def test_replays_queued_together_each_apply_once(self):
        # several one-event replays and a dead-letter replay queued before
        # the sink polls: each applies once (a request marked done stays in
        # the table until the checkpointer deletes it), and the one-event
        # replays still waiting are not dropped by the dead-letter replay
        flag = os.path.join(self.tmp, "fail")
        out = os.path.join(self.tmp, "got")
        open(flag, "w").close()
        script = f'e=$(cat); test ! -e "{flag}" && printf "%s\\n" "$e" >> "{out}"'
        g = self.start(sinks={"ex": {"type": "exec", "command": ["/bin/sh", "-c", script]}},
                       retry={"initial": "50ms", "max": "100ms", "max_attempts": 2})
        dead = self.send(g, "evt_dead_1")
        self.assertEqual([d["seq"] for d in hg.wait_for(lambda: self.api(g, "/api/sinks/ex/dead").json()["dead"])],
                         [dead])
        os.unlink(flag)
        ok = self.send(g, "evt_ok_1")

        def got():
            try:
                with open(out) as f:
                    return [json.loads(line)["id"] for line in f if line.strip()]
            except FileNotFoundError:
                return []
        self.assertEqual(hg.wait_for(lambda: got()), ["evt_ok_1"])
        for _ in range(5):
            self.assertEqual(self.api(g, f"/api/events/{ok}/replay", {"sink": "ex"}).status, 202)
        self.assertEqual(self.api(g, "/api/sinks/ex/replay", {"dead": True}).status, 202)
        hg.wait_for(lambda: got().count("evt_ok_1") >= 6 and "evt_dead_1" in got() and
                    self.api(g, "/api/sinks/ex/dead").json()["dead"] == [])
        time.sleep(1.5)  # three more polls: a request applied twice would show now
        final = got()
        self.assertEqual(final.count("evt_ok_1"), 6, final)
        self.assertEqual(final.count("evt_dead_1"), 1, final)
        self.assertEqual(self.api(g, "/api/sinks/ex/dead").json()["dead"], [])

    # ---- rejections ----

    def rejected(self, g, n=1, **q):
        qs = "&".join(f"{k}={v}" for k, v in q.items())
        return hg.wait_for(lambda: len(self.api(g, "/api/rejected?" + qs).json()["rejected"]) >= n and
                           self.api(g, "/api/rejected?" + qs).json()["rejected"])

    def test_rejection_reasons_masked_and_no_body_by_default(self):
        g = self.start()
        body = json.dumps({"id": "evt_bad", "type": "t"})
        wrong = sig(body, "not-the-secret")
        cases = [
            ({"Content-Type": "application/json", "X-Webhook-Signature": wrong}, body, "/hooks/generic", 401,
             ["match", f"{len(body)} bytes", "application/json"]),
            ({"Content-Type": "application/json", "X-Signature": wrong}, body, "/hooks/generic", 401,
             ["X-Webhook-Signature", "missing"]),
            ({"Content-Type": "application/json", "X-Webhook-Signature": sig("not json")}, "not json",
             "/hooks/generic", 400, ["JSON"]),
            ({"Content-Type": "application/json", "X-Webhook-Signature": sig(body)}, body, "/hooks/locked", 403,
             ["127.0.0.1", "allow"]),
            (hg.iex_headers("iex-new-secret", body.encode(), "evt_old", "t", ts=int(time.time()) - 900), body,
             "/hooks/iex", 401, ["timestamp", "s older than the route's 300 s tolerance"]),
        ]
        for h, b, path, status, words in cases:
            r = hg.curl(g.url(path), b.encode(), h)
            self.assertEqual(r.status, status, (path, r.body))
        got = self.rejected(g, len(cases))
        self.assertEqual(len(got), len(cases))
        for (h, b, path, status, words), rj in zip(cases, reversed(got)):
            self.assertEqual(rj["status"], status)
            self.assertEqual(rj["path"], path)
            self.assertEqual(rj["client"], "127.0.0.1")
            for w in words:
                self.assertIn(w, rj["reason"], rj)
            self.assertNotIn("body", rj)
            self.assertNotIn("body_base64", rj)
            for name, value in rj["headers"]:
                if "signature" in name.lower():
                    self.assertEqual(value, "***")
        text = self.api(g, "/api/rejected").body
        self.assertNotIn(wrong.split("=", 1)[1], text)
        self.assertNotIn(sig(body).split("=", 1)[1], text)
        self.no_secrets(text)
        # the same reasons in the log and in `hookgate events rejected`
        logged = [l.get("detail") for l in g.logs() if l.get("msg") == "request rejected"]
        for rj in got:
            self.assertIn(rj["reason"], logged)
        p = subprocess.run([hg.BIN, "events", "rejected", "--data", os.path.join(self.tmp, "data")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        for rj in got:
            self.assertIn(rj["reason"], p.stdout)
        self.assertEqual(self.api(g, "/api/rejected?status=403").json()["rejected"][0]["route"], "locked")
        self.assertEqual(len(self.api(g, "/api/rejected?route=gen").json()["rejected"]), 3)

    def test_rejected_filter_scans_a_bounded_number_per_call(self):
        """A filtered /api/rejected parses every entry it passes over: at most
        20,000 a call, then next_before says where to go on (it walked the
        whole ring, up to rejected_max, in one request)."""
        g = self.start(rejected_max=30000)
        port = int(g.url("/").split(":")[2].split("/")[0])
        req = (b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"X-Webhook-Signature: sha256=00\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")

        def burst(n):
            for _ in range(n):
                hg.raw_exchange(port, req, timeout=10)
        def top_id():
            j = self.api(g, "/api/rejected?limit=1").json()
            return j["rejected"][0]["id"] if j["rejected"] else 0
        # in four rounds, each left to reach the ring (the checkpointer writes
        # it; what waits for it is bounded, the rest counted as dropped)
        for _ in range(4):
            ths = [threading.Thread(target=burst, args=(900,)) for _ in range(8)]
            for t in ths:
                t.start()
            for t in ths:
                t.join()
            seen = [top_id()]

            def settled():
                time.sleep(0.5)
                seen.append(top_id())
                return seen[-1] == seen[-2] and seen[-1] > 0
            hg.wait_for(settled, timeout=60)
        top = seen[-1]
        self.assertGreater(top, 20000)
        page = self.api(g, "/api/rejected?route=locked&limit=5").json()  # no entry matches
        self.assertEqual(page["rejected"], [])
        self.assertEqual(page["next_before"], top - 20000 + 1)
        rest = self.api(g, f"/api/rejected?route=locked&limit=5&before={page['next_before']}").json()
        self.assertEqual(rest["rejected"], [])
        self.assertIsNone(rest["next_before"])  # the rest of the ring, under the limit

    def test_rejected_body_kept_when_the_route_opts_in(self):
        g = self.start(keep_bodies=True)
        body = json.dumps({"id": "evt_keep", "type": "t"})
        r = hg.curl(g.url("/hooks/generic"), body.encode(), {"Content-Type": "application/json",
                                                             "X-Webhook-Signature": sig(body, "wrong-secret")})
        self.assertEqual(r.status, 401)
        binary = b"\xff\xfe\x00binary"
        hg.curl(g.url("/hooks/generic"), binary, {"X-Webhook-Signature": "sha256=00"})
        got = self.rejected(g, 2)
        self.assertEqual(got[1]["body"], body)
        self.assertEqual(got[0]["body_base64"], __import__("base64").b64encode(binary).decode())

    def test_ring_bound_holds_under_a_flood_while_events_are_accepted(self):
        g = self.start(rejected_max=50)
        stop = threading.Event()
        codes = []

        def flood():
            s = socket.create_connection(("127.0.0.1", g.ports[0]))
            req = (b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"X-Webhook-Signature: sha256=00\r\nContent-Length: 2\r\n\r\n{}")
            f = s.makefile("rb")
            while not stop.is_set():
                s.sendall(req)
                line = f.readline()
                while f.readline() not in (b"\r\n", b""):
                    pass
                codes.append(int(line.split()[1]))
                f.read(len(b'{"error":"invalid signature"}\n'))
            s.close()

        ts = [threading.Thread(target=flood) for _ in range(4)]
        for t in ts:
            t.start()
        try:
            seqs = [self.send(g, f"evt_flood_{i}") for i in range(20)]
        finally:
            hg.wait_for(lambda: len(codes) > 500, timeout=60)
            stop.set()
            for t in ts:
                t.join()
        self.assertEqual(len(seqs), 20)
        self.assertEqual(set(codes), {401})
        # the checkpointer trims the ring with its next write
        time.sleep(2.5)
        hg.curl(g.url("/hooks/generic"), b"{}", {"X-Webhook-Signature": "sha256=00"})
        got = hg.wait_for(lambda: (lambda r: len(r) <= 50 and r)(
            self.api(g, "/api/rejected?limit=200").json()["rejected"]), timeout=30)
        self.assertTrue(got)
        self.assertLessEqual(len(got), 50)
        ids = [r["id"] for r in got]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertGreater(ids[0], 500)  # the newest are the ones kept
        self.assertEqual(len(g.wait_events(20)), 20)

    # ---- sinks, routes, history ----

    def test_sinks_routes_and_history(self):
        g = self.start()
        self.send(g, "evt_s1")
        self.send(g, "evt_s1")  # a duplicate
        hg.curl(g.url("/hooks/generic"), b"{}", {"X-Webhook-Signature": "sha256=00"})
        g.wait_events(1)
        r = hg.wait_for(lambda: (lambda j: j["sinks"][0]["delivered"] >= 1 and j)(
            self.api(g, "/api/sinks").json()))
        out = r["sinks"][0]
        self.assertEqual((out["name"], out["type"], out["backlog"], out["dead"]), ("out", "stdout", 0, 0))
        self.assertIsNone(out["retrying"])
        gen = [x for x in r["routes"] if x["name"] == "gen"][0]
        self.assertEqual((gen["accepted"], gen["duplicate"], gen["rejected"]), (1, 1, 1))
        self.assertEqual(gen["sinks"], ["out"])
        for k in ("rate", "duplicate_rate", "rejected_rate"):
            self.assertIsInstance(gen[k], (int, float))
        h = self.api(g, "/api/history").json()
        self.assertEqual(h["step_s"], 10)
        self.assertEqual(len(h["commit_p99_ms"]), 360)
        self.assertEqual(len(h["routes"]["gen"]), 360)
        self.assertEqual(len(h["backlog"]["out"]), 360)

    # ---- live tail ----

    def test_stream_sends_new_events_and_resumes(self):
        g = self.start()
        first = self.send(g, "evt_before")
        s = socket.create_connection(("127.0.0.1", g.ports[1]), timeout=20)
        s.sendall(f"GET /api/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                  f"Last-Event-ID: {first - 1}\r\n\r\n".encode())
        f = s.makefile("rb")
        self.assertIn(b"200", f.readline())
        seq = self.send(g, "evt_live")
        hg.curl(g.url("/hooks/generic"), b"{}", {"X-Webhook-Signature": "sha256=00"})
        seen, rej = [], []
        deadline = time.time() + 20
        while time.time() < deadline and (len(seen) < 2 or not rej):
            line = f.readline()
            if line.startswith(b"data: {") or b'"seq":' in line:
                d = json.loads(line.split(b"data: ", 1)[1]) if b"data: " in line else None
                if d and "seq" in d:
                    seen.append(d["seq"])
                elif d and "reason" in d:
                    rej.append(d)
        s.close()
        self.assertEqual(seen[:2], [first, seq])  # the one before (Last-Event-ID) and the new one
        self.assertEqual(rej[0]["status"], 401)
        self.assertIn("reason", rej[0])

    def test_stream_ends_at_sign_out(self):
        """A live tail opened with the session cookie ends (cleanly: the chunked
        answer's last chunk, then the connection closes) when that session signs
        out, and sends nothing after."""
        g = self.start()
        jar = os.path.join(self.tmp, "jar")
        r = self.login(g, jar)
        self.assertEqual(r.status, 200, r.body)
        csrf = r.json()["csrf"]
        cookie = re.search(r"hg_session=([0-9a-f]+)", r.headers["set-cookie"]).group(1)
        s, _ = self.open_stream(g, f"Cookie: hg_session={cookie}")
        self.send(g, "evt_while_signed_in")
        self.read_until(s, lambda b: b'"id":"evt_while_signed_in"' in b)
        r = hg.curl(g.url("/api/logout", i=1), b"{}", {"X-CSRF-Token": csrf}, extra=["-b", jar])
        self.assertEqual(r.status, 200, r.body)
        self.send(g, "evt_after_sign_out")
        rest, closed = self.read_to_eof(s, 10)
        s.close()
        self.assertTrue(closed, f"the stream is still open after the sign-out; it sent {rest[-300:]!r}")
        self.assertNotIn(b"evt_after_sign_out", rest)
        self.assertNotIn(b"event:", rest)
        self.assertTrue(rest.endswith(b"0\r\n\r\n"), rest[-100:])  # ended, not cut
        r = hg.curl(g.url("/api/stream", i=1), extra=["-b", "hg_session=" + cookie])
        self.assertEqual(r.status, 401)

    def test_stream_ends_when_the_token_changes(self):
        """A live tail opened with a bearer token ends when a reload changes
        admin.token; the new token opens one."""
        cfg = self.config(listen=[{"address": "127.0.0.1:0"}, {"address": "127.0.0.1:0", "admin": True}])
        cfg["admin"] = {"token": "env:HG_ADMIN_TOKEN"}
        g = self.gateway(cfg, env={"HG_ADMIN_TOKEN": TOKEN, "HG_ADMIN_TOKEN_2": TOKEN2})
        s, _ = self.open_stream(g, f"Authorization: Bearer {TOKEN}")
        with open(g.cfg_path) as f:
            cfg = json.load(f)
        cfg["admin"]["token"] = "env:HG_ADMIN_TOKEN_2"
        with open(g.cfg_path, "w") as f:
            json.dump(cfg, f)
        g.proc.send_signal(signal.SIGHUP)
        self.assertTrue(hg.wait_for(lambda: [l for l in g.logs() if l.get("msg") == "reload: applied"]),
                        g.stderr()[-2000:])
        self.send(g, "evt_after_reload")
        rest, closed = self.read_to_eof(s, 10)
        s.close()
        self.assertTrue(closed, f"the stream is still open after the token changed; it sent {rest[-300:]!r}")
        self.assertNotIn(b"event:", rest)
        self.assertTrue(rest.endswith(b"0\r\n\r\n"), rest[-100:])
        self.assertEqual(self.api(g, "/api/stream").status, 401)
        s, _ = self.open_stream(g, f"Authorization: Bearer {TOKEN2}")
        s.close()

    # ---- send a test event ----

    def test_send_test_event(self):
        g = self.start()
        routes = {r["name"]: r for r in self.api(g, "/api/routes").json()["routes"]}
        self.assertTrue(routes["gen"]["can_send_test"])
        r = self.api(g, "/api/send-test", {"route": "gen", "type": "console.check"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], 200)
        seq = r.json()["answer"]["seq"]
        ev = g.wait_events(1)
        self.assertEqual(ev[0]["type"], "console.check")
        self.assertEqual(self.api(g, f"/api/events/{seq}").json()["type"], "console.check")
        self.no_secrets(r.body)
        self.assertEqual(self.api(g, "/api/send-test", {"route": "nope"}).status, 400)
        # the allow list applies to test events too: refused, and said so
        r = self.api(g, "/api/send-test", {"route": "locked"})
        self.assertEqual(r.json()["status"], 403)


class ConsoleTLSTest(hg.GatewayTest):
    """The cookie is Secure on an HTTPS admin listener; tls.client_ca on the
    admin listener applies to the console."""

    def test_console_behind_client_certificates(self):
        from test_ops import make_pki
        pki = make_pki(self.tmp)
        cfg = self.config(listen=[{"address": "127.0.0.1:0"},
                                  {"address": "127.0.0.1:0", "admin": True,
                                   "tls": {"cert": pki["server"], "key": pki["server_key"], "client_ca": pki["ca"]}}])
        cfg["admin"] = {"token": "env:HG_ADMIN_TOKEN"}
        g = self.gateway(cfg, env={"HG_ADMIN_TOKEN": TOKEN})
        url, auth = g.url("/api/events", i=1, scheme="https"), {"Authorization": "Bearer " + TOKEN}
        self.assertEqual(hg.curl(url, headers=auth, cacert=pki["server"]).status, 403)  # the token is not enough
        self.assertEqual(hg.curl(g.url("/ui/", i=1, scheme="https"), cacert=pki["server"]).status, 403)
        r = hg.curl(url, headers=auth, cacert=pki["server"], extra=["--cert", pki["rogue"], "--key", pki["rogue_key"]])
        self.assertEqual(r.status, 403)
        r = hg.curl(url, headers=auth, cacert=pki["server"], extra=["--cert", pki["client"], "--key", pki["client_key"]])
        self.assertEqual(r.status, 200, r.body)
        r = hg.curl(url, cacert=pki["server"], extra=["--cert", pki["client"], "--key", pki["client_key"]])
        self.assertEqual(r.status, 401)  # and the certificate is not enough either

    def test_cookie_secure_over_tls(self):
        cert, key = hg.make_cert(self.tmp)
        cfg = self.config(listen=[{"address": "127.0.0.1:0"},
                                  {"address": "127.0.0.1:0", "admin": True, "tls": {"cert": cert, "key": key}}])
        cfg["admin"] = {"token": "env:HG_ADMIN_TOKEN"}
        g = self.gateway(cfg, env={"HG_ADMIN_TOKEN": TOKEN})
        r = hg.curl(g.url("/api/login", i=1, scheme="https"), json.dumps({"token": TOKEN}).encode(),
                    cacert=cert)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("Secure", r.headers["set-cookie"])


if __name__ == "__main__":
    hg.main()
