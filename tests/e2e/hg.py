"""Helpers for hookgate end-to-end tests.

Every test starts the real binary ($HOOKGATE_BIN) on ephemeral ports with a
temporary config and data directory, and talks to it with the real curl (and
openssl) clients.  Nothing is mocked.  A Gateway keeps stdout (the events) and
stderr (JSON log lines) in files inside its temp dir, so tests read exactly
what an operator would see.
"""
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

BIN = os.path.abspath(os.environ.get("HOOKGATE_BIN", os.path.join(os.path.dirname(__file__), "../../build/hookgate")))
FIXTURES = os.environ.get("HG_FIXTURES", os.path.join(os.path.dirname(__file__), "../../../shared/fixtures"))


def vectors(profile):
    with open(os.path.join(FIXTURES, "vectors.json")) as f:
        return [v for v in json.load(f)["vectors"] if v["profile"] == profile]


def sign_generic(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def iex_headers(secret, body, event_id, event_type, ts=None, nonce="n1"):
    ts = str(int(time.time()) if ts is None else ts)
    canon = "\n".join(["v1", event_id, event_type, ts, nonce, hashlib.sha256(body).hexdigest()])
    sig = hmac.new(secret.encode(), canon.encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Webhook-Event-Id": event_id,
        "X-Webhook-Event-Type": event_type,
        "X-Webhook-Timestamp": ts,
        "X-Webhook-Nonce": nonce,
        "X-Webhook-Signature": "sha256=" + sig,
    }


def make_cert(d):
    """A self-signed localhost certificate generated now with the openssl CLI."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    return cert, key


def wait_for(pred, timeout=30):
    """Poll pred until it returns something true or timeout seconds pass;
    returns its last value (tests assert on it, never on the time taken)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def read(path):
    """A file's text, or "" if it does not exist (yet)."""
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


class Response:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    def json(self):
        return json.loads(self.body)


def curl(url, body=None, headers=None, method=None, cacert=None, extra=(), timeout=30):
    """One request with the curl CLI; returns a Response (status 0 = no answer)."""
    args = ["curl", "-sS", "-o", "-", "-D", "/dev/stderr", "--max-time", str(timeout)]
    if cacert:
        args += ["--cacert", cacert]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    if method:
        args += ["-X", method]
    inp = None
    if body is not None:
        args += ["--data-binary", "@-"]
        inp = body
    args += list(extra) + [url]
    p = subprocess.run(args, input=inp, capture_output=True)
    status, hdrs = 0, {}
    for line in p.stderr.decode(errors="replace").splitlines():
        if line.startswith("HTTP/"):
            status, hdrs = int(line.split()[1]), {}
        elif ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return Response(status, p.stdout.decode(errors="replace"), hdrs)


class Gateway:
    """The real hookgate serving a config; listeners on ephemeral ports."""

    def __init__(self, tmp, config=None, env=None, cwd=None):
        self.tmp = tmp
        self.cfg_path = None
        if config is not None:
            config.setdefault("data_dir", os.path.join(tmp, "data"))
            self.cfg_path = os.path.join(tmp, "hookgate.json")
            with open(self.cfg_path, "w") as f:
                json.dump(config, f)
        self.env = dict(os.environ, **(env or {}))
        self.cwd = cwd or tmp
        self.out_path = os.path.join(tmp, "stdout.ndjson")
        self.err_path = os.path.join(tmp, "stderr.log")
        self.proc = None
        self.ports = []

    def start(self, broken_stdout=False, stdout_fd=None):
        """broken_stdout: fd 1 is a pipe whose reader is already closed, so
        every delivery to stdout fails (EPIPE) and events stay undelivered.
        stdout_fd: a file descriptor to use as fd 1 (closed here after the start)."""
        args = [BIN, "serve"] + (["-c", self.cfg_path] if self.cfg_path else [])
        self.out = open(self.out_path, "ab")
        if stdout_fd is not None:
            self.out.close()
            self.out = os.fdopen(stdout_fd, "wb")
        elif broken_stdout:
            rfd, wfd = os.pipe()
            os.close(rfd)
            self.out.close()
            self.out = os.fdopen(wfd, "wb")
        self.err = open(self.err_path, "ab")
        self.err_offset = os.path.getsize(self.err_path)
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=self.err, env=self.env, cwd=self.cwd)
        deadline = time.time() + 20
        while time.time() < deadline:
            logs = self.logs(since_start=True)
            if any(l.get("msg") == "hookgate started" for l in logs):
                self.ports = [l["port"] for l in logs if l.get("msg") == "listening"]
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("hookgate exited %d: %s" % (self.proc.returncode, self.stderr()))
            time.sleep(0.05)
        raise RuntimeError("hookgate did not start: " + self.stderr())

    def url(self, path, i=0, scheme=None):
        scheme = scheme or "http"
        return f"{scheme}://127.0.0.1:{self.ports[i]}{path}"

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def logs(self, since_start=False):
        with open(self.err_path, "rb") as f:
            if since_start:
                f.seek(self.err_offset)
            out = []
            for line in f.read().decode(errors="replace").splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"msg": "(not json)", "raw": line})
            return out

    def events(self):
        with open(self.out_path, "rb") as f:
            # only complete lines: the gateway may be writing the last one now
            return [json.loads(l) for l in f.read().split(b"\n")[:-1] if l.strip()]

    def wait_events(self, n, timeout=20):
        """Wait until at least n event lines are on stdout (delivery is asynchronous)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ev = self.events()
            if len(ev) >= n:
                return ev
            time.sleep(0.05)
        return self.events()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        for f in (getattr(self, "out", None), getattr(self, "err", None)):
            if f:
                f.close()
        return rc


_EVENT_VALIDATOR = []


def event_validator():
    """A jsonschema validator for schemas/event.schema.json, or None when the
    jsonschema package is missing (scripts/deps installs it)."""
    if not _EVENT_VALIDATOR:
        try:
            from jsonschema import Draft202012Validator
            path = os.path.join(os.path.dirname(__file__), "../../schemas/event.schema.json")
            with open(path) as f:
                _EVENT_VALIDATOR.append(Draft202012Validator(json.load(f)))
        except ImportError:
            _EVENT_VALIDATOR.append(None)
    return _EVENT_VALIDATOR[0]


def basic_config(tmp, routes=None, listen=None, **top):
    cfg = {
        "listen": listen or [{"address": "127.0.0.1:0"}],
        "data_dir": os.path.join(tmp, "data"),
        "routes": routes or [
            {"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"]},
            {"path": "/hooks/iex", "profile": "iex", "secrets": ["env:T_OLD", "env:T_NEW"], "sinks": ["out"]},
        ],
        "sinks": {"out": {"type": "stdout"}},
    }
    cfg.update(top)
    return cfg


ENV = {"T_SECRET": "generic-secret", "T_OLD": "iex-old-secret", "T_NEW": "iex-new-secret"}


class GatewayTest(unittest.TestCase):
    """Base class: a fresh temp dir per test, gateways stopped at the end.

    scheme = "https" in a subclass runs the same tests over TLS: config()
    gives the gateway a listener with a certificate generated for the test,
    and req()/post_generic()/connect() talk to it over TLS, verifying it."""

    scheme = "http"
    cert = None

    def config(self, **kw):
        """basic_config with this class's scheme on its one listener."""
        if self.scheme == "https":
            self.cert, key = make_cert(self.tmp)
            kw["listen"] = [{"address": "127.0.0.1:0", "tls": {"cert": self.cert, "key": key}}]
        return basic_config(self.tmp, **kw)

    def u(self, g, path):
        return g.url(path, scheme=self.scheme)

    def req(self, g, path, body=None, headers=None, **kw):
        return curl(self.u(g, path), body, headers, cacert=self.cert, **kw)

    def connect(self, g, timeout=10):
        """A raw client socket to the gateway (TLS-wrapped for https)."""
        s = socket.create_connection(("127.0.0.1", g.ports[0]), timeout=timeout)
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.cert)
            s = ctx.wrap_socket(s, server_hostname="localhost")
        return s

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hg-e2e-")
        self.gws = []

    def tearDown(self):
        for g in self.gws:
            g.stop(signal.SIGKILL)
        try:
            self.check_envelopes()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def check_envelopes(self):
        """Every event any gateway of this test wrote to stdout is one JSON
        envelope per line that validates against schemas/event.schema.json
        (contract section 6), so every e2e test checks the schema."""
        v = event_validator()
        if v is None:
            return
        bad = []
        for g in self.gws:
            path = getattr(g, "out_path", None)
            if not path or not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                lines = f.read().split(b"\n")[:-1]  # a SIGKILL may cut the last line
            for line in lines:
                if not line.strip():
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    bad.append(f"not JSON on stdout: {line[:120]!r}")
                    continue
                bad += [f"{ev.get('id') if isinstance(ev, dict) else ev!r}: {e.message}"
                        for e in v.iter_errors(ev)]
        if bad:
            self.fail("envelopes that do not match schemas/event.schema.json:\n" + "\n".join(bad[:20]))

    def gateway(self, config=None, env=None, start=True, broken_stdout=False, **kw):
        g = Gateway(self.tmp, config, dict(ENV, **(env or {})), **kw)
        self.gws.append(g)
        return g.start(broken_stdout) if start else g

    def post_generic(self, g, body, secret="generic-secret", headers=None, path="/hooks/generic", **kw):
        h = {"Content-Type": "application/json", "X-Webhook-Signature": sign_generic(secret, body)}
        h.update(headers or {})
        kw.setdefault("scheme", self.scheme)
        if kw["scheme"] == "https":
            kw.setdefault("cacert", self.cert)
        return curl(g.url(path, **{k: v for k, v in kw.items() if k in ("i", "scheme")}), body, h,
                    **{k: v for k, v in kw.items() if k not in ("i", "scheme")})


def main():
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print(f"{r.testsRun - failed - len(r.skipped)} passed, {failed} failed, {len(r.skipped)} skipped")
    raise SystemExit(1 if failed or r.testsRun == 0 else 0)
