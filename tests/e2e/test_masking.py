"""Credentials shown (issue 15, item 9): `hookgate check`, logs and errors
mask URL query values and path tokens, whatever characters they hold.

- `check` shows a sink URL (http, and each NATS server of a jetstream
  sink) with its userinfo, every query value, its fragment and every path
  segment of 16 or more bytes as `***`: scheme, host, port, short segments
  and query keys stay, so an operator still recognises the URL.
- A config error about such a URL does not quote it.
- A 404 on a path no route owns (a producer with a mistyped route prefix)
  logs the path up to what it shares with a route's path; every later
  segment is `...` whatever it holds: short tokens, and tokens holding
  characters that are not token-like, too.
"""
import json
import os
import socket
import subprocess

import hg

TOKEN = "rt!tok@5$x*"  # short, and with characters no "token-like" rule would take
LONG_TOKEN = "Zq9$w&x*y(u)v{i}o[p]-LONG"


def check(tmp, cfg):
    path = os.path.join(tmp, "check.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True,
                          env=dict(os.environ, **hg.ENV), timeout=60)


def raw_request(port, target):
    """POST {} to a raw request target; the status."""
    data = hg.raw_exchange(port, b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                           b"Connection: close\r\n\r\n{}")
    return int(data.split(b" ", 2)[1])


class MaskingTest(hg.GatewayTest):
    def test_check_masks_sink_urls(self):
        cfg = hg.basic_config(self.tmp)
        cfg["sinks"]["svc"] = {"type": "http",
                               "url": "https://svc-user:pa55w0rd@svc.internal:8443/in/T000/"
                                      "XXXXsecretpathtokenXXXX?token=secret-q&x=y&bare#frag-secret"}
        cfg["sinks"]["log"] = {"type": "jetstream", "subject": "hooks.{route}", "stream": {"name": "H"},
                               "servers": ["nats://natsuser:natspass@127.0.0.1:4222",
                                           "nats://s3cr3tNatsT0ken@127.0.0.1:4223", "tls://10.0.0.5:4443"]}
        cfg["routes"][0]["sinks"] = ["out", "svc", "log"]
        p = check(self.tmp, cfg)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout + p.stderr
        self.assertIn("url=https://***@svc.internal:8443/in/T000/***?token=***&x=***&***#*** ", p.stdout)
        self.assertIn("servers=nats://***@127.0.0.1:4222,nats://***@127.0.0.1:4223,tls://10.0.0.5:4443 ",
                      p.stdout)
        for secret in ("svc-user", "pa55w0rd", "secretpathtoken", "secret-q", "x=y", "bare", "frag-secret",
                       "natsuser", "natspass", "s3cr3tNatsT0ken"):
            self.assertNotIn(secret, out)

    def test_config_error_does_not_quote_the_url(self):
        cfg = hg.basic_config(self.tmp)
        cfg["sinks"]["svc"] = {"type": "http", "url": "ftp://u:hunter2@h/x?token=secret-q"}
        p = check(self.tmp, cfg)
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.sinks.svc.url: must be an http:// or https:// URL", p.stderr)
        for secret in ("hunter2", "secret-q"):
            self.assertNotIn(secret, p.stdout + p.stderr)

    def test_404_log_masks_tokens_on_mistyped_prefixes(self):
        routes = [{"path": "/hooks/t", "profile": "generic", "secrets": ["env:T_SECRET"], "token": "env:T_TOKEN",
                   "sinks": ["out"]},
                  {"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"]}]
        g = self.gateway(hg.basic_config(self.tmp, routes=routes), env={"T_TOKEN": TOKEN})
        port = g.ports[0]
        cases = {
            b"/hooks/t/" + TOKEN.encode() + b"/x": "/hooks/t",  # under the token route: its path only
            b"/hooks/tt/" + TOKEN.encode(): "/hooks/.../...",  # a mistyped prefix
            b"/hook/t/" + TOKEN.encode(): "/.../.../...",
            b"/hooks/t" + TOKEN.encode(): "/hooks/...",  # the slash forgotten
            b"/hooks/generic/" + LONG_TOKEN.encode(): "/hooks/generic/...",
            b"/hooks/generic/" + TOKEN.encode() + b"?token=" + TOKEN.encode(): "/hooks/generic/...",
            b"/" + "\u202etok\u009b".encode(): "/...",
        }
        for target, shown in cases.items():
            with self.subTest(target=target):
                before = len(g.logs())
                self.assertEqual(raw_request(port, target), 404)
                self.assertTrue(hg.wait_for(lambda: [l for l in g.logs()[before:] if l.get("status") == 404], 10))
                self.assertEqual([l["path"] for l in g.logs()[before:] if l.get("status") == 404], [shown])
        log = g.stderr()
        for secret in (TOKEN, "rt!tok", "tok@5", LONG_TOKEN, "Zq9$w", "\u202etok"):
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    hg.main()
