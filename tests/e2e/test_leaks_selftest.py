"""The leak sweep (issue 8, item 5) can fail, and hg.py's capture feeds it.

scripts/test runs the whole end-to-end suite with $HG_LEAK_DIR set and then
tests/leaks/sweep.py over that directory; a clean sweep only means something
if the capture records what the gateway shows and the sweep finds a secret
in it.  Each test here runs a child Python process with a leak directory of
its own (never the suite's: these leaks are deliberate), driving the real
binary through hg.py, then the sweep over that directory:

- sweep.py --selftest: encoded forms (hex, base64 at every alignment,
  URL-safe), masking, sig_ok, empty directories;
- a clean run (good and bad signatures, /metrics, a raw socket, `check`,
  `sign`, a TLS key, a file: secret) is recorded in every kind and sweeps to
  0 hits, with the configured secrets and the signatures sent as needles;
- a config whose route path contains its own secret makes the real gateway
  log and print that secret: the sweep exits 1 naming the stderr and CLI
  records, and never prints the secret itself;
- a record holding the base64 of a secret (no gateway involved) exits 1.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest

import hg

HERE = os.path.dirname(os.path.abspath(__file__))
SWEEP = os.path.join(HERE, "../leaks/sweep.py")

PRELUDE = """
import base64, json, os, signal, socket, subprocess, sys
sys.path.insert(0, %r)
import hg
tmp = sys.argv[1]
""" % HERE

CLEAN = PRELUDE + """
cert, key = hg.make_cert(tmp)
with open(os.open(os.path.join(tmp, "file-secret"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write("from-a-file-7Hq2\\n")
cfg = hg.basic_config(tmp, listen=[{"address": "127.0.0.1:0"},
                                   {"address": "127.0.0.1:0", "tls": {"cert": cert, "key": key}}])
cfg["routes"].append({"path": "/hooks/f", "profile": "generic", "secrets": ["file:file-secret"], "sinks": ["out"]})
g = hg.Gateway(tmp, cfg, dict(os.environ, **hg.ENV))
g.start()
body = b'{"event_id":"leak-1","event":"ping"}'
ok = hg.curl(g.url("/hooks/generic"), body, {"X-Webhook-Signature": hg.sign_generic("generic-secret", body)})
bad = hg.curl(g.url("/hooks/generic"), body, {"X-Webhook-Signature": hg.sign_generic("not-the-secret", body)})
f = hg.curl(g.url("/hooks/f"), body, {"X-Webhook-Signature": hg.sign_generic("nope-wrong-secret", body)})
m = hg.curl(g.url("/metrics"))
s = socket.create_connection(("127.0.0.1", g.ports[0]), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
raw = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    raw += c
s.close()
chk = subprocess.run([hg.BIN, "check", "-c", g.cfg_path], capture_output=True, text=True, env=g.env, cwd=tmp)
sig = subprocess.run([hg.BIN, "sign", "-p", "generic", "-s", "generic-secret"], input=body, capture_output=True)
assert g.wait_events(1), g.stderr()
g.stop()
print(json.dumps({"ok": ok.status, "bad": bad.status, "f": f.status, "metrics": m.status,
                  "raw": raw.split(b"\\r\\n")[0].decode(), "check": chk.returncode, "sign": sig.returncode}))
"""

LEAKY_SECRET = "leaky-route-Zq7w3e"
LEAKY = PRELUDE + """
cfg = hg.basic_config(tmp, routes=[{"path": "/hooks/%s", "profile": "generic",
                                    "secrets": ["%s"], "sinks": ["out"]}])
g = hg.Gateway(tmp, cfg, dict(os.environ, **hg.ENV))
g.start()
r = hg.curl(g.url("/hooks/%s"), b'{"event_id":"x"}', {"X-Webhook-Signature": "sha256=" + "ab" * 32})
chk = subprocess.run([hg.BIN, "check", "-c", g.cfg_path], capture_output=True, text=True)
g.stop()
print(json.dumps({"status": r.status, "check": chk.returncode}))
""" % (LEAKY_SECRET, LEAKY_SECRET, LEAKY_SECRET)

SYNTHETIC_SECRET = b"synthetic-secret->?~42"
SYNTHETIC = PRELUDE + """
secret = %r
hg.leak_needle(secret, "secret", "synthetic")
hg.leak_record("stderr", "synthetic log line", b'{"msg":"debug","blob":"' + base64.b64encode(b"A" + secret) + b'"}')
hg.leak_record("response", "synthetic clean answer", b"HTTP/1.1 401 Unauthorized\\r\\n\\r\\nsignature mismatch")
""" % SYNTHETIC_SECRET


class LeakSweep(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hg-leaks-")
        self.leaks = os.path.join(self.tmp, "leaks")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp])

    def child(self, code):
        """Run code in a child Python with its own $HG_LEAK_DIR; its last stdout line as JSON (or None)."""
        env = dict(os.environ, HG_LEAK_DIR=self.leaks, HOOKGATE_BIN=hg.BIN)
        p = subprocess.run([sys.executable, "-c", code, self.tmp], capture_output=True, text=True,
                           env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None

    def sweep(self):
        p = subprocess.run([sys.executable, SWEEP, self.leaks], capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def needles(self):
        out = set()
        for name in os.listdir(self.leaks):
            if name.startswith("needles-"):
                with open(os.path.join(self.leaks, name)) as f:
                    out |= {bytes.fromhex(json.loads(line)["hex"]) for line in f}
        return out

    def kinds(self):
        out = set()
        for name in os.listdir(self.leaks):
            if name.startswith("rec-"):
                with open(os.path.join(self.leaks, name)) as f:
                    out |= {json.loads(line)["kind"] for line in f}
        return out

    def test_sweep_selftest(self):
        p = subprocess.run([sys.executable, SWEEP, "--selftest"], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("selftest passed", p.stdout)

    def test_sweep_of_nothing_fails(self):
        os.mkdir(self.leaks)
        rc, out = self.sweep()
        self.assertEqual(rc, 1, out)
        self.assertIn("leak sweep: 0 records", out)

    def test_clean_run_is_captured_and_sweeps_clean(self):
        res = self.child(CLEAN)
        self.assertEqual(res, {"ok": 200, "bad": 401, "f": 401, "metrics": 200, "raw": "HTTP/1.1 200 OK",
                               "check": 0, "sign": 0})
        rc, out = self.sweep()
        self.assertEqual(rc, 0, out)
        self.assertIn(" 0 hits", out)
        self.assertLessEqual({"stderr", "response", "cli", "socket", "envelope"}, self.kinds(), out)
        needles = self.needles()
        body = b'{"event_id":"leak-1","event":"ping"}'
        sig = hg.sign_generic("generic-secret", body)
        for n in (b"generic-secret", b"iex-old-secret", b"from-a-file-7Hq2", sig.encode(), sig[7:].encode(),
                  bytes.fromhex(sig[7:])):
            self.assertIn(n, needles)
        with open(os.path.join(self.tmp, "key.pem"), "rb") as f:
            pem = f.read().split(b"\n")
        self.assertIn(pem[1], needles)  # a line of the TLS private key

    def test_a_secret_the_gateway_shows_is_found(self):
        res = self.child(LEAKY)
        self.assertEqual(res, {"status": 401, "check": 0})
        rc, out = self.sweep()
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"LEAK \S+ \[stderr\] gateway stderr")  # "request rejected" names the route path
        self.assertRegex(out, r"LEAK \S+ \[cli\] cli hookgate check")  # check prints the routes
        self.assertNotIn(LEAKY_SECRET, out)

    def test_base64_of_a_secret_in_a_record_is_found(self):
        self.child(SYNTHETIC)
        rc, out = self.sweep()
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"leak sweep: 2 records, \d+ needles, 1 hits")
        self.assertIn("synthetic log line", out)
        self.assertIn("as base64@1", out)
        self.assertNotIn(base64.b64encode(b"A" + SYNTHETIC_SECRET).decode()[4:], out)


if __name__ == "__main__":
    hg.main()
