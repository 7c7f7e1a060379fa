"""Hostile or unusual clients and shutdown: every case here was a defect
found in review, so each test fails on the old behaviour."""
import fcntl
import json
import os
import signal
import socket
import subprocess
import threading
import time

import hg


def raw(port, data, timeout=10):
    """Send raw bytes, return everything the server answers until it closes
    or stops talking."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if n and len(rest) >= n[0]:
                    break
    except socket.timeout:
        pass
    s.close()
    return out


class Hardening(hg.GatewayTest):
    def test_invalid_utf8_header_id_is_400(self):
        g = self.gateway(hg.basic_config(self.tmp))
        body = b"not json at all"
        sig = hg.sign_generic("generic-secret", body)
        req = (b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
               b"X-Webhook-Signature: " + sig.encode() + b"\r\nX-Webhook-Event-Id: ab\xff\xfecd\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        out = raw(g.ports[0], req)
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:200])
        self.assertEqual(g.events(), [])

    def test_header_id_replay_is_a_duplicate(self):
        """The generic signature covers only the body: a captured body sent
        again under a new X-Webhook-Event-Id must not become a new event."""
        g = self.gateway(hg.basic_config(self.tmp))
        body = b'{"event":"order.created","amount":5}'
        r1 = self.post_generic(g, body, headers={"X-Webhook-Event-Id": "del-1"})
        r2 = self.post_generic(g, body, headers={"X-Webhook-Event-Id": "del-2-forged"})
        self.assertEqual(r1.json()["status"], "accepted")
        self.assertEqual(r2.json(), {"status": "duplicate", "id": "del-2-forged"})
        # a different body with its own header id is a new event
        r3 = self.post_generic(g, b'{"event":"order.created","amount":6}', headers={"X-Webhook-Event-Id": "del-3"})
        self.assertEqual(r3.json()["status"], "accepted")
        time.sleep(0.2)
        self.assertEqual([e["id"] for e in g.wait_events(2)], ["del-1", "del-3"])

    def test_two_content_lengths_are_400(self):
        g = self.gateway(hg.basic_config(self.tmp))
        out = raw(g.ports[0], b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                               b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
        self.assertRegex(out[:12], rb"HTTP/1.1 400")

    def test_healthz_method(self):
        g = self.gateway(hg.basic_config(self.tmp))
        r = hg.curl(g.url("/healthz"), b"{}")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers.get("allow"), "GET, HEAD")
        for _ in range(3):  # answered from a fresh probe; still 200
            self.assertEqual(hg.curl(g.url("/readyz")).status, 200)
            self.assertEqual(hg.curl(g.url("/healthz")).status, 200)
        self.assertEqual(hg.curl(g.url("/readyz"), b"{}").status, 405)

    def test_unprintable_path_still_logged(self):
        g = self.gateway(hg.basic_config(self.tmp))
        raw(g.ports[0], b"POST /x\xff\xfe HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        rej = [l for l in g.logs() if l.get("msg") == "request rejected"]
        self.assertTrue(rej)
        self.assertEqual(rej[-1]["status"], 404)
        self.assertEqual(rej[-1]["path"], "/...")  # no route's segment: masked, whatever it holds

    def test_text_labelled_json_any_case(self):
        """A body labelled JSON (in any case) that is not JSON is refused, not
        stored as text; a text type that merely mentions json keeps it text."""
        g = self.gateway(hg.basic_config(self.tmp))
        r = self.post_generic(g, b"hello world", headers={"Content-Type": "Application/JSON",
                                                          "X-Webhook-Event-Id": "t1"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"error": "body is not valid JSON"})
        r = self.post_generic(g, b"hello world", headers={"Content-Type": "Text/JSON",
                                                          "X-Webhook-Event-Id": "t1"})
        self.assertEqual(r.status, 200)
        e = g.wait_events(1)[0]
        self.assertEqual(e["data"], "hello world")
        self.assertEqual(e["datacontenttype"], "text/plain")

    def test_slow_body_is_cut_off(self):
        cfg = hg.basic_config(self.tmp, limits={"request_timeout": "1s"})
        g = self.gateway(cfg)
        s = socket.create_connection(("127.0.0.1", g.ports[0]), timeout=5)
        s.sendall(b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        closed = False
        for _ in range(60):  # 60 bytes at 0.3 s each: never completes the body
            try:
                s.sendall(b"x")
                time.sleep(0.3)
            except OSError:
                closed = True
                break
        if not closed:
            s.settimeout(2)
            try:
                closed = s.recv(100) == b""
            except OSError:
                closed = True
        s.close()
        self.assertTrue(closed, "a body trickling past request_timeout kept its connection")
        self.assertIn("request_timeout: body too slow; connection closed",
                      [l.get("reason") for l in g.logs()])

    def test_huge_escaped_body_is_delivered_not_skipped(self):
        """A text body of control characters grows 6-fold when escaped: it
        must still be delivered, not skipped."""
        cfg = hg.basic_config(self.tmp, limits={"max_body": "4MiB"})
        g = self.gateway(cfg)
        body = b"\x01" * (3 << 20)
        r = self.post_generic(g, body, headers={"X-Webhook-Event-Id": "ctl", "Content-Type": "text/plain"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.post_generic(g, b'{"event_id":"after-ctl"}').status, 200)
        ev = g.wait_events(2, timeout=60)
        self.assertEqual([e["id"] for e in ev], ["ctl", "after-ctl"])
        self.assertEqual(ev[0]["data"], "\x01" * (3 << 20))

    def test_nonblocking_stdout_never_tears_lines(self):
        cfg = hg.basic_config(self.tmp)
        rfd, wfd = os.pipe()
        fl = fcntl.fcntl(wfd, fcntl.F_GETFL)
        fcntl.fcntl(wfd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        g = hg.Gateway(self.tmp, cfg, dict(os.environ, **hg.ENV))
        self.gws.append(g)
        g.start(stdout_fd=wfd)
        port = g.ports[0]
        pad = "p" * 20000
        ids = []
        for i in range(20):
            body = json.dumps({"event_id": f"nb-{i}", "pad": pad}).encode()
            h = {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic("generic-secret", body)}
            self.assertEqual(hg.curl(f"http://127.0.0.1:{port}/hooks/generic", body, h).status, 200)
            ids.append(f"nb-{i}")
        data = b""
        with os.fdopen(rfd, "rb", buffering=0) as f:
            fcntl.fcntl(rfd, fcntl.F_SETFL, fcntl.fcntl(rfd, fcntl.F_GETFL) | os.O_NONBLOCK)
            deadline = time.time() + 30
            while time.time() < deadline and data.count(b"\n") < 20:
                try:
                    chunk = f.read(4096)  # slowly: the writer sees EAGAIN often
                    if chunk:
                        data += chunk
                except BlockingIOError:
                    pass
                time.sleep(0.002)
        lines = data.split(b"\n")[:-1]
        parsed = [json.loads(l) for l in lines]  # a torn line would raise here
        self.assertEqual([p["id"] for p in parsed], ids)

    def test_sigterm_answers_every_request_in_flight(self):
        cfg = hg.basic_config(self.tmp)
        g = self.gateway(cfg)
        n = 40
        socks, bodies = [], []
        for i in range(n):
            body = json.dumps({"event_id": f"term-{i}"}).encode()
            sig = hg.sign_generic("generic-secret", body)
            req = (b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"X-Webhook-Signature: " + sig.encode() + b"\r\nContent-Length: " +
                   str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            s = socket.create_connection(("127.0.0.1", g.ports[0]), timeout=20)
            s.sendall(req[:-1])  # hold back the last byte
            socks.append((s, req[-1:]))
        time.sleep(0.3)
        for s, last in socks:
            s.sendall(last)
        g.proc.send_signal(signal.SIGTERM)
        answers = []
        for s, _ in socks:
            out = b""
            while True:
                try:
                    chunk = s.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            s.close()
            answers.append(out)
        self.assertEqual(g.proc.wait(20), 0)
        statuses = [a[9:12] for a in answers]
        self.assertNotIn(b"", statuses, "a request got no answer at all")
        for st in statuses:
            self.assertIn(st, (b"200", b"503"))
        accepted = {f"term-{i}" for i, a in enumerate(answers) if a[9:12] == b"200"}
        g.stop()
        g2 = self.gateway(cfg)
        for i in range(n):  # whatever got a 200 is stored: a resend is a duplicate
            body = json.dumps({"event_id": f"term-{i}"}).encode()
            st = self.post_generic(g2, body).json()["status"]
            self.assertEqual(st, "duplicate" if f"term-{i}" in accepted else "accepted", i)


if __name__ == "__main__":
    hg.main()
