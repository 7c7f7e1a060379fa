"""Hostile clients (issue 8, item 4): idle connection floods, slowloris
headers, trickled bodies, oversized headers, Content-Length lies, chunked
bodies past max_body, pipelined garbage, invalid UTF-8 and NUL bytes.

Every case talks to the real gateway over raw loopback sockets (TLS for the
cases in TransportCases, which run over both HTTP and HTTPS) and checks:
- the attack gets a 4xx, or its connection is closed by the server (a
  timeout, or libmicrohttpd refusing the framing); never a 2xx;
- the log line the gateway writes about it, where it writes one;
- nothing is stored: the stdout sink and `hookgate events list --data DIR`
  show exactly the events of the valid producer;
- a valid signed producer request sent while the attack is under way (the
  attacking connection still open) gets its 200.

Waits are bounded with generous deadlines; nothing asserts how fast an
answer comes. The idle-connection case raises RLIMIT_NOFILE for this process
(the gateway inherits it); HG_HOSTILE_IDLE sets its connection count (10000).
Memory figures for 1,000 and 10,000 idle connections: tests/bench/idle_rss.py.

The one test marked expectedFailure reproduces a known limit of Debian 12's
libmicrohttpd 0.9.75 (README, "Known limit: NUL bytes in header values"): it
fails today, and an unexpected success fails the run so that the mark gets
removed when the library is fixed.  The defects this file found in the
gateway itself (slow headers never cut, a stalled body not logged, no way
past a full connection table) are fixed and their tests are regressions.
"""
import json
import os
import resource
import select
import socket
import ssl
import subprocess
import time
import unittest

import hg

SECRET = hg.ENV["T_SECRET"]
IEX_SECRET = hg.ENV["T_NEW"]
IDLE_CONNS = int(os.environ.get("HG_HOSTILE_IDLE", "10000"))
RSS_GOAL_KB = 64 * 1024  # issue 8: <= 64 MiB at 1,000 idle keep-alive connections


def valid_body(eid):
    return json.dumps({"id": eid, "type": "hostile.valid", "n": 1}).encode()


def request(body, headers=(), sig=None, close=True, cl=None, path=b"/hooks/generic", signed=True):
    """A generic-profile POST: body signed with the route's secret (or sig as
    given), extra header lines (bytes, without CRLF), Content-Length cl (the
    body's length unless given; False: none)."""
    lines = [b"POST " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Content-Type: application/json"]
    if signed:
        lines.append(b"X-Webhook-Signature: " + (sig if sig is not None else hg.sign_generic(SECRET, body).encode()))
    lines += list(headers)
    if cl is not False:
        lines.append(b"Content-Length: " + str(len(body) if cl is None else cl).encode())
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def iex_request(body, eid, etype="hostile.iex", headers=None):
    h = hg.iex_headers(IEX_SECRET, body, eid, etype)
    h.update(headers or {})
    lines = [b"POST /hooks/iex HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [k.encode() + b": " + (v if isinstance(v, bytes) else v.encode()) for k, v in h.items()]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class HostileBase(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.valid = []  # ids the valid producer got a 200 for
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        # nothing a client sent may crash the gateway or trip a sanitizer
        crashed = [f"exit {g.proc.returncode}" for g in self.gws if g.proc and g.proc.poll() is not None]
        reports = [l for g in self.gws if os.path.exists(g.err_path) for l in g.stderr().splitlines()
                   if "Sanitizer" in l or "runtime error:" in l]
        super().tearDown()
        self.assertEqual(crashed, [], "the gateway exited during the test")
        self.assertEqual(reports[:5], [], "sanitizer reports on the gateway's stderr")

    def start(self, threads=None, **limits):
        cfg = self.config(limits=limits, **({"threads": threads} if threads else {}))
        return self.gateway(cfg)

    def client(self, g, timeout=30):
        c = hg.RawClient(self.connect(g, timeout=timeout))
        self.clients.append(c)
        return c

    def producer(self, g, eid):
        """A valid signed event on its own connection while an attack runs:
        it must be answered 200 accepted."""
        c = self.client(g)
        self.assertTrue(c.send(request(valid_body(eid))))
        r = c.response(timeout=60)
        self.assertIsNotNone(r, f"the valid producer ({eid}) got no answer")
        self.assertEqual(r[0], 200, r)
        self.assertEqual(json.loads(r[2])["status"], "accepted", r)
        self.valid.append(eid)
        c.close()

    def rejections(self, g, **match):
        return [l for l in g.logs() if l.get("msg") == "request rejected"
                and all(l.get(k) == v for k, v in match.items())]

    def wait_rejection(self, g, **match):
        return hg.wait_for(lambda: self.rejections(g, **match), timeout=20)

    def http_logs(self, g, text):
        """libmicrohttpd's own error lines, relayed as {"msg":"http","detail":…}."""
        return [l for l in g.logs() if l.get("msg") == "http" and text in l.get("detail", "")]

    def wait_http_log(self, g, text):
        return hg.wait_for(lambda: self.http_logs(g, text), timeout=20)

    def assert_only_valid_stored(self, g, extra=()):
        """The stdout sink and the store hold exactly the valid producer's
        events (and extra: ids the test sent validly itself)."""
        want = sorted(self.valid + list(extra))
        ev = g.wait_events(len(want))
        self.assertEqual(sorted(e["id"] for e in ev), want, "stdout sink")
        p = subprocess.run([hg.BIN, "events", "list", "--data", os.path.join(self.tmp, "data"), "--limit", "100000"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        ids = sorted(line.split("\t")[3] for line in p.stdout.splitlines()[1:] if line.strip())
        self.assertEqual(ids, want, "hookgate events list")

    def assert_no_2xx(self, c):
        self.assertNotRegex(c.buf[:12], rb"^HTTP/1\.[01] 2", c.buf[:300])


class TransportCases:
    """Cases run over plain HTTP and over TLS."""

    def test_body_at_one_byte_per_second_is_cut_off(self):
        """A signed body sent one byte a second with request_timeout 2 s:
        the gateway closes the connection (no answer) and logs it."""
        g = self.start(request_timeout="2s")
        body = valid_body("slow-body")
        c = self.client(g)
        self.assertTrue(c.send(request(body)[:-len(body)]))
        sent = 0
        for i in range(len(body) - 1):  # one byte a second, far past request_timeout
            if not c.send(body[i:i + 1]):
                break
            sent += 1
            if i == 1:
                self.producer(g, "valid-during-slow-body")
            if c.closed_by_server(1.0):
                break
        self.assertTrue(c.closed_by_server(10), "a body at 1 byte/s kept its connection past request_timeout")
        self.assertLess(sent, len(body) - 1, "the connection lasted until the client ran out of bytes")
        self.assertEqual(c.buf, b"", "the server should close without an answer")
        self.assertTrue(self.wait_rejection(g, reason="request_timeout: body too slow; connection closed"))
        self.assert_only_valid_stored(g)

    def test_oversized_headers_get_431(self):
        """Headers over the connection's memory (2 x max_header_size):
        libmicrohttpd's 431, a log line, connection closed. One huge header
        and many small ones."""
        g = self.start(max_header_size="16KiB")
        cases = {"one header of 64 KiB": b"X-Pad: " + b"a" * (64 << 10),
                 "3000 headers": b"\r\n".join(b"X-Pad-%d: %s" % (i, b"b" * 16) for i in range(3000))}
        for n, (name, pad) in enumerate(cases.items()):
            with self.subTest(name):
                c = self.client(g)
                req = request(valid_body(f"big-header-{n}"), headers=[pad])
                half = len(req) // 2
                c.send(req[:half])
                self.producer(g, f"valid-during-big-header-{n}")
                c.send(req[half:])
                r = c.response(timeout=30)
                self.assertIsNotNone(r, "no answer to oversized headers")
                self.assertEqual(r[0], 431, r[:2])
                self.assertTrue(c.closed_by_server(30), "connection left open after 431")
        self.assertTrue(hg.wait_for(lambda: len(self.http_logs(g, "HTTP response code is 431")) >= 2, 20))
        self.assert_only_valid_stored(g)

    def test_chunked_body_past_max_body_is_closed(self):
        """A chunked body without Content-Length: within max_body it is an
        event; past max_body the connection is closed (libmicrohttpd cannot
        answer in the middle of an upload; README) with a 413 log line."""
        g = self.start(max_body="4KiB")

        def chunked(body, size=1024):
            out = b""
            for i in range(0, len(body), size):
                part = body[i:i + size]
                out += b"%x\r\n" % len(part) + part + b"\r\n"
            return out + b"0\r\n\r\n"

        small = json.dumps({"id": "chunked-small", "pad": "s" * 2000}).encode()
        c = self.client(g)
        c.send(request(b"", sig=hg.sign_generic(SECRET, small).encode(), headers=[b"Transfer-Encoding: chunked"],
                       cl=False) + chunked(small))
        r = c.response()
        self.assertEqual(r[0] if r else None, 200, r)  # the framing is fine below the limit
        big = json.dumps({"id": "chunked-big", "pad": "x" * (16 << 10)}).encode()
        c = self.client(g)
        head = request(b"", sig=hg.sign_generic(SECRET, big).encode(), headers=[b"Transfer-Encoding: chunked"], cl=False)
        frames = chunked(big)
        c.send(head + frames[:2048])
        self.producer(g, "valid-during-chunked")
        c.send(frames[2048:])
        self.assertTrue(c.closed_by_server(30), "a chunked body past max_body kept its connection")
        self.assert_no_2xx(c)
        if c.buf:  # should the gateway ever answer, it must be the 413
            self.assertRegex(c.buf[:12], rb"^HTTP/1\.1 413")
        self.assertTrue(self.wait_rejection(g, status=413, reason="streamed body over max_body; connection closed"))
        self.assert_only_valid_stored(g, extra=["chunked-small"])


class Hostile(TransportCases, HostileBase):
    @classmethod
    def setUpClass(cls):
        cls.nofile = hg.raise_nofile(IDLE_CONNS + 512)

    def test_idle_connections_do_not_lock_out_a_producer(self):
        """IDLE_CONNS idle connections (1,000 after one keep-alive request,
        the rest connected with nothing sent) under max_connections: all stay
        open, and a producer still gets its 200. In a build without ASan the
        gateway's RSS at 1,000 idle keep-alive connections must be within
        the issue's goal (64 MiB). The keep-alive request is one signed POST
        sent on every connection (one event, the rest duplicates): a
        /healthz GET would not do, libmicrohttpd closes the connection after
        an answer queued on the first call.  They all come from 127.0.0.1,
        so the per-address limits are off (max_connections_per_ip 0);
        floods with the default limits are tests/e2e/test_lockout.py."""
        n = IDLE_CONNS
        if self.nofile < n + 256:
            self.skipTest(f"RLIMIT_NOFILE {self.nofile} is too low for {n} connections")
        g = self.start(max_connections=n + 256, max_connections_per_ip=0, request_timeout="120s")
        base = hg.gateway_sockets(g)
        keep = []
        shared = request(valid_body("keepalive-shared"), close=False)
        for _ in range(min(1000, n // 2)):  # one request each, then idle (HTTP/1.1 keep-alive)
            c = self.client(g)
            c.send(shared)
            keep.append(c)
        for c in keep:
            r = c.response()
            self.assertEqual(r[0] if r else None, 200)
        self.valid.append("keepalive-shared")
        self.assertTrue(hg.wait_for(lambda: hg.gateway_sockets(g) >= base + len(keep), 60))
        rss = hg.proc_status_kb(g.proc.pid, "VmRSS")
        print(f"\n  VmRSS at {len(keep)} idle keep-alive connections: {rss / 1024:.1f} MiB", end=" ")
        if len(keep) >= 1000 and not hg.sanitized_build():
            self.assertLessEqual(rss, RSS_GOAL_KB * len(keep) // 1000,
                                 f"RSS {rss} KiB at {len(keep)} idle keep-alive connections")
        bare = [self.client(g) for _ in range(n - len(keep))]
        self.assertTrue(hg.wait_for(lambda: hg.gateway_sockets(g) >= base + n, 60),
                        f"the gateway holds {hg.gateway_sockets(g) - base} of {n} connections")
        self.producer(g, "valid-among-idle")
        print(f"VmRSS at {n} idle connections: {hg.proc_status_kb(g.proc.pid, 'VmRSS') / 1024:.1f} MiB", end=" ")
        # every idle connection is still open: none was closed (a closed
        # socket would be readable)
        poll = select.poll()  # select() cannot take fds over 1023
        for c in keep + bare:
            poll.register(c.s, select.POLLIN)
        self.assertEqual(poll.poll(0), [], "idle connections under max_connections were closed")
        # and a keep-alive one can still be used
        self.assertTrue(keep[0].send(request(valid_body("valid-on-idle-keepalive"))))
        r = keep[0].response()
        self.assertEqual(r[0] if r else None, 200, r)
        self.valid.append("valid-on-idle-keepalive")
        self.assert_only_valid_stored(g)

    def test_requests_over_max_connections_get_503(self):
        """Every slot of max_connections (8) held by a request whose body is
        still coming (told 100 Continue, so past its headers; a connection
        inside a request is never closed to make room): a request on one
        more connection gets 503 + Retry-After and a log line; once they go,
        a producer gets 200.  (Idle connections cannot fill the slots any
        more: the gateway closes them to make room, test_lockout.py.)"""
        g = self.start(threads=1, max_connections=8, max_connections_per_ip=0, request_timeout="120s")
        base = hg.gateway_sockets(g)
        body = valid_body("slot-holder").ljust(100)
        holders = []
        for _ in range(8):
            h = self.client(g)
            self.assertTrue(h.send(request(body, headers=[b"Expect: 100-continue"])[:-len(body)]))
            r = h.response()
            self.assertEqual(r[0] if r else None, 100, r)
            self.assertTrue(h.send(body[:10]))
            holders.append(h)
        c = self.client(g)
        self.assertTrue(c.send(request(valid_body("over-max-connections"), close=False)))
        r = c.response()
        self.assertIsNotNone(r)
        self.assertEqual(r[0], 503, r)
        self.assertEqual(r[1].get("retry-after"), "1")
        self.assertTrue(self.wait_rejection(g, status=503, reason="max_connections reached"))
        for x in holders + [c]:
            x.close()
        self.assertTrue(hg.wait_for(lambda: hg.gateway_sockets(g) <= base, 30))
        self.producer(g, "valid-after-flood")
        self.assert_only_valid_stored(g)

    def test_connections_beyond_the_cap_are_answered(self):
        """40 connections trickling header bytes against max_connections 8
        (all from 127.0.0.1: per-address limits off).  Slots come back by
        themselves: when they run short the gateway closes idle connections
        that never completed a request, oldest first (and any trickle at
        request_timeout + 1 s), so a producer behind 40 of them gets its 200
        (regression: a trickle used to hold its slot for ever, so such a
        producer never got an answer)."""
        g = self.start(threads=1, max_connections=8, max_connections_per_ip=0, request_timeout="2s")
        base = hg.gateway_sockets(g)
        req = request(valid_body("slot-holder"))
        holders = [self.client(g) for _ in range(40)]
        c = self.client(g, timeout=90)
        c.send(request(valid_body("beyond-cap")))
        # the holders keep trickling header bytes while the producer waits
        r, i = None, 0
        deadline = time.time() + 60
        while r is None and time.time() < deadline:
            for h in holders:
                if not h.eof:
                    h.send(req[i:i + 1])
            i = min(i + 1, 40)
            r = c.response(timeout=0.3)
        self.assertIsNotNone(r, f"with {len(holders)} trickling connections, a new one got no answer")
        self.assertEqual(r[0], 200, r)
        self.valid.append("beyond-cap")
        self.assertTrue(hg.wait_for(lambda: any(
            l.get("msg", "") == "http: slots short; idle connections closed" for l in g.logs()), 10))
        for h in holders:
            h.close()
        self.assertTrue(hg.wait_for(lambda: hg.gateway_sockets(g) <= base + 4, 30))
        self.producer(g, "valid-after-holders")
        self.assert_only_valid_stored(g)

    def test_slowloris_header_gaps_past_request_timeout_close(self):
        """A header byte every 3 s with request_timeout 2 s: closed at the
        first gap (libmicrohttpd's idle timer), nothing answered; the gateway
        has no request yet, so there is no log line for it."""
        g = self.start(request_timeout="2s")
        c = self.client(g)
        req = request(valid_body("slowloris-gaps"))
        closed = False
        for i in range(10):
            if not c.send(req[i:i + 1]):
                closed = True
                break
            if i == 0:
                self.producer(g, "valid-during-slowloris-gaps")
            if c.closed_by_server(3.0):
                closed = True
                break
        self.assertTrue(closed, "slow header bytes 3 s apart outlived a 2 s request_timeout")
        self.assertEqual(c.buf, b"")
        self.assert_only_valid_stored(g)

    def test_slowloris_header_trickle_does_not_block_producers(self):
        """A header byte every 0.3 s: whatever happens to the trickle (see
        the next test), a producer gets its 200 and nothing is stored."""
        g = self.start(request_timeout="1s")
        c = self.client(g)
        req = request(valid_body("slowloris-trickle"), headers=[b"X-Pad: " + b"p" * 200])
        for i in range(10):
            if not c.send(req[i:i + 1]) or c.closed_by_server(0.3):
                break
        self.producer(g, "valid-during-slowloris")
        c.close()
        self.assert_only_valid_stored(g)

    def test_slowloris_header_trickle_is_closed_at_request_timeout(self):
        """Each header byte resets libmicrohttpd's idle timer, so the gateway
        keeps its own deadline on request headers (request_timeout + 1 s from
        the connection's start or its previous request): a trickle of one
        byte every 0.3 s with request_timeout 1 s is cut and logged
        (regression: it used to stay open for ever)."""
        g = self.start(request_timeout="1s")
        c = self.client(g)
        req = request(valid_body("slowloris-trickle"), headers=[b"X-Pad: " + b"p" * 400])
        deadline = time.time() + 12  # 12 x request_timeout
        i = 0
        while time.time() < deadline and i < len(req):
            if not c.send(req[i:i + 1]) or c.closed_by_server(0.3):
                break
            i += 1
        self.assertTrue(c.eof, f"{i} header bytes trickled over 12 s; the connection is still open")
        self.assert_no_2xx(c)
        self.assertTrue(self.wait_rejection(
            g, status=408, reason="request_timeout: request headers too slow; connection closed"))
        self.assert_only_valid_stored(g)

    def test_content_length_longer_than_body_then_idle(self):
        """Content-Length 100, 40 bytes sent, then silence: closed at
        request_timeout without an answer, nothing stored."""
        g = self.start(request_timeout="2s")
        body = valid_body("short-body").ljust(100)
        c = self.client(g)
        c.send(request(body)[:-60])
        self.producer(g, "valid-during-short-body")
        self.assertTrue(c.closed_by_server(30), "an incomplete body kept its connection past request_timeout")
        self.assertEqual(c.buf, b"")
        self.assert_only_valid_stored(g)

    def test_incomplete_body_timeout_is_logged(self):
        """A request whose body stops arriving is closed by libmicrohttpd's
        idle timer, and the gateway logs it (regression: it used to log only
        a body that kept trickling past request_timeout, not one that stops)."""
        g = self.start(request_timeout="1s")
        c = self.client(g)
        c.send(request(valid_body("stalled-body").ljust(100))[:-60])
        self.assertTrue(c.closed_by_server(30))
        self.assertTrue(hg.wait_for(lambda: self.rejections(
            g, path="/hooks/generic", reason="request_timeout: body incomplete; connection closed"), 5),
            "no log line about the stalled body")
        self.assert_only_valid_stored(g)

    def test_content_length_shorter_than_body_extra_bytes_are_a_new_request(self):
        """Bytes past the declared Content-Length are not part of the event:
        the declared body is the event, and the rest is parsed as the next
        request - garbage, so 400 and close, with libmicrohttpd's log line."""
        g = self.start(request_timeout="2s")
        body = valid_body("declared-body")
        c = self.client(g)
        c.send(request(body, close=False) + b"GARBAGE \x00\xff\r\n\r\n")
        r = c.response()
        self.assertEqual(r[0] if r else None, 200, r)
        self.valid.append("declared-body")
        self.producer(g, "valid-during-cl-lie")
        r = c.response()
        self.assertIsNotNone(r, "the trailing garbage got no answer")
        self.assertEqual(r[0], 400, r[:2])
        self.assertTrue(c.closed_by_server(30))
        self.assertTrue(self.wait_http_log(g, "HTTP response code is 400"))
        self.assertEqual(json.loads(valid_body("declared-body")),
                         [e for e in g.wait_events(2) if e["id"] == "declared-body"][0]["data"])
        self.assert_only_valid_stored(g)

    def test_content_length_over_max_body_is_413_before_the_body(self):
        """Answered from the headers alone, without sending any body byte:
        413 (gateway) or, for values libmicrohttpd cannot read as a length,
        its own 400/413; every one with a log line."""
        g = self.start(max_body="4KiB", request_timeout="2s")
        want = {b"4097": (413, "gateway"), b"1048576": (413, "gateway"),
                b"99999999999999999999999": (413, "http"), b"12abc": (400, "http"),
                b"-1": (400, "http"), b"0x10": (400, "http")}
        for n, (cl, (status, who)) in enumerate(want.items()):
            with self.subTest(cl=cl):
                before = len(g.logs())
                c = self.client(g)
                c.send(request(b"", cl=cl.decode(), close=False))
                if n == 0:
                    self.producer(g, "valid-during-cl-over-max")
                r = c.response()
                self.assertIsNotNone(r, "no answer before the body")
                self.assertEqual(r[0], status, r[:2])
                self.assertTrue(c.closed_by_server(30), "connection left open after the refusal")
                if who == "gateway":
                    self.assertEqual(r[1].get("connection"), "close")
                    self.assertTrue(hg.wait_for(lambda: [l for l in g.logs()[before:] if l.get("reason") == "Content-Length over max_body"], 10))
                else:
                    self.assertTrue(hg.wait_for(lambda: [l for l in g.logs()[before:] if l.get("msg") == "http" and f"code is {status}" in l.get("detail", "")], 10))
        self.assert_only_valid_stored(g)

    def test_pipelined_garbage_after_a_valid_request(self):
        """A valid keep-alive request followed in the same packet by garbage:
        the valid one is answered 200, the garbage never gets a 2xx and its
        connection is closed (libmicrohttpd answers 400/505 with a log line
        for a malformed request line, and closes silently on a line without
        spaces or on NUL bytes - at request_timeout for the latter)."""
        g = self.start(request_timeout="2s")
        garbage = {"bad request line": (b"GET / HTTP/1.1 x y\r\n\r\n", 400),
                   "bad version": (b"POST /hooks/generic HTTP/9.9\r\nHost: x\r\n\r\n", 505),
                   "header without colon": (b"POST /hooks/generic HTTP/1.1\r\nNoColon\r\n\r\n", 400),
                   "bad chunk size": (b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n", 400),
                   "no spaces": (b"GARBAGE\r\n\r\n", None),
                   "TLS hello on HTTP": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\xaa" * 32, None),
                   "NUL bytes": (b"\x00\x00\x00\x00\r\n\r\n", None)}
        for n, (name, (junk, status)) in enumerate(garbage.items()):
            with self.subTest(name):
                before = len(g.logs())
                eid = f"before-garbage-{n}"
                c = self.client(g)
                c.send(request(valid_body(eid), close=False) + junk)
                r = c.response()
                self.assertEqual(r[0] if r else None, 200, r)
                self.valid.append(eid)
                if n == 0:
                    self.producer(g, "valid-during-garbage")
                r = c.response(timeout=30)
                if status is None:
                    self.assertIsNone(r, "garbage got an answer")
                else:
                    self.assertIsNotNone(r, "garbage got no answer")
                    self.assertEqual(r[0], status, r[:2])
                    self.assertTrue(hg.wait_for(lambda: [l for l in g.logs()[before:] if l.get("msg") == "http"
                                                         and f"code is {status}" in l.get("detail", "")], 10))
                self.assertTrue(c.closed_by_server(30), "garbage left its connection open")
        self.assert_only_valid_stored(g)

    def test_invalid_utf8_and_control_bytes_in_headers_are_4xx(self):
        """Event id / type headers with invalid UTF-8 or control characters:
        400; a signature with a non-hex byte: 401; a NUL in a header name:
        libmicrohttpd's 400. Each logged; nothing stored."""
        g = self.start()
        body = b'{"n":1}'  # no id or type in the body: the headers are used
        cases = {
            "id invalid UTF-8": ([b"X-Webhook-Event-Id: ab\xff\xfecd"], None, 400, "event id too long or not printable"),
            "id overlong UTF-8": ([b"X-Webhook-Event-Id: a\xc0\xafb"], None, 400, "event id too long or not printable"),
            "id control byte": ([b"X-Webhook-Event-Id: a\x01b"], None, 400, "event id too long or not printable"),
            "type invalid UTF-8": ([b"X-Webhook-Event-Id: t1", b"X-Webhook-Event-Type: a\xc3\x28"], None, 400,
                                   "event type too long or not printable"),
            "type surrogate UTF-8": ([b"X-Webhook-Event-Id: t2", b"X-Webhook-Event-Type: a\xed\xa0\x80"], None, 400,
                                     "event type too long or not printable"),
            "signature invalid UTF-8": ([b"X-Webhook-Event-Id: s1"], hg.sign_generic(SECRET, body).encode()[:-2] + b"\xff\xfe",
                                        401, None),
            "NUL in a header name": ([b"X-Webhook\x00-Event-Id: n1"], None, 400, "http"),
        }
        for n, (name, (hdrs, sig, status, reason)) in enumerate(cases.items()):
            with self.subTest(name):
                before = len(g.logs())
                c = self.client(g)
                req = request(body, headers=hdrs, sig=sig)
                c.send(req[:20])
                if n == 0:
                    self.producer(g, "valid-during-bad-headers")
                c.send(req[20:])
                r = c.response()
                self.assertIsNotNone(r)
                self.assertEqual(r[0], status, r)
                if reason == "http":
                    pred = lambda l: l.get("msg") == "http" and "code is 400" in l.get("detail", "")
                else:
                    pred = lambda l: l.get("msg") == "request rejected" and l.get("status") == status and \
                        (reason is None or l.get("reason") == reason)
                self.assertTrue(hg.wait_for(lambda: [l for l in g.logs()[before:] if pred(l)], 10), name)
        self.assert_only_valid_stored(g)

    def test_invalid_utf8_and_nul_in_json_bodies_are_400(self):
        """Validly signed bodies that are not valid JSON text (invalid or
        overlong UTF-8, UTF-8-encoded surrogates, an escaped lone surrogate,
        raw NUL bytes, a BOM): 400 "body is not valid JSON" on a JSON-only
        profile (iex), and on generic too, since the request says
        application/json (generic keeps other types' bodies as text). Logged,
        nothing stored. An escaped \\u0000 is valid JSON and is accepted (the
        control case)."""
        g = self.start()
        bad = {"invalid UTF-8": b'{"a":"\xff"}', "overlong UTF-8": b'{"a":"\xc0\xaf"}',
               "truncated UTF-8": b'{"a":"\xe2\x82"}', "UTF-8 surrogate": b'{"a":"\xed\xa0\x80"}',
               "escaped lone surrogate": b'{"a":"\\ud800"}', "raw NUL in a string": b'{"a":"x\x00y"}',
               "NUL after the value": b'{"a":1}\x00', "BOM": b'\xef\xbb\xbf{"a":1}'}
        for n, (name, body) in enumerate(bad.items()):
            with self.subTest(route="iex", case=name):
                before = len(g.logs())
                c = self.client(g)
                req = iex_request(body, f"iex-bad-{n}")
                c.send(req[:-len(body)])
                if n == 0:
                    self.producer(g, "valid-during-bad-json")
                c.send(body)
                r = c.response()
                self.assertEqual(r[0] if r else None, 400, r)
                self.assertEqual(json.loads(r[2]), {"error": "body is not valid JSON"})
                self.assertTrue(hg.wait_for(lambda: [l for l in g.logs()[before:] if l.get("status") == 400
                                                     and l.get("path") == "/hooks/iex"], 10))
            with self.subTest(route="generic", case=name):
                before = len(g.logs())
                gb = body.replace(b'{"a"', b'{"id":"generic-bad-%d","a"' % n)
                c = self.client(g)
                c.send(request(gb))
                r = c.response()
                self.assertEqual(r[0] if r else None, 400, r)
                self.assertEqual(json.loads(r[2]), {"error": "body is not valid JSON"})
                self.assertTrue(hg.wait_for(lambda: [l for l in g.logs()[before:] if l.get("status") == 400
                                                     and l.get("reason") ==
                                                     "body is not JSON but its Content-Type says it is"], 10))
        c = self.client(g)
        c.send(iex_request(b'{"a":"\\u0000"}', "iex-escaped-nul"))
        r = c.response()
        self.assertEqual(r[0] if r else None, 200, r)
        self.valid.append("iex-escaped-nul")
        self.assert_only_valid_stored(g)

    @unittest.expectedFailure
    def test_nul_bytes_in_header_values_are_4xx(self):
        """KNOWN LIMIT: libmicrohttpd hands header values over as C strings, so a
        NUL byte inside one silently cuts it: `X-Webhook-Event-Id: a<NUL>b`
        is stored as id "a", `X-Webhook-Event-Type: t<NUL>evil` as type "t",
        a valid signature followed by <NUL>junk verifies, and a Content-Type
        with a NUL is used as its prefix - all 200. Each should be a 400."""
        g = self.start()
        body = b'{"n":2}'
        good_sig = hg.sign_generic(SECRET, body).encode()
        cases = {"id": ([b"X-Webhook-Event-Id: a\x00b"], None),
                 "type": ([b"X-Webhook-Event-Id: nul-type", b"X-Webhook-Event-Type: t\x00evil"], None),
                 "signature": ([b"X-Webhook-Event-Id: nul-sig"], good_sig + b"\x00junk"),
                 "content type": ([b"X-Webhook-Event-Id: nul-ct"], None)}
        failures = []
        for n, (name, (hdrs, sig)) in enumerate(cases.items()):
            b = body[:-1] + b',"case":%d}' % n
            req = request(b, headers=hdrs, sig=sig if sig is None else sig.replace(good_sig, hg.sign_generic(SECRET, b).encode()))
            if name == "content type":
                req = req.replace(b"Content-Type: application/json", b"Content-Type: application/json\x00; x=1")
            c = self.client(g)
            c.send(req)
            r = c.response()
            if not r or not 400 <= r[0] < 500:
                failures.append(f"NUL in the {name} header: {r[0] if r else 'no answer'} {r[2] if r else b''!r}")
        self.assertEqual(failures, [])


class HostileTLS(TransportCases, HostileBase):
    """The same transport cases over TLS (a certificate made for the test)."""
    scheme = "https"


if __name__ == "__main__":
    hg.main("known defects")
