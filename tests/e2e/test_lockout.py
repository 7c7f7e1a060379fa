"""Lock-out and pre-authentication memory (issue 15, items 1 and 4).

Item 1: one client must not take every connection slot.  With the default
limits (max_connections 1024), 1,100 idle TCP connections, reopened as the
gateway closes them, from one source address, or spread over 20, must not
keep a producer at another address from getting its 200, over HTTP and over
HTTPS.  Linux routes the whole of 127.0.0.0/8 to the loopback interface, so
client sockets bind to 127.x.y.z source addresses and the gateway sees
distinct clients.  A third case, with more addresses than max_connections
allows, checks that idle connections which never completed a request are
closed first when slots run short, and that a producer's served keep-alive
connection is not.

Item 4: request bodies are buffered whole before their signature can be
checked.  400 connections, from 20 addresses, each send 1 MiB - 1 byte of a
1 MiB body and then wait: the gateway's RSS must stay within
limits.unauthenticated_body_budget (64 MiB by default) plus a constant, the
bodies past the budget get 503 + Retry-After before they are read, a
producer's small signed event still gets its 200, and once the attack is
gone a large signed event is accepted again.  A chunked body growing past
the budget has its connection closed; a route with a token (authenticated
by its headers) is not counted.

Figures (connections held, producer latency, RSS) are printed for
docs/reliability.md.  No assertion on time beyond "a 200 within a generous
bound" (PRODUCER_TIMEOUT).  This process raises its RLIMIT_NOFILE (the
gateway inherits it); its own sockets are bounded by the flood sizes.
"""
import http.client
import json
import os
import resource
import select
import socket
import ssl
import threading
import time

import hg

SECRET = hg.ENV["T_SECRET"]
PRODUCER_TIMEOUT = 5.0  # seconds: a producer's 200 must come within this
FLOOD = 1100


def proc_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Flood(threading.Thread):
    """n idle TCP connections to port, from the source addresses srcs in
    turn, that send nothing.  Every connection the gateway closes is opened
    again (at most `burst` a round, a round every `pace` seconds), so the
    flood keeps pressing for as long as it runs."""

    def __init__(self, port, srcs, n, pace=0.05, burst=300):
        super().__init__(daemon=True)
        self.port, self.srcs, self.n, self.pace, self.burst = port, srcs, n, pace, burst
        self.socks = {}  # fd -> (socket, slot)
        self.todo = list(range(n))
        self.opened = self.closed = 0
        self.stop = threading.Event()

    def _open(self, slot):
        """A new connection for slot: its descriptor, or None."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((self.srcs[slot % len(self.srcs)], 0))
            s.connect_ex(("127.0.0.1", self.port))
        except OSError:
            s.close()
            return None
        self.socks[s.fileno()] = (s, slot)
        self.opened += 1
        return s.fileno()

    def _gone(self, fd, ev):
        s = self.socks[fd][0]
        if ev & (select.POLLHUP | select.POLLERR):
            return True
        try:
            return not s.recv(1)
        except BlockingIOError:
            return False
        except OSError:
            return True

    def run(self):
        poll = select.poll()
        while not self.stop.is_set():
            todo, self.todo = self.todo[:self.burst], self.todo[self.burst:]
            for slot in todo:
                fd = self._open(slot)
                if fd is None:
                    self.todo.append(slot)
                else:
                    poll.register(fd, select.POLLIN)
            for fd, ev in poll.poll(self.pace * 1000):
                if fd in self.socks and self._gone(fd, ev):
                    poll.unregister(fd)
                    s, slot = self.socks.pop(fd)
                    s.close()
                    self.closed += 1
                    self.todo.append(slot)
            time.sleep(self.pace)
        for s, _ in self.socks.values():
            s.close()
        self.socks.clear()

    def halt(self):
        self.stop.set()
        self.join(30)


class Base(hg.GatewayTest):
    """Checks at teardown that no attack crashed the gateway or tripped a sanitizer."""

    def tearDown(self):
        crashed = [g.proc.returncode for g in self.gws if g.proc and g.proc.poll() is not None]
        reports = [l for g in self.gws if os.path.exists(g.err_path) for l in g.stderr().splitlines()
                   if "Sanitizer" in l or "runtime error:" in l]
        super().tearDown()
        self.assertEqual(crashed, [], "the gateway exited during the test")
        self.assertEqual(reports[:5], [], "sanitizer reports on the gateway's stderr")


class Lockout(Base):
    @classmethod
    def setUpClass(cls):
        cls.nofile = hg.raise_nofile(8192)

    def setUp(self):
        super().setUp()
        self.floods = []

    def tearDown(self):
        for f in self.floods:
            f.halt()
        super().tearDown()

    def start(self, **top):
        """HTTP (listener 0) and HTTPS (listener 1); limits as given, else the defaults."""
        self.cert, key = hg.make_cert(self.tmp)
        cfg = hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0"},
            {"address": "127.0.0.1:0", "tls": {"cert": self.cert, "key": key}}], **top)
        return self.gateway(cfg)

    def flood(self, g, srcs, n=FLOOD, listener=0):
        f = Flood(g.ports[listener], srcs, n)
        self.floods.append(f)
        f.start()
        return f

    def post(self, g, eid, scheme, src="127.0.0.1", body=None, conn=None):
        """One signed event from source address src; (status, headers, seconds).
        A connection given is used and left open (keep-alive)."""
        body = body or json.dumps({"id": eid, "type": "lockout.valid"}).encode()
        own = conn is None
        if own:
            if scheme == "https":
                ctx = ssl.create_default_context(cafile=self.cert)
                conn = http.client.HTTPSConnection("127.0.0.1", g.ports[1], timeout=PRODUCER_TIMEOUT,
                                                   source_address=(src, 0), context=ctx)
            else:
                conn = http.client.HTTPConnection("127.0.0.1", g.ports[0], timeout=PRODUCER_TIMEOUT,
                                                  source_address=(src, 0))
        t0 = time.monotonic()
        try:
            conn.request("POST", "/hooks/generic", body, {
                "Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic(SECRET, body)})
            r = conn.getresponse()
            r.read()
            return r.status, dict(r.getheaders()), time.monotonic() - t0
        except (OSError, http.client.HTTPException) as e:
            return f"no answer ({type(e).__name__}: {e})", {}, time.monotonic() - t0
        finally:
            if own:
                conn.close()

    def producers(self, g, tag, src="127.0.0.1", rounds=3):
        """Signed events over HTTP and HTTPS while the flood runs: each gets
        its 200 within PRODUCER_TIMEOUT.  Returns the latencies."""
        lat = []
        for i in range(rounds):
            for scheme in ("http", "https"):
                status, _, dt = self.post(g, f"{tag}-{scheme}-{i}", scheme, src)
                if status == 503 or (status != 200 and str(status).startswith("no answer")):
                    # a producer retries a cut connection, or a 503 (Retry-After):
                    # under a churning flood a handshake still in progress can be
                    # taken for an idle connection and closed, or (slow sanitized
                    # builds) the slots freed by eviction may not be counted free
                    # yet when the request arrives (a known limit, see the README)
                    status, _, dt2 = self.post(g, f"{tag}-{scheme}-{i}", scheme, src)
                    dt += dt2
                self.assertEqual(status, 200, f"producer {tag} over {scheme}, round {i}")
                lat.append(dt)
            time.sleep(0.5)
        return lat

    def wait_pressing(self, g, f, base, want_opened):
        """The flood has opened want_opened connections and the gateway's
        socket count has stopped growing for a moment."""
        hg.wait_for(lambda: f.opened >= want_opened, 60)
        last, stable = -1, 0
        deadline = time.time() + 30
        while time.time() < deadline and stable < 3:
            n = hg.gateway_sockets(g)
            stable = stable + 1 if n == last else 0
            last = n
            time.sleep(0.3)
        # The caps hold in steady state; one snapshot also counts sockets
        # accepted and being refused, or shut down to make room and not yet
        # closed, while the flood churns (CI once saw 225 for a cap of 200).
        # The least of ten samples is the steady state.
        return min(self.sample_held(g, base) for _ in range(10))

    @staticmethod
    def sample_held(g, base):
        time.sleep(0.1)
        return hg.gateway_sockets(g) - base

    def report(self, what, g, f, held, lat):
        print(f"\n  {what}: gateway holds {held} connections, RSS {proc_kb(g.proc.pid, 'VmRSS') // 1024} MiB; "
              f"the flood opened {f.opened}, {f.closed} closed by the gateway; producer latency "
              f"max {max(lat) * 1000:.0f} ms, median {sorted(lat)[len(lat) // 2] * 1000:.0f} ms "
              f"over {len(lat)} signed events", end=" ")

    def test_idle_flood_from_one_address(self):
        """1,100 idle connections from 127.0.0.2, default limits: the
        address gets max(8, 1024 / 16) = 64; a producer at 127.0.0.1 gets
        its 200s over HTTP and HTTPS (issue 15 item 1: it got 503)."""
        g = self.start()
        base = hg.gateway_sockets(g)
        f = self.flood(g, ["127.0.0.2"])
        held = self.wait_pressing(g, f, base, FLOOD)
        lat = self.producers(g, "one-address")
        self.report("1,100 idle from one address", g, f, held, lat)
        self.assertLessEqual(held, 64 + 8, "the flooding address holds more than its cap")
        self.assertTrue(any(l.get("msg") == "http: connections refused at accept" for l in g.logs()))

    def test_idle_flood_from_twenty_addresses(self):
        """1,100 idle connections spread over 127.0.1.1-20 (55 each, under
        the per-address cap): the last tenth of the slots is kept for
        addresses holding few connections, so a producer gets its 200s."""
        g = self.start()
        base = hg.gateway_sockets(g)
        f = self.flood(g, [f"127.0.1.{i}" for i in range(1, 21)])
        held = self.wait_pressing(g, f, base, FLOOD)
        lat = self.producers(g, "twenty-addresses", src="127.0.2.1")
        self.report("1,100 idle from 20 addresses", g, f, held, lat)
        self.assertLess(held, 1024, "the flood took every slot")

    def test_idle_flood_over_the_https_listener(self):
        """The same flood from 20 addresses against the HTTPS port (idle TCP,
        no handshake): producers over both listeners get their 200s."""
        g = self.start()
        base = hg.gateway_sockets(g)
        f = self.flood(g, [f"127.0.3.{i}" for i in range(1, 21)], listener=1)
        held = self.wait_pressing(g, f, base, FLOOD)
        lat = self.producers(g, "https-flood", src="127.0.4.1")
        self.report("1,100 idle from 20 addresses on the HTTPS port", g, f, held, lat)

    def test_idle_never_served_connections_are_closed_first(self):
        """More addresses than slots (max_connections 200, 300 addresses with
        one idle connection each, reopened as cut): idle connections that
        never completed a request are closed to keep slots free, a producer
        gets its 200, and the producer's own served keep-alive connection
        stays open and usable."""
        g = self.start(limits={"max_connections": 200, "request_timeout": "60s"})
        keep = http.client.HTTPConnection("127.0.0.1", g.ports[0], timeout=PRODUCER_TIMEOUT,
                                          source_address=("127.0.6.1", 0))
        status, _, _ = self.post(g, "keepalive-0", "http", conn=keep)
        self.assertEqual(status, 200)
        base = hg.gateway_sockets(g)
        f = self.flood(g, [f"127.0.5.{i}" for i in range(1, 256)] + [f"127.0.7.{i}" for i in range(1, 46)],
                       n=300)
        held = self.wait_pressing(g, f, base, 300)  # without the cap: about 300
        lat = self.producers(g, "evict", src="127.0.6.2")
        self.report("300 idle from 300 addresses, max_connections 200", g, f, held, lat)
        self.assertLessEqual(held, 200 + 16)
        self.assertTrue(hg.wait_for(lambda: any(
            l.get("msg") == "http: slots short; idle connections closed" for l in g.logs()), 10))
        status, _, _ = self.post(g, "keepalive-1", "http", conn=keep)
        self.assertEqual(status, 200, "the producer's served keep-alive connection was closed")
        keep.close()


class BodyBudget(Base):
    """400 slow 1 MiB bodies against the default 64 MiB budget."""

    CONNS, ADDRS, BODY = 400, 20, 1 << 20

    @classmethod
    def setUpClass(cls):
        hg.raise_nofile(4096)

    def setUp(self):
        super().setUp()
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        super().tearDown()

    def head(self, n, sig=b"sha256=" + b"0" * 64):
        """A POST head announcing n body bytes.  Expect: 100-continue makes
        the gateway's decision visible before any body byte: 100 Continue
        (the body is wanted) or the 503."""
        return (b"POST /hooks/generic HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"X-Webhook-Signature: " + sig + b"\r\nExpect: 100-continue\r\nContent-Length: " +
                str(n).encode() + b"\r\n\r\n")

    def rss(self, g):
        return proc_kb(g.proc.pid, "VmRSS") // 1024

    def answer_head(self, s):
        """The first answer's head on s (up to its blank line), or what came before EOF."""
        data = b""
        while b"\r\n\r\n" not in data:
            c = s.recv(4096)
            if not c:
                break
            data += c
        return data

    def attack(self, g):
        """Every connection sends its head; the gateway answers 503 to those
        past the budget and 100 Continue to the others, which then send
        BODY - 1 bytes and wait.  Returns (refused with 503 + Retry-After,
        bodies held, peak RSS in MiB)."""
        for i in range(self.CONNS):
            s = socket.socket()
            s.bind((f"127.0.8.{i % self.ADDRS + 1}", 0))
            s.settimeout(30)
            s.connect(("127.0.0.1", g.ports[0]))
            s.sendall(self.head(self.BODY))
            self.socks.append(s)
        refused, open_ = 0, []
        for s in self.socks:
            data = self.answer_head(s)
            if data.startswith(b"HTTP/1.1 100"):
                open_.append(s)
                continue
            self.assertRegex(data[:12], rb"^HTTP/1\.1 503", data[:200])
            self.assertIn(b"\r\nRetry-After: 1\r\n", data)
            refused += 1
        chunk = b"x" * (64 << 10)
        peak = self.rss(g)
        pending = {s: self.BODY - 1 for s in open_}
        for s in open_:
            s.setblocking(False)
        deadline = time.time() + 60
        while pending and time.time() < deadline:
            _, w, _ = select.select([], list(pending)[:500], [], 1.0)
            for s in w:
                try:
                    n = s.send(chunk[:min(len(chunk), pending[s])])
                except BlockingIOError:
                    continue
                except OSError:
                    del pending[s]
                    continue
                pending[s] -= n
                if not pending[s]:
                    del pending[s]
            peak = max(peak, self.rss(g))
        self.assertEqual(pending, {}, "some bodies could not be sent within 60 s")
        for _ in range(10):  # the last bytes land in the gateway's buffers
            peak = max(peak, self.rss(g))
            time.sleep(0.2)
        return refused, len(open_), peak

    def test_400_slow_1mib_bodies_stay_within_the_budget(self):
        g = self.gateway(hg.basic_config(self.tmp, limits={"request_timeout": "60s"}))
        base = self.rss(g)
        refused, held, peak = self.attack(g)
        budget_mib = 64
        print(f"\n  RSS {base} MiB before, {peak} MiB at peak under {self.CONNS} bodies of 1 MiB - 1 byte "
              f"({held} held within the budget, {refused} refused with 503)", end=" ")
        # the budget, plus max_connections x 64 KiB at most for small bodies
        # and the connections' own buffers; ASan's redzones and quarantine
        # take more (issue 15: 22 -> 473 MiB without a budget)
        slack = 192 if hg.sanitized_build() else 96
        self.assertLessEqual(peak - base, budget_mib + slack, f"RSS grew from {base} to {peak} MiB")
        self.assertGreater(refused, 0, "no body was refused: the budget is not enforced")
        self.assertLessEqual(held, budget_mib)
        # authenticated traffic keeps flowing: a small signed event gets its 200 ...
        small = json.dumps({"id": "budget-small", "type": "budget.valid"}).encode()
        r = hg.curl(g.url("/hooks/generic"), small, {"Content-Type": "application/json",
                                                      "X-Webhook-Signature": hg.sign_generic(SECRET, small)},
                    timeout=PRODUCER_TIMEOUT)
        self.assertEqual(r.status, 200, r.body)
        # ... a large one gets 503 + Retry-After while the budget is held ...
        big = json.dumps({"id": "budget-big", "type": "budget.valid", "pad": "p" * (200 << 10)}).encode()
        hdrs = {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic(SECRET, big)}
        r = hg.curl(g.url("/hooks/generic"), big, hdrs, timeout=PRODUCER_TIMEOUT)
        self.assertEqual(r.status, 503, r.body)
        self.assertEqual(r.headers.get("retry-after"), "1")
        self.assertTrue(any(l.get("msg", "").startswith("http: unauthenticated_body_budget exhausted")
                            for l in g.logs()))
        # ... and is accepted once the attack has gone
        for s in self.socks:
            s.close()
        self.socks = []
        r = hg.wait_for(lambda: (lambda x: x if x.status == 200 else None)(
            hg.curl(g.url("/hooks/generic"), big, hdrs, timeout=PRODUCER_TIMEOUT)), 20)
        self.assertIsNotNone(r, "a large signed event is still refused after the attack")
        self.assertEqual(sorted(e["id"] for e in g.wait_events(2)), ["budget-big", "budget-small"])

    def test_chunked_body_past_the_budget_is_closed_token_routes_exempt(self):
        """A 1 MiB budget held by one slow body: a large signed body gets 503;
        a chunked body is cut when it grows past 64 KiB (libmicrohttpd cannot
        answer mid-upload); a route with a token (checked with the headers)
        is not counted, so its large event gets its 200."""
        routes = [{"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"]},
                  {"path": "/hooks/tok", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"],
                   "token": "env:T_OLD"}]
        g = self.gateway(hg.basic_config(self.tmp, routes=routes, limits={
            "unauthenticated_body_budget": "1MiB", "max_body": "4MiB", "request_timeout": "60s"}))
        holder = socket.create_connection(("127.0.0.1", g.ports[0]), timeout=30)
        self.socks.append(holder)
        holder.sendall(self.head(1 << 20))
        self.assertTrue(self.answer_head(holder).startswith(b"HTTP/1.1 100"))
        holder.sendall(b"x" * 1000)
        big = json.dumps({"id": "budget-tok", "type": "budget.valid", "pad": "p" * (200 << 10)}).encode()
        hdrs = {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic(SECRET, big)}
        r = hg.curl(g.url("/hooks/generic"), big, hdrs, timeout=PRODUCER_TIMEOUT)
        self.assertEqual((r.status, r.headers.get("retry-after")), (503, "1"), r.body)
        c = socket.create_connection(("127.0.0.1", g.ports[0]), timeout=30)
        self.socks.append(c)
        c.sendall(b"POST /hooks/generic HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"X-Webhook-Signature: " + hg.sign_generic(SECRET, big).encode() +
                  b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        closed = False
        for i in range(0, len(big), 16 << 10):
            part = big[i:i + (16 << 10)]
            try:
                c.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            except OSError:
                closed = True
                break
        if not closed:
            c.settimeout(30)
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            self.assertNotRegex(data[:12], rb"^HTTP/1\.1 2", data[:200])
        self.assertTrue(hg.wait_for(lambda: any(
            l.get("reason") == "unauthenticated_body_budget exhausted; connection closed" for l in g.logs()), 20))
        hdrs["X-Hookgate-Token"] = hg.ENV["T_OLD"]
        r = hg.curl(g.url("/hooks/tok"), big, hdrs, timeout=PRODUCER_TIMEOUT)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["budget-tok"])


if __name__ == "__main__":
    hg.main()
