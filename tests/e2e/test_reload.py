"""SIGHUP reload and SIGTERM under load: the real binary, real clients.

Reload: routes, secrets (file: secrets re-read), sinks and TLS certificates
change in a running gateway; broken or restart-only configs are refused and
the running one keeps serving; a keep-alive connection opened before the
reload sees the new config for its later requests.
Stop: SIGTERM in the middle of a burst answers every request already sent,
and every event acknowledged with 200 is stored.

No assertion is about time: tests wait for log lines, stdout lines and
counters (hg.wait_for), and assert on what they observe."""
import collections
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import threading

import hg


def write_json(path, obj):
    """Replace path with obj as JSON (whole file at once)."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def write_text(path, text):
    tmp = path + ".new"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)  # 0600: the gateway refuses secret files others can read
    os.replace(tmp, path)


def reload_lines(g):
    return [l for l in g.logs(since_start=True) if str(l.get("msg", "")).startswith("reload:")]


def sighup(g):
    """Send SIGHUP and return the reload log line it produced."""
    n = len(reload_lines(g))
    g.proc.send_signal(signal.SIGHUP)
    lines = hg.wait_for(lambda: reload_lines(g)[n:])
    if not lines:
        raise AssertionError("no reload log line after SIGHUP:\n" + g.stderr()[-3000:])
    return lines[0]


def sha256_fingerprint(pem_path):
    p = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pem_path],
                       capture_output=True, check=True)
    return p.stdout.decode().strip().split("=", 1)[1]


def presented_fingerprint(port):
    """The SHA-256 fingerprint of the certificate a new handshake gets."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                        "-servername", "localhost"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    x = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                       input=p.stdout, capture_output=True)
    if x.returncode != 0:
        return None
    return x.stdout.decode().strip().split("=", 1)[1]


def der_fingerprint(der):
    h = hashlib.sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def generic_headers(secret, body):
    return {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic(secret, body)}


class KeepAlive:
    """One http.client connection that is never silently reopened: if the
    gateway closes it, the next request raises instead of reconnecting."""

    def __init__(self, port, cafile=None):
        if cafile:
            ctx = ssl.create_default_context(cafile=cafile)
            self.c = http.client.HTTPSConnection("127.0.0.1", port, timeout=20, context=ctx)
        else:
            self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        self.c.connect()
        self.c.auto_open = 0
        self.sock = self.c.sock
        self.local = self.sock.getsockname()

    def same(self):
        """True while the very socket opened first is still the open one."""
        return self.c.sock is self.sock and self.sock.getsockname() == self.local

    def request(self, method, path, body=None, headers=None):
        self.c.request(method, path, body=body, headers=headers or {})
        r = self.c.getresponse()
        data = r.read()
        return r.status, data

    def post(self, path, secret, body):
        return self.request("POST", path, body, generic_headers(secret, body))

    def close(self):
        self.c.close()


class ReloadKeepAlive(hg.GatewayTest):
    """Test 1 over plain HTTP; ReloadKeepAliveTls runs it over TLS."""

    def setUp(self):
        super().setUp()
        self.old_file = os.path.join(self.tmp, "old.secret")
        self.new_file = os.path.join(self.tmp, "new.secret")
        write_text(self.old_file, "old-secret-value\n")
        write_text(self.new_file, "new-secret-value\n")

    def route(self, path, *files):
        return {"path": path, "profile": "generic", "secrets": ["file:" + f for f in files],
                "sinks": ["out"]}

    def test_route_added_and_secret_rotated_on_one_connection(self):
        cfg = self.config(routes=[self.route("/hooks/a", self.old_file)])
        g = self.gateway(cfg)
        ka = KeepAlive(g.ports[0], self.cert)
        statuses, accepted = [], []

        def post(path, secret, eid, typ="t.x"):
            body = json.dumps({"event_id": eid, "event": typ}).encode()
            st, data = ka.post(path, secret, body)
            statuses.append((path, eid, st, data))
            self.assertTrue(ka.same(), "the keep-alive connection was closed after " + eid)
            if st == 200:
                self.assertEqual(json.loads(data)["status"], "accepted", data)
                accepted.append(eid)

        for i in range(10):
            post("/hooks/a", "old-secret-value", f"pre-{i}")
        # before the reload: /hooks/b does not exist and the new secret is
        # wrong (separate connections: a 401 closes its connection)
        self.assertEqual(self.req(g, "/hooks/b", b"{}", generic_headers("new-secret-value", b"{}")).status, 404)
        body = b'{"event_id":"probe-new","event":"t.x"}'
        self.assertEqual(self.req(g, "/hooks/a", body, generic_headers("new-secret-value", body)).status, 401)

        write_json(g.cfg_path, dict(cfg, routes=[
            self.route("/hooks/a", self.new_file, self.old_file),
            self.route("/hooks/b", self.new_file)]))
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: applied", line)
        self.assertEqual(line["routes"], 2)

        for i in range(5):
            post("/hooks/a", "new-secret-value", f"a-new-{i}")
            post("/hooks/a", "old-secret-value", f"a-old-{i}")
            post("/hooks/b", "new-secret-value", f"b-new-{i}")
        bad = [s for s in statuses if s[2] != 200]
        self.assertEqual(bad, [], "failed requests")
        self.assertEqual(len(accepted), 25)
        # the new route takes only the new secret (fresh connection)
        body = b'{"event_id":"b-old","event":"t.x"}'
        self.assertEqual(self.req(g, "/hooks/b", body, generic_headers("old-secret-value", body)).status, 401)
        ka.close()

        events = g.wait_events(len(accepted))
        counts = collections.Counter(e["id"] for e in events)
        self.assertEqual(sorted(counts), sorted(accepted))
        self.assertEqual([i for i, n in counts.items() if n != 1], [], "events delivered more than once")
        routes = {e["id"]: e["hookgateroute"] for e in events}
        self.assertEqual(routes["b-new-0"], "b")
        self.assertEqual(routes["a-old-4"], "a")

    def test_file_secret_reread_with_config_unchanged(self):
        """The config names the same file: a reload re-reads its content."""
        cfg = self.config(routes=[self.route("/hooks/a", self.old_file)])
        g = self.gateway(cfg)
        ka = KeepAlive(g.ports[0], self.cert)
        self.assertEqual(ka.post("/hooks/a", "old-secret-value", b'{"event_id":"f1","event":"t"}')[0], 200)
        write_text(self.old_file, "rotated-secret\n")
        self.assertEqual(sighup(g)["msg"], "reload: applied")
        self.assertEqual(ka.post("/hooks/a", "rotated-secret", b'{"event_id":"f2","event":"t"}')[0], 200)
        self.assertTrue(ka.same())
        st, _ = ka.post("/hooks/a", "old-secret-value", b'{"event_id":"f3","event":"t"}')
        self.assertEqual(st, 401)
        ka.close()
        self.assertEqual(sorted(e["id"] for e in g.wait_events(2)), ["f1", "f2"])


class ReloadKeepAliveTls(ReloadKeepAlive):
    scheme = "https"


class ReloadRefused(hg.GatewayTest):
    """Test 2: broken and restart-only configs are refused; the running
    config keeps serving."""

    def test_broken_and_restart_only_configs_are_refused(self):
        route_a = {"path": "/hooks/a", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"]}
        route_b = {"path": "/hooks/b", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"]}
        cfg = self.config(routes=[route_a])
        g = self.gateway(cfg)
        n = [0]

        def still_old():
            n[0] += 1
            r = self.post_generic(g, json.dumps({"event_id": f"ok-{n[0]}", "event": "t"}).encode(),
                                  path="/hooks/a")
            self.assertEqual(r.status, 200, r.body)
            r = self.post_generic(g, json.dumps({"event_id": f"b-{n[0]}", "event": "t"}).encode(),
                                  path="/hooks/b")
            self.assertEqual(r.status, 404, r.body)
            self.assertIsNone(g.proc.poll())

        # unknown key: refused, the error names it
        write_json(g.cfg_path, dict(cfg, routes=[route_a, dict(route_b, secrtes=["x"])]))
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: config refused; the running one is kept")
        self.assertEqual(line["level"], "error")
        self.assertIn("secrtes", line["error"])
        still_old()

        # invalid JSON
        text = json.dumps(dict(cfg, routes=[route_a, route_b]))
        write_text(g.cfg_path, text[:-7])
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: config refused; the running one is kept")
        still_old()

        # restart-only changes, each with its reason
        other = os.path.join(self.tmp, "other-data")
        for change, reason in (
                ({"data_dir": other}, "data_dir changed"),
                ({"threads": 3}, "threads changed"),
                ({"listen": cfg["listen"] + [{"address": "127.0.0.1:0"}]}, "the number of listeners changed")):
            write_json(g.cfg_path, dict(cfg, routes=[route_a, route_b], **change))
            line = sighup(g)
            self.assertEqual(line["msg"], "reload: refused; the running config is kept (restart to apply)", change)
            self.assertEqual(line["reason"], reason)
            still_old()
        self.assertFalse(os.path.exists(other))

        # and a valid file is still applied afterwards
        write_json(g.cfg_path, dict(cfg, routes=[route_a, route_b]))
        self.assertEqual(sighup(g)["msg"], "reload: applied")
        r = self.post_generic(g, b'{"event_id":"b-final","event":"t"}', path="/hooks/b")
        self.assertEqual(r.status, 200, r.body)

    def test_embedded_default_ignores_sighup(self):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 8080))
        except OSError:
            self.skipTest("port 8080 is busy on this machine")
        finally:
            s.close()
        g = hg.Gateway(self.tmp, None, dict(os.environ, HOOKGATE_SECRET="dflt-secret"), cwd=self.tmp)
        self.gws.append(g)
        g.start()
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: the embedded default config cannot be reloaded; ignored")
        self.assertEqual(line["level"], "warn")
        r = self.post_generic(g, b'{"event_id":"d1","event":"t"}', secret="dflt-secret", path="/webhooks")
        self.assertEqual(r.status, 200, r.body)


class CertSwap(hg.GatewayTest):
    """Test 3: new handshakes get the new certificate; a connection opened
    before the reload keeps working."""

    def start_tls(self):
        self.dir_a = os.path.join(self.tmp, "a")
        self.dir_b = os.path.join(self.tmp, "b")
        os.mkdir(self.dir_a)
        os.mkdir(self.dir_b)
        self.cert_a, self.key_a = hg.make_cert(self.dir_a)
        self.cert_b, self.key_b = hg.make_cert(self.dir_b)
        # the gateway's files: copies of A, so they can be rewritten in place
        self.live_cert = os.path.join(self.tmp, "live-cert.pem")
        self.live_key = os.path.join(self.tmp, "live-key.pem")
        write_text(self.live_cert, hg.read(self.cert_a))
        write_text(self.live_key, hg.read(self.key_a))
        self.fp_a, self.fp_b = sha256_fingerprint(self.cert_a), sha256_fingerprint(self.cert_b)
        self.assertNotEqual(self.fp_a, self.fp_b)
        cfg = hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": self.live_cert, "key": self.live_key}}])
        g = self.gateway(cfg)
        self.assertEqual(presented_fingerprint(g.ports[0]), self.fp_a)
        old = KeepAlive(g.ports[0], self.cert_a)
        self.addCleanup(old.close)
        self.assertEqual(self.post_on(old, "before-reload"), 200)
        self.assertEqual(der_fingerprint(old.sock.getpeercert(binary_form=True)), self.fp_a)
        return cfg, g, old

    def post_on(self, conn, eid):
        """POST one event on conn (GET /healthz answers with Connection: close,
        so keep-alive is exercised with webhook posts)."""
        body = json.dumps({"event_id": eid, "event": "t"}).encode()
        return conn.post("/hooks/generic", "generic-secret", body)[0]

    def check_swapped(self, g, old):
        port = g.ports[0]
        self.assertEqual(presented_fingerprint(port), self.fp_b)
        # a verifying client: B's certificate is trusted, A's no longer presented
        kb = KeepAlive(port, self.cert_b)
        self.assertEqual(self.post_on(kb, "via-b"), 200)
        kb.close()
        with self.assertRaises(ssl.SSLError):
            KeepAlive(port, self.cert_a)
        # the connection opened before the reload: same socket, old certificate, still served
        self.assertEqual(self.post_on(old, "via-old"), 200)
        self.assertEqual(self.post_on(old, "via-old-2"), 200)
        self.assertTrue(old.same())
        self.assertEqual(der_fingerprint(old.sock.getpeercert(binary_form=True)), self.fp_a)
        old.close()
        self.assertEqual(sorted(e["id"] for e in g.wait_events(4)),
                         ["before-reload", "via-b", "via-old", "via-old-2"])

    def test_files_rewritten_in_place(self):
        cfg, g, old = self.start_tls()
        write_text(self.live_cert, hg.read(self.cert_b))
        write_text(self.live_key, hg.read(self.key_b))
        self.assertEqual(sighup(g)["msg"], "reload: applied")
        self.check_swapped(g, old)

    def test_config_points_at_new_files(self):
        cfg, g, old = self.start_tls()
        write_json(g.cfg_path, dict(cfg, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": self.cert_b, "key": self.key_b}}]))
        self.assertEqual(sighup(g)["msg"], "reload: applied")
        self.check_swapped(g, old)
        # a second swap after the old connection ended: back to A
        write_json(g.cfg_path, cfg)
        write_text(self.live_cert, hg.read(self.cert_a))
        self.assertEqual(sighup(g)["msg"], "reload: applied")
        self.assertEqual(presented_fingerprint(g.ports[0]), self.fp_a)

    def test_unusable_certificate_keeps_the_old_one(self):
        """B's certificate with A's key cannot be loaded: the reload says so
        and new handshakes still get A."""
        cfg, g, old = self.start_tls()
        write_json(g.cfg_path, dict(cfg, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": self.cert_b, "key": self.key_a}}]))
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: applied, but a TLS certificate could not be loaded (old one kept)")
        self.assertEqual(presented_fingerprint(g.ports[0]), self.fp_a)
        ka = KeepAlive(g.ports[0], self.cert_a)
        self.assertEqual(self.post_on(ka, "new-conn"), 200)
        ka.close()
        self.assertEqual(self.post_on(old, "old-conn"), 200)
        self.assertTrue(old.same())

    def test_unusable_certificate_rewritten_in_place_keeps_the_old_one(self):
        """The same, but the bad pair is the gateway's own files rewritten in
        place (a renewal that went wrong): the old certificate stays in use."""
        cfg, g, old = self.start_tls()
        write_text(self.live_cert, hg.read(self.cert_b))  # key stays A's: mismatch
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: applied, but a TLS certificate could not be loaded (old one kept)")
        self.assertEqual(presented_fingerprint(g.ports[0]), self.fp_a)
        ka = KeepAlive(g.ports[0], self.cert_a)
        self.assertEqual(self.post_on(ka, "new-conn"), 200)
        ka.close()
        self.assertEqual(self.post_on(old, "old-conn"), 200)
        self.assertTrue(old.same())


class Closed(Exception):
    """The connection ended; got = response bytes received before that."""

    def __init__(self, what, got):
        super().__init__(f"{what} after {got} response bytes")
        self.what, self.got = what, got


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on a plain socket, so that a
    connection error is known to come before or after the first response byte."""

    def __init__(self, port):
        self.port, self.s = port, None

    def post(self, path, body, headers):
        if self.s is None:
            try:
                self.s = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            except OSError as e:
                raise Closed("connect: " + type(e).__name__, 0)
        req = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        req += [f"{k}: {v}" for k, v in headers.items()]
        try:
            self.s.sendall(("\r\n".join(req) + "\r\n\r\n").encode() + body)
        except OSError as e:
            self.drop()
            raise Closed("send: " + type(e).__name__, 0)
        return self.s

    def response(self):
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise Closed("eof", len(buf))
                buf += chunk
            head, rest = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            hdrs = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
            n = int(hdrs.get("content-length", "0"))
            while len(rest) < n:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise Closed("eof in body", len(buf) + len(rest))
                rest += chunk
        except Closed:
            self.drop()
            raise
        except OSError as e:
            self.drop()
            raise Closed("recv: " + type(e).__name__, len(buf))
        if hdrs.get("connection", "").lower() == "close":
            self.drop()
        return status, rest[:n]

    def drop(self):
        if self.s:
            self.s.close()
        self.s = None


class SigtermBurst(hg.GatewayTest):
    """Test 4: SIGTERM in the middle of a burst from 8 keep-alive clients."""

    def test_sigterm_during_burst(self):
        cfg = hg.basic_config(self.tmp)
        g = self.gateway(cfg)
        port, total, threads = g.ports[0], 400, 8
        ids = collections.deque(f"burst-{i:04d}" for i in range(total))
        lock = threading.Lock()
        ok = [0]
        enough = threading.Event()     # at least 100 answered 200
        signalled = threading.Event()  # set just before the SIGTERM is sent
        results = []                   # (id, sent_before_signal, status or Closed)

        def worker():
            c = RawClient(port)
            while True:
                with lock:
                    if not ids:
                        break
                    eid = ids.popleft()
                body = json.dumps({"event_id": eid, "event": "burst.x"}).encode()
                before = None
                try:
                    c.post("/hooks/generic", body, generic_headers("generic-secret", body))
                    before = not signalled.is_set()  # the request was fully sent before the signal
                    status, data = c.response()
                except Closed as e:
                    if before is None:  # connect or send failed: was that before the signal?
                        before = not signalled.is_set()
                    with lock:
                        results.append((eid, before, e))
                    if e.what.startswith("connect"):
                        break  # the listener is closed: nothing more to send
                    continue
                with lock:
                    results.append((eid, before, (status, data)))
                    if status == 200:
                        ok[0] += 1
                        if ok[0] >= 100:
                            enough.set()
            c.drop()

        ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for t in ts:
            t.start()
        self.assertTrue(enough.wait(60), "fewer than 100 answers 200: %r" % results[:5])
        signalled.set()
        g.proc.send_signal(signal.SIGTERM)
        for t in ts:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in ts), "a client is still waiting for an answer")
        rc = g.proc.wait(60)
        g.stop()
        self.assertEqual(rc, 0, g.stderr()[-3000:])
        msgs = [l.get("msg") for l in g.logs()]
        self.assertIn("stopping", msgs)
        self.assertIn("stopped", msgs)

        acked, problems = [], []
        for eid, before, res in results:
            if isinstance(res, Closed):
                if before:
                    problems.append(f"{eid}: sent before SIGTERM but {res}")
                elif res.got:
                    problems.append(f"{eid}: connection ended mid-response: {res}")
            else:
                status, data = res
                if status == 200:
                    doc = json.loads(data)
                    if doc.get("status") != "accepted" or doc.get("id") != eid:
                        problems.append(f"{eid}: 200 with {data!r}")
                    acked.append(eid)
        self.assertEqual(problems, [])
        self.assertGreaterEqual(len(acked), 100)
        sent = {r[0] for r in results}
        self.assertEqual(len(sent), len(results), "an id was sent twice")

        # every acknowledged event is in the store ...
        p = subprocess.run([hg.BIN, "events", "list", "--data", cfg["data_dir"], "--limit", "100000"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        stored = {l.split("\t")[3] for l in p.stdout.splitlines()[1:] if l.strip()}
        self.assertEqual(sorted(set(acked) - stored), [])
        # ... and reaches stdout by the end of a restart on the same data_dir
        g2 = self.gateway(cfg)
        printed = hg.wait_for(lambda: set(acked) <= {e["id"] for e in g2.events()}
                              and {e["id"] for e in g2.events()})
        self.assertTrue(printed, "acknowledged events missing from stdout: %r"
                        % sorted(set(acked) - {e["id"] for e in g2.events()})[:20])
        self.assertEqual(g2.stop(), 0)


class SinkTypesReload(hg.GatewayTest):
    """Test 5: a sink's types change on reload; delivery restarts from its
    cursor: nothing delivered twice, the new filter applies to new events."""

    def post(self, g, eid, typ):
        r = self.post_generic(g, json.dumps({"event_id": eid, "event": typ}).encode())
        self.assertEqual(r.status, 200, r.body)

    def test_types_filter_changed(self):
        cfg = hg.basic_config(self.tmp, sinks={"out": {"type": "stdout", "types": ["a.*"]}})
        g = self.gateway(cfg)
        self.post(g, "a1", "a.x")
        self.post(g, "b1", "b.y")
        self.post(g, "a2", "a.x")
        # stdout delivery is in store order: a2 printed means b1 was passed over
        hg.wait_for(lambda: "a2" in [e["id"] for e in g.events()])
        self.assertEqual([e["id"] for e in g.events()], ["a1", "a2"])

        write_json(g.cfg_path, dict(cfg, sinks={"out": {"type": "stdout", "types": ["b.*"]}}))
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: applied")
        self.assertTrue(line["delivery_restarted"], line)

        self.post(g, "a3", "a.x")
        self.post(g, "b2", "b.y")
        self.post(g, "b3", "b.y")
        hg.wait_for(lambda: "b3" in [e["id"] for e in g.events()])
        events = g.events()
        ids = [e["id"] for e in events]
        # a3 came before b3 in the store: had it been delivered it would be printed
        self.assertEqual(ids, ["a1", "a2", "b2", "b3"])
        seqs = [e["hookgateseq"] for e in events]
        self.assertEqual(len(seqs), len(set(seqs)))
        # an unchanged reload does not restart delivery and prints nothing again
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: applied")
        self.assertFalse(line["delivery_restarted"], line)
        self.post(g, "b4", "b.y")
        hg.wait_for(lambda: "b4" in [e["id"] for e in g.events()])
        self.assertEqual([e["id"] for e in g.events()], ["a1", "a2", "b2", "b3", "b4"])


class RouteRenamedWithBacklog(hg.GatewayTest):
    """An event acknowledged under a route that a reload renames is still
    delivered: the sink keeps the routes that fed it in earlier configs."""

    def test_renamed_route_backlog_delivered(self):
        ok = os.path.join(self.tmp, "ok")
        log = os.path.join(self.tmp, "delivered")
        handler = os.path.join(self.tmp, "h.sh")
        with open(handler, "w") as f:
            f.write('#!/bin/sh\n[ -e "%s" ] || exit 1\necho "$HOOKGATE_EVENT_ID" >> "%s"\n' % (ok, log))
        os.chmod(handler, 0o755)
        sink = {"type": "exec", "command": [handler]}
        routes = [{"path": "/hooks/generic", "name": "old", "profile": "generic",
                   "secrets": ["generic-secret"], "sinks": ["run"]}]
        cfg = hg.basic_config(self.tmp, routes=routes, sinks={"run": sink},
                              retry={"max_attempts": 1000, "initial": "20ms", "max": "100ms"})
        g = self.gateway(cfg)
        r = self.post_generic(g, json.dumps({"event_id": "backlog1", "event": "t"}).encode())
        self.assertEqual(r.status, 200, r.body)
        hg.wait_for(lambda: [l for l in g.logs() if l.get("msg") == "deliver: attempt failed; will retry"])
        routes2 = [dict(routes[0], name="new")]
        write_json(g.cfg_path, dict(cfg, routes=routes2))
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: applied")
        self.assertTrue(line["delivery_restarted"], line)
        r = self.post_generic(g, json.dumps({"event_id": "after1", "event": "t"}).encode())
        self.assertEqual(r.status, 200, r.body)
        open(ok, "w").close()  # the handler starts succeeding
        self.assertTrue(hg.wait_for(lambda: sorted(hg.read(log).split()) == ["after1", "backlog1"]),
                        hg.read(log))


if __name__ == "__main__":
    hg.main()


class SinkTransportReload(hg.GatewayTest):
    """A reload that changes only a sink's transport settings (an http
    sink's url; a jetstream sink's servers, where a password lives) restarts
    delivery, and the new settings apply: before the fix, delivery_sig left
    them out, the reload said "applied" and the old url stayed in use."""

    def setUp(self):
        super().setUp()
        import test_http_sink
        self.Service = test_http_sink.Service
        self.services = []

    def tearDown(self):
        for s in self.services:
            s.stop()
        super().tearDown()

    def post(self, g, eid):
        r = self.post_generic(g, json.dumps({"event_id": eid, "event": "a.x"}).encode())
        self.assertEqual(r.status, 200, r.body)

    def ids(self, svc):
        with svc.lock:
            return [json.loads(b)["id"] for _, _, _, b in svc.requests]

    def test_http_url_changed(self):
        one, two = self.Service(), self.Service()
        self.services += [one, two]
        sink = {"type": "http", "url": f"http://127.0.0.1:{one.port}/in"}
        cfg = hg.basic_config(self.tmp, sinks={"svc": sink})
        for r in cfg["routes"]:
            r["sinks"] = ["svc"]
        g = self.gateway(cfg)
        self.post(g, "u1")
        self.assertTrue(hg.wait_for(lambda: self.ids(one) == ["u1"]), self.ids(one))

        cfg["sinks"]["svc"] = dict(sink, url=f"http://127.0.0.1:{two.port}/in")
        write_json(g.cfg_path, cfg)
        line = sighup(g)
        self.assertEqual(line["msg"], "reload: applied")
        self.assertTrue(line["delivery_restarted"], line)
        self.post(g, "u2")
        self.assertTrue(hg.wait_for(lambda: self.ids(two) == ["u2"]), (self.ids(one), self.ids(two)))
        self.assertEqual(self.ids(one), ["u1"])

        # the very same config again: nothing restarts
        line = sighup(g)
        self.assertFalse(line["delivery_restarted"], line)

    def test_nats_password_fixed_by_reload(self):
        import natsctl
        if natsctl.missing():
            self.skipTest(natsctl.missing())
        c = natsctl.Cluster(self.tmp, 1, extra=natsctl.user_pass("hg", "pw-right"))
        c.start()
        try:
            port = c.nodes[0].port
            sink = {"type": "jetstream", "servers": [f"nats://hg:pw-wrong@127.0.0.1:{port}"],
                    "subject": "hooks.{route}.{type}", "stream": {"name": "HOOKS", "create": True}}
            cfg = hg.basic_config(self.tmp, sinks={"js": sink})
            for r in cfg["routes"]:
                r["sinks"] = ["js"]
            g = self.gateway(cfg)
            self.post(g, "n1")
            self.assertTrue(hg.wait_for(lambda: [l for l in g.logs() if "NATS not" in l.get("msg", "")]))
            self.assertEqual(c.nodes[0].stream_msgs("HOOKS"), 0)
            cfg["sinks"]["js"] = dict(sink, servers=[f"nats://hg:pw-right@127.0.0.1:{port}"])
            write_json(g.cfg_path, cfg)
            line = sighup(g)
            self.assertEqual(line["msg"], "reload: applied")
            self.assertTrue(line["delivery_restarted"], line)
            self.assertTrue(hg.wait_for(lambda: c.nodes[0].stream_msgs("HOOKS") == 1, 30),
                            g.stderr()[-2000:])
            err = g.stderr()
            self.assertNotIn("pw-wrong", err)
            self.assertNotIn("pw-right", err)
            self.assertEqual(g.stop(), 0)
        finally:
            c.stop_all(signal.SIGKILL)
