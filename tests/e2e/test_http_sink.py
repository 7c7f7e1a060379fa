"""The http sink: hookgate forwards each stored event to a real local HTTP
service (a Python http.server written for the test, on TCP and on a UNIX
socket) and the service's answers decide delivered / retry / dead letter.

Covered: structured (CloudEvents JSON) and binary (producer's body + ce-*
headers) formats; a 503 with Retry-After then 200 is retried and the retry
waits at least the Retry-After; a 400 goes straight to dead letters with the
status and the answer; the sign headers verify with hookgate's own
"standard" profile (`hookgate sign` reproduces them); HTTP over a UNIX
socket; a service that is down is retried until it comes up.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import socket
import socketserver
import subprocess
import threading
import time

import hg

INTERNAL = "whsec_" + base64.b64encode(b"internal-secret-0123456789abcdef").decode()


class Service:
    """A recording HTTP service; plan(n) -> (status, headers, body) decides each answer."""

    def __init__(self, plan=None, unix_path=None, port=0):
        self.requests = []  # (monotonic time, path, headers dict lower-cased, body bytes)
        self.plan = plan or (lambda n: (200, {}, b"ok"))
        self.lock = threading.Lock()
        svc = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with svc.lock:
                    idx = len(svc.requests)
                    svc.requests.append((time.monotonic(), self.path,
                                         {k.lower(): v for k, v in self.headers.items()}, body))
                status, hdrs, out = svc.plan(idx)
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        if unix_path:
            class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
                daemon_threads = True

                def get_request(self):
                    req, _ = super().get_request()
                    return req, ("unix", 0)
            self.server = S(unix_path, H)
        else:
            class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
                daemon_threads = True
            self.server = S(("127.0.0.1", port), H)
        self.port = None if unix_path else self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class HttpSink(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.services = []

    def tearDown(self):
        for s in self.services:
            s.stop()
        super().tearDown()

    def service(self, **kw):
        s = Service(**kw)
        self.services.append(s)
        return s

    def start(self, sink, retry=None):
        cfg = hg.basic_config(self.tmp)
        cfg["sinks"] = {"svc": sink}
        for r in cfg["routes"]:
            r["sinks"] = ["svc"]
        if retry:
            cfg["retry"] = retry
        return self.gateway(cfg)

    def post(self, g, eid, typ="order.created", body=None, ctype="application/json"):
        body = body if body is not None else json.dumps({"event_id": eid, "event": typ, "n": 1}).encode()
        h = {"Content-Type": ctype, "X-Webhook-Signature": hg.sign_generic("generic-secret", body)}
        if body[:1] != b"{":
            h["X-Webhook-Event-Id"] = eid
            h["X-Webhook-Event"] = typ
        r = hg.curl(g.url("/hooks/generic"), body, h)
        self.assertEqual(r.status, 200, r.body)
        return body

    def dead(self):
        p = subprocess.run([hg.BIN, "events", "dead", "--data", os.path.join(self.tmp, "data")],
                           capture_output=True, text=True)
        return p.stdout.splitlines()[1:]

    def test_structured(self):
        s = self.service()
        # a configured header longer than any event attribute (a long bearer
        # token): sent whole, never cut to a fixed buffer
        long_value = "t" * 6000
        g = self.start({"type": "http", "url": f"http://127.0.0.1:{s.port}/in",
                        "headers": {"X-Env": "test", "X-Long": long_value, "X-Empty": ""}})
        self.post(g, "evt_s1")
        self.post(g, "evt_s2")
        self.assertTrue(hg.wait_for(lambda: len(s.requests) >= 2))
        for (_, path, h, body), eid in zip(s.requests, ("evt_s1", "evt_s2")):
            self.assertEqual(path, "/in")
            self.assertTrue(h["content-type"].startswith("application/cloudevents+json"))
            self.assertEqual(h["x-env"], "test")
            self.assertEqual(h["x-long"], long_value)
            self.assertEqual(h.get("x-empty"), "")  # sent, with an empty value
            ev = json.loads(body)
            self.assertEqual((ev["specversion"], ev["id"], ev["type"], ev["source"]),
                             ("1.0", eid, "order.created", "/hooks/generic"))
            self.assertEqual(ev["data"], {"event_id": eid, "event": "order.created", "n": 1})
        self.assertEqual(self.dead(), [])

    def test_binary(self):
        s = self.service()
        g = self.start({"type": "http", "url": f"http://127.0.0.1:{s.port}/b", "format": "binary"})
        sent = self.post(g, "evt_b1")
        text = "New user signed up: ünïcode".encode()
        self.post(g, "evt_b2", typ="chat.message", body=text, ctype="text/plain; charset=utf-8")
        self.assertTrue(hg.wait_for(lambda: len(s.requests) >= 2))
        (_, _, h1, b1), (_, _, h2, b2) = s.requests[:2]
        self.assertEqual(b1, sent)  # the producer's body, byte for byte
        self.assertEqual(h1["content-type"], "application/json")
        self.assertEqual((h1["ce-specversion"], h1["ce-id"], h1["ce-type"], h1["ce-source"]),
                         ("1.0", "evt_b1", "order.created", "/hooks/generic"))
        self.assertEqual(h1["ce-hookgateroute"], "generic")
        self.assertEqual(h1["ce-hookgateseq"], "1")
        self.assertEqual(b2, text)
        self.assertEqual(h2["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(h2["ce-type"], "chat.message")

    def test_retry_after_then_ok(self):
        s = self.service(plan=lambda n: (503, {"Retry-After": "2"}, b"busy") if n == 0 else (200, {}, b"ok"))
        g = self.start({"type": "http", "url": f"http://127.0.0.1:{s.port}/"},
                       retry={"max_attempts": 5, "initial": "10ms", "max": "30s"})
        self.post(g, "evt_r1")
        self.assertTrue(hg.wait_for(lambda: len(s.requests) >= 2))
        (_, _, _, b0), (_, _, _, b1) = s.requests[:2]
        self.assertEqual(b0, b1)  # the same event again
        # the backoff alone (10 ms scale) would retry at once: the service's
        # Retry-After (2 s) is what the retry was scheduled with
        warn = [l for l in g.logs() if l.get("msg") == "deliver: attempt failed; will retry"]
        self.assertEqual(warn[0]["error"], "HTTP 503: busy")
        self.assertGreaterEqual(warn[0]["retry_in_ms"], 2000)
        self.assertEqual(self.dead(), [])

    def test_400_goes_to_dead_letters_at_once(self):
        s = self.service(plan=lambda n: (400, {}, b'{"error":"unknown order"}\n' + b"x" * 2000))
        g = self.start({"type": "http", "url": f"http://127.0.0.1:{s.port}/"},
                       retry={"max_attempts": 5, "initial": "10ms", "max": "100ms"})
        self.post(g, "evt_d1")
        rows = hg.wait_for(self.dead)
        self.assertEqual(len(rows), 1, rows)
        self.assertIn('HTTP 400: {"error":"unknown order"}', rows[0])
        self.assertLess(len(rows[0]), 800)  # the first 512 bytes of the answer, not 2 KB
        self.assertEqual(len(s.requests), 1)  # not retried
        # a later event is still delivered: the sink is not stuck behind the dead one
        s.plan = lambda n: (200, {}, b"ok")
        self.post(g, "evt_d2")
        self.assertTrue(hg.wait_for(lambda: len(s.requests) >= 2))

    def test_sign_verifies_with_the_standard_profile(self):
        s = self.service()
        g = self.start({"type": "http", "url": f"http://127.0.0.1:{s.port}/", "sign": {"secret": INTERNAL}})
        self.post(g, "evt_sig")
        self.assertTrue(hg.wait_for(lambda: s.requests))
        _, _, h, body = s.requests[0]
        wid, ts, sig = h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"]
        self.assertEqual(wid, "generic:evt_sig")
        key = base64.b64decode(INTERNAL[len("whsec_"):])
        want = base64.b64encode(hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
        self.assertEqual(sig, "v1," + want)
        # and the project's own signer produces the same header for the same input
        p = subprocess.run([hg.BIN, "sign", "-p", "standard", "-s", INTERNAL, "--id", wid, "--timestamp", ts],
                           input=body, capture_output=True)
        self.assertIn(f"webhook-signature: {sig}".encode(), p.stdout)
        # a second gateway verifying with the standard profile accepts the forwarded request
        d2 = os.path.join(self.tmp, "g2")
        os.makedirs(d2, mode=0o700)
        cfg2 = hg.basic_config(d2, routes=[
            {"path": "/in", "profile": "standard", "secrets": [INTERNAL], "sinks": ["out"]}])
        g2 = hg.Gateway(d2, cfg2, hg.ENV)
        self.gws.append(g2)
        g2.start()
        r = hg.curl(g2.url("/in"), body, {"Content-Type": "application/cloudevents+json",
                                           "webhook-id": wid, "webhook-timestamp": ts,
                                           "webhook-signature": sig})
        self.assertEqual(r.status, 200, r.body)

    def test_check_refuses_bad_sign_secret_and_hides_url_password(self):
        def check(sink):
            cfg = hg.basic_config(self.tmp)
            cfg["sinks"] = {"svc": sink}
            for r in cfg["routes"]:
                r["sinks"] = ["svc"]
            path = os.path.join(self.tmp, "c.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            return subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True,
                                  env=dict(os.environ, **hg.ENV))
        p = check({"type": "http", "url": "http://127.0.0.1:9/", "sign": {"secret": "not-a-whsec"}})
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.sinks.svc.sign.secret: must be a Standard Webhooks secret", p.stderr)
        self.assertNotIn("not-a-whsec", p.stderr + p.stdout)
        p = check({"type": "http", "url": "https://user:hunter2@orders.internal/in"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("url=https://***@orders.internal/in", p.stdout)
        self.assertNotIn("hunter2", p.stdout + p.stderr)
        p = check({"type": "http", "url": "http://"})
        self.assertEqual(p.returncode, 1)

    def test_unix_socket(self):
        path = os.path.join(self.tmp, "svc.sock")
        s = self.service(unix_path=path)
        g = self.start({"type": "http", "url": "http://localhost/over-unix", "unix_socket": path})
        self.post(g, "evt_u1")
        self.assertTrue(hg.wait_for(lambda: s.requests))
        self.assertEqual(s.requests[0][1], "/over-unix")
        self.assertEqual(json.loads(s.requests[0][3])["id"], "evt_u1")

    def test_service_down_then_up(self):
        # a port nobody listens on yet: connection refused, retried with backoff
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        g = self.start({"type": "http", "url": f"http://127.0.0.1:{port}/"},
                       retry={"max_attempts": 100, "initial": "50ms", "max": "200ms"})
        self.post(g, "evt_down")
        fails = hg.wait_for(lambda: [l for l in g.logs() if l.get("msg") == "deliver: attempt failed; will retry"])
        self.assertTrue(fails)
        self.assertTrue(fails[0]["error"].startswith("http: "), fails[0])
        s = self.service(port=port)  # the service comes up on that port
        self.assertTrue(hg.wait_for(lambda: s.requests))
        self.assertEqual(json.loads(s.requests[0][3])["id"], "evt_down")
        self.assertEqual(self.dead(), [])


if __name__ == "__main__":
    hg.main()
