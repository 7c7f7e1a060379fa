"""Helpers for hookgate end-to-end tests.

Every test starts the real binary ($HOOKGATE_BIN) on ephemeral ports with a
temporary config and data directory, and talks to it with the real curl (and
openssl) clients.  Nothing is mocked.  A Gateway keeps stdout (the events) and
stderr (JSON log lines) in files inside its temp dir, so tests read exactly
what an operator would see.

With $HG_LEAK_DIR set, everything the gateway shows an operator or a client
(stderr logs, answers, CLI output, envelope attributes) and every secret and
signature the tests configure or compute are recorded there for
tests/leaks/sweep.py (see "Leak capture" at the end of this file).
"""
import atexit
import base64
import hashlib
import hmac
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import weakref

BIN = os.path.abspath(os.environ.get("HOOKGATE_BIN", os.path.join(os.path.dirname(__file__), "../../build/hookgate")))
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))  # the checkout
FIXTURES = os.environ.get("HG_FIXTURES", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))
LEAK_DIR = os.path.abspath(os.environ["HG_LEAK_DIR"]) if os.environ.get("HG_LEAK_DIR") else None


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
    if LEAK_DIR:
        _leak_curl(url, headers, extra, p)
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
        if LEAK_DIR:
            _leak_gateway_new(self)

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
                if LEAK_DIR:
                    _leak_gateway_needles(self)  # e.g. ./hookgate-data/secret exists now
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
        if LEAK_DIR:
            _leak_gateway_needles(self)  # a test may have rewritten the config or a secret file
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
        if LEAK_DIR:
            _leak_gateway_capture(self)
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
        if LEAK_DIR:
            _LEAK["test"] = self.id()

    def tearDown(self):
        for g in self.gws:
            g.stop(signal.SIGKILL)
        if LEAK_DIR:
            _leak_flush_all()  # before the temp dir (and the logs in it) goes
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


def main(what="known limits"):
    """unittest.main for a test file: prints "N passed, N failed, N skipped"
    (with "N expected failures (WHAT)" when the file marks cases it knows
    fail) and exits 1 on a failure, an error, an unexpected success (the
    case now holds: remove its expectedFailure mark) or no test run."""
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    bad = len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses)
    for t in r.unexpectedSuccesses:
        print(f"UNEXPECTED SUCCESS: {t.id()} - no longer one of the {what}: remove its expectedFailure mark")
    xf = f"{len(r.expectedFailures)} expected failures ({what}), " if r.expectedFailures else ""
    print(f"{r.testsRun - bad - len(r.skipped) - len(r.expectedFailures)} passed, {bad} failed, "
          f"{xf}{len(r.skipped)} skipped")
    raise SystemExit(1 if bad or r.testsRun == 0 else 0)


# ---- Raw clients and process probes (hostile, framing, lockout tests) -------------


def raw_exchange(port, data, host="127.0.0.1", timeout=30):
    """Send data on a new plain TCP connection and read until the server
    closes it (send Connection: close); returns every byte it sent."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def sanitized_build():
    """True for an ASan build (HG_SANITIZED=1/0 overrides the check, which
    looks for the ASan runtime's entry point in the binary)."""
    v = os.environ.get("HG_SANITIZED")
    if v is not None:
        return v not in ("", "0")
    with open(BIN, "rb") as f:
        return b"__asan_init" in f.read()


def raise_nofile(need):
    """Raise this process's RLIMIT_NOFILE (inherited by the gateways it
    starts) to at least need if the hard limit allows (root may raise that
    too); returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft >= need:
        return soft
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return need
        except (ValueError, OSError):
            need = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return need


class RawClient:
    """A raw client connection that keeps what it has read; wait (s) is the
    default bound of response() and closed_by_server()."""

    def __init__(self, sock, wait=30):
        self.s = sock
        self.wait = wait
        self.buf = b""
        self.eof = False

    def send(self, data):
        """False if the server has closed the connection (EPIPE/ECONNRESET);
        what it sent before can still be read."""
        try:
            self.s.settimeout(30)
            self.s.sendall(data)
            return True
        except (OSError, ssl.SSLError):
            return False

    def _fill(self, timeout):
        """Read once, waiting at most timeout: True if bytes came, False on a
        timeout; sets eof when the server closed (FIN, reset, TLS EOF)."""
        if self.eof:
            return False
        self.s.settimeout(max(timeout, 0.001))
        try:
            c = self.s.recv(65536)
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError):
            self.eof = True
            return False
        if not c:
            self.eof = True
            return False
        self.buf += c
        return True

    def response(self, timeout=None):
        """(status, headers, body) of the next response, or None if the
        server closed the connection or said nothing within timeout."""
        deadline = time.time() + (self.wait if timeout is None else timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline - time.time()) and (self.eof or time.time() >= deadline):
                return None
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            hdrs[k.strip().lower().decode()] = v.strip().decode(errors="replace")
        n = int(hdrs.get("content-length", "0"))
        while len(rest) < n:
            if not self._fill(deadline - time.time()) and (self.eof or time.time() >= deadline):
                return None
            head, _, rest = self.buf.partition(b"\r\n\r\n")
        self.buf = rest[n:]
        return int(lines[0].split()[1]), hdrs, rest[:n]

    def closed_by_server(self, timeout=None):
        """True once the server has closed the connection (reading and
        keeping whatever it sent before), False if still open after timeout."""
        deadline = time.time() + (self.wait if timeout is None else timeout)
        while not self.eof and time.time() < deadline:
            self._fill(deadline - time.time())
        return self.eof

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def gateway_sockets(g):
    """How many sockets the gateway process holds (listeners included)."""
    n = 0
    d = f"/proc/{g.proc.pid}/fd"
    for fd in os.listdir(d):
        try:
            n += os.readlink(os.path.join(d, fd)).startswith("socket:")
        except OSError:
            pass
    return n


def proc_status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


# ---- Leak capture -----------------------------------------------------------------
#
# Off unless $HG_LEAK_DIR is set (scripts/test sets it for the whole ctest run and
# then runs tests/leaks/sweep.py over it).  Each test process appends to two files
# of its own there (pid and a random tag in the name, so the processes of a
# `ctest -j2` run never share one), one JSON object per line:
#
#   rec-*.jsonl      what the gateway shows someone other than the test's author:
#                    - each gateway's stderr (at stop(), at tearDown, at exit),
#                    - every answer hg.curl() gets (status line, headers, body;
#                      /metrics scrapes included),
#                    - stdout and stderr of every run of the hookgate binary, by
#                      whoever starts it with subprocess.run/Popen (patched below:
#                      test files call subprocess.run([hg.BIN, ...]) themselves),
#                    - what test clients read on raw sockets / http.client
#                      connections to a running gateway's TCP port,
#                    - the envelope attributes of each gateway's stdout events
#                      (everything but data/data_base64).
#   needles-*.jsonl  what must never appear in a record: secret-looking config
#                    values (`secret(s)`, `token`, `password`, auth headers of
#                    sinks, URL passwords, TLS private keys, NATS seeds; `env:`
#                    and `file:` resolved), secret-looking environment variables
#                    and hg.ENV, signature and auth headers hg.curl() sends (whole
#                    value, each hex/base64 part and its decoded bytes), and every
#                    HMAC key and digest the tests compute (hmac.new/hmac.digest
#                    are patched below), so every expected signature is a needle
#                    whichever client sends it.  Values are stored as hex.
#
# Not recorded, on purpose: a gateway's stdout payloads (data/data_base64 carry the
# producers' bodies, which a test may fill with anything) and what the gateway
# sends to test services (its sinks' requests carry auth headers and signatures
# by design).  `hookgate sign` exists to print signatures: its stdout is marked
# sig_ok, where the sweep still looks for secrets but not for signatures (and,
# for a token profile, whose "signature" is the token, lists that token in
# allow_hex).  CLI output is recorded whole, `events show` envelopes included.

_LEAK = {"test": os.path.basename(sys.argv[0] or "python"), "pid": None, "tag": None, "fds": {},
         "seen": set(), "gateways": [], "offsets": {}, "gwsig": {}, "tees": [],
         "sockcls": weakref.WeakKeyDictionary(), "socks": {}, "nsock": 0}
_LEAK_LOCK = threading.RLock()
_LEAK_TL = threading.local()
_SECRET_KEY_RE = re.compile(r"^(secrets?|token|password|passwd|api_?key|private_?key)$", re.I)
_SECRET_ENV_RE = re.compile(r"SECRET|TOKEN|PASSW|PRIVATE|CREDENTIAL", re.I)
# a timestamp header beside a signature (X-Signature-Timestamp) is no secret, nor is an
# idempotency key (I-Twilio-Idempotency-Token: the event's id, echoed in answers)
_JWT_BEARER_RE = re.compile(r"(?i)^bearer\s+[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$")
_SIG_HEADER_RE = re.compile(r"^(?!.*timestamp)(?:.*signature|.*hmac)", re.I)
_AUTH_HEADER_RE = re.compile(
    r"^(?!.*idempotency)(?:(proxy-)?authorization$|cookie$|.*token|.*secret|.*api-?key|.*password)", re.I)


def _leak_bytes(v):
    return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else bytes(v)


def _leak_write(tag, obj):
    line = (json.dumps(obj) + "\n").encode()
    with _LEAK_LOCK:
        if _LEAK["pid"] != os.getpid():  # first use, or a forked child: files of its own
            _LEAK.update(pid=os.getpid(), tag=os.urandom(4).hex(), fds={})
            os.makedirs(LEAK_DIR, exist_ok=True)
        fd = _LEAK["fds"].get(tag)
        if fd is None:
            path = os.path.join(LEAK_DIR, f"{tag}-{_LEAK['pid']}-{_LEAK['tag']}.jsonl")
            fd = _LEAK["fds"][tag] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        while line:
            line = line[os.write(fd, line):]


def leak_record(kind, what, data, sig_ok=False, allow=()):
    """Record data (bytes or str) that the gateway showed someone (no-op without
    $HG_LEAK_DIR).  sig_ok: the output exists to show signatures (hookgate sign);
    allow: values that output exists to show (the token `hookgate sign` prints
    for a token profile)."""
    if not LEAK_DIR or data is None:
        return
    data = _leak_bytes(data)
    if data:
        _leak_write("rec", {"kind": kind, "what": what, "test": _LEAK["test"], "sig_ok": sig_ok,
                            "allow_hex": [_leak_bytes(a).hex() for a in allow],
                            "text": data.decode("utf-8", "surrogateescape")})


def leak_needle(value, cls, origin):
    """value (bytes or str) must never appear in a record; cls is "secret" or
    "signature" (no-op without $HG_LEAK_DIR)."""
    if not LEAK_DIR or value is None:
        return
    b = _leak_bytes(value)
    if not b:
        return
    with _LEAK_LOCK:
        if (b, cls) in _LEAK["seen"]:
            return
        _LEAK["seen"].add((b, cls))
    _leak_write("needles", {"hex": b.hex(), "cls": cls, "origin": origin})


def _leak_error(where, exc):
    """A capture that failed: recorded, and the sweep fails on it (a silent gap in
    the capture would make a clean sweep meaningless)."""
    try:
        leak_record("capture-error", where, f"{type(exc).__name__}: {exc}")
    except Exception:  # the leak dir itself is unusable: say so where ctest shows it
        print(f"hg leak capture: {where}: {exc!r}", file=sys.stderr)


def _leak_decode(part):
    """The bytes behind a hex or base64 signature part, or None."""
    if len(part) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", part):
        return bytes.fromhex(part)
    try:
        return base64.b64decode(part.replace("-", "+").replace("_", "/") + "=" * (-len(part) % 4), validate=True)
    except ValueError:
        return None


def _leak_secret_value(v, origin):
    b = _leak_bytes(v)
    if b.startswith(b"whpk_"):  # an Ed25519 public key: public by design
        return
    leak_needle(b, "secret", origin)
    if b.startswith(b"whsec_"):  # the key the HMAC runs with
        try:
            leak_needle(base64.b64decode(b[6:], validate=True), "secret", origin + " (whsec_ key)")
        except ValueError:
            pass


def _leak_header_value(name, value, origin):
    """Needles from a request header a test client sends (or a sink is configured with)."""
    name = str(name)
    if name.lower() == "x-csrf-token":
        # the console's CSRF token (docs/console.md) is handed out by /api/login and
        # /api/session to the session that sends it back: no credential by itself
        return
    if _SIG_HEADER_RE.search(name) or _JWT_BEARER_RE.match(str(value).strip()):
        cls = "signature"  # a JWT is a signed statement (`hookgate sign` prints it), not a secret
    elif _AUTH_HEADER_RE.search(name):
        cls = "secret"
    else:
        return
    v = str(value).strip()
    leak_needle(v, cls, origin)
    m = re.match(r"(?i)(bearer|token|basic)\s+(\S+)", v)
    if m:
        leak_needle(m.group(2), cls, origin + " (credential)")
        if m.group(1).lower() == "basic":
            d = _leak_decode(m.group(2)) or b""
            leak_needle(d.partition(b":")[2], cls, origin + " (basic password)")
    for part in re.findall(r"[A-Za-z0-9+/_-]{16,}={0,2}", v):
        leak_needle(part, cls, origin + " (part)")
        if cls == "signature":  # hex or base64 of a digest (a token is used as it is)
            leak_needle(_leak_decode(part), cls, origin + " (decoded part)")


def _leak_resolve(s, env, cwd, origin, files):
    """A config secret (env:NAME, file:PATH or literal) as the gateway would resolve it."""
    if not isinstance(s, str) or not s:
        return
    if s.startswith("env:"):
        v = (os.environ if env is None else env).get(s[4:])
        if v:
            _leak_secret_value(v, f"{origin} ({s})")
    elif s.startswith("file:"):
        path = os.path.join(cwd or os.getcwd(), s[5:])
        files.append(path)
        if not os.path.isfile(path):  # a FIFO under test would block the read
            return
        try:
            with open(path, "rb") as f:
                v = f.read()
        except OSError:
            return
        v = v[:-1] if v.endswith(b"\n") else v
        if v:
            _leak_secret_value(v, f"{origin} ({s})")
    else:
        _leak_secret_value(s, origin)


def _leak_read_file(path, cwd, files):
    path = os.path.join(cwd or os.getcwd(), path)
    files.append(path)
    if not os.path.isfile(path):  # a FIFO under test would block the read
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _leak_config_needles(cfg, env, cwd, origin, files):
    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                p, kl = f"{path}.{k}", str(k).lower()
                if _SECRET_KEY_RE.match(kl):
                    for s in (v if isinstance(v, list) else [v]):
                        _leak_resolve(s, env, cwd, f"{origin} {p}", files)
                elif kl == "headers" and isinstance(v, dict):
                    for hn, hv in v.items():
                        if isinstance(hv, str):
                            _leak_header_value(hn, hv, f"{origin} {p}.{hn}")
                elif kl == "creds" and isinstance(v, str):  # NATS credentials: the NKey seed
                    text = _leak_read_file(v[5:] if v.startswith("file:") else v, cwd, files) or b""
                    for seed in re.findall(rb"(?m)^\s*(S[A-Z][A-Z2-7]{40,})\s*$", text):
                        leak_needle(seed, "secret", f"{origin} {p} (NKey seed)")
                elif kl == "key" and isinstance(v, str) and path.endswith(".tls"):  # a private key
                    text = _leak_read_file(v, cwd, files) or b""
                    for body in re.findall(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----(.*?)-----END", text, re.S):
                        lines = body.split()
                        for line in lines:
                            leak_needle(line, "secret", f"{origin} {p} (PEM line)")
                        leak_needle(_leak_decode(b"".join(lines).decode()), "secret", f"{origin} {p} (DER)")
                elif kl in ("url", "servers"):
                    for u in (v if isinstance(v, list) else [v]):
                        if isinstance(u, str) and "@" in u:
                            m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@]*?:([^/@]*)@", u)
                            if m:
                                leak_needle(m.group(1), "secret", f"{origin} {p} (URL password)")
                walk(v, p)
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, f"{path}[{i}]")
    walk(cfg, "$")


def _leak_config_file_needles(path, env, cwd, origin, files):
    """Needles of the config file path; path None: the embedded default config
    ($HOOKGATE_SECRET, else ./hookgate-data/secret)."""
    if path is None:
        v = _leak_read_file(os.path.join("hookgate-data", "secret"), cwd, files)
        if v:
            _leak_secret_value(v[:-1] if v.endswith(b"\n") else v, f"{origin} (./hookgate-data/secret)")
        return
    text = _leak_read_file(path, cwd, [])
    if not text:
        return
    try:
        cfg = json.loads(text)
    except ValueError:  # a test of a broken config: the secret-looking strings in it
        for m in re.finditer(rb'"(?:secret|token|password)"\s*:\s*"((?:[^"\\]|\\.)*)"', text, re.I):
            _leak_resolve(m.group(1).decode(errors="replace"), env, cwd, origin + " (broken JSON)", files)
        for m in re.finditer(rb'"secrets"\s*:\s*\[([^\]]*)', text, re.I):
            for s in re.findall(rb'"((?:[^"\\]|\\.)*)"', m.group(1)):
                _leak_resolve(s.decode(errors="replace"), env, cwd, origin + " (broken JSON)", files)
        return
    _leak_config_needles(cfg, env, cwd, origin, files)


def _leak_env_needles(env, origin):
    for k, v in (os.environ if env is None else env).items():
        if v and _SECRET_ENV_RE.search(k):
            _leak_secret_value(v, f"{origin} ${k}")


def _leak_stat(p):
    try:
        st = os.stat(p)
        return (p, st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        return (p, None)


def _leak_gateway_new(g):
    with _LEAK_LOCK:
        _LEAK["gateways"].append(g)
    _leak_gateway_needles(g)


def _leak_gateway_needles(g):
    """Needles of g's config, its secret files and environment; re-read only when
    one of those files changed (logs() calls this on every poll)."""
    try:
        with _LEAK_LOCK:
            prev = _LEAK["gwsig"].get(id(g))
            if prev and tuple(_leak_stat(p) for p in prev[0]) == prev[1]:
                return
            files = [g.cfg_path] if g.cfg_path else []
            _leak_config_file_needles(g.cfg_path, g.env, g.cwd, "gateway config", files)
            if prev is None:
                _leak_env_needles(g.env, "gateway env")
            _LEAK["gwsig"][id(g)] = (files, tuple(_leak_stat(p) for p in files))
    except Exception as e:
        _leak_error("gateway needles", e)


def _leak_read_new(path, whole_lines=False):
    """What was appended to path since its last capture (by any Gateway object:
    several may share a temp dir), or None."""
    try:
        rp = os.path.realpath(path)
        with open(rp, "rb") as f:
            ino = os.fstat(f.fileno()).st_ino
            with _LEAK_LOCK:
                pino, off = _LEAK["offsets"].get(rp, (ino, 0))
                if pino != ino:
                    off = 0
                f.seek(off)
                data = f.read()
                if whole_lines:
                    data = data[:data.rfind(b"\n") + 1]
                _LEAK["offsets"][rp] = (ino, off + len(data))
        return data
    except OSError:
        return None


def _leak_gateway_capture(g):
    try:
        _leak_gateway_needles(g)
        leak_record("stderr", "gateway stderr " + g.err_path, _leak_read_new(g.err_path))
        out = _leak_read_new(g.out_path, whole_lines=True)
        attrs = []
        for line in (out or b"").split(b"\n"):
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict):
                ev.pop("data", None)
                ev.pop("data_base64", None)
                attrs.append(json.dumps(ev, ensure_ascii=False))
        leak_record("envelope", "envelope attributes " + g.out_path, "\n".join(attrs))
    except Exception as e:
        _leak_error("gateway capture", e)


def _leak_flush_all():
    """Capture every gateway's new stderr/events, pending pipe and socket reads."""
    with _LEAK_LOCK:
        gws = list(_LEAK["gateways"])
        for g in gws:
            _leak_gateway_capture(g)
        # a gateway that is stopped and whose temp dir is gone has nothing more to give
        _LEAK["gateways"] = [g for g in gws if g.proc is not None or os.path.exists(g.tmp)]
        for t in _LEAK["tees"]:
            t._leak_flush()
        _LEAK["tees"] = [t for t in _LEAK["tees"] if not t._f.closed]
        for n in list(_LEAK["socks"]):
            _leak_sock_flush(n, keep=True)


def _leak_curl(url, headers, extra, p):
    try:
        for k, v in (headers or {}).items():
            _leak_header_value(k, v, f"hg.curl header {k}")
        extra = [str(a) for a in extra]
        for a, v in zip(extra, extra[1:]):
            if a in ("-H", "--header") and ":" in v:
                k, _, hv = v.partition(":")
                _leak_header_value(k.strip(), hv.strip(), f"hg.curl extra header {k.strip()}")
            elif a in ("-u", "--user"):
                leak_needle(v.partition(":")[2], "secret", "hg.curl --user password")
        head = b"\n".join(l for l in p.stderr.split(b"\n") if not l.startswith(b"curl: "))
        leak_record("response", "hg.curl " + url, head + b"\n" + p.stdout)
    except Exception as e:
        _leak_error("hg.curl", e)


class _LeakTee:
    """A Popen pipe that keeps a copy of what the test reads from it."""

    def __init__(self, f, what, sig_ok, allow):
        self._f, self._what, self._sig_ok, self._allow = f, what, sig_ok, allow
        self._chunks, self._paused = [], 0
        with _LEAK_LOCK:
            _LEAK["tees"].append(self)

    def _t(self, d):
        if d and not self._paused:
            self._chunks.append(_leak_bytes(d) if isinstance(d, str) else bytes(d))
        return d

    def _leak_flush(self):
        chunks, self._chunks = self._chunks, []
        leak_record("cli", self._what, b"".join(chunks), self._sig_ok, self._allow)

    def read(self, *a):
        return self._t(self._f.read(*a))

    def read1(self, *a):
        return self._t(self._f.read1(*a))

    def readline(self, *a):
        return self._t(self._f.readline(*a))

    def readlines(self, *a):
        lines = self._f.readlines(*a)
        for line in lines:
            self._t(line)
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        return self._t(next(self._f))

    def close(self):
        try:
            self._leak_flush()
        finally:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


def _leak_is_hookgate(argv):
    if not isinstance(argv, (list, tuple)) or not argv:
        return False
    a0 = os.fsdecode(argv[0])
    return os.path.basename(a0) == "hookgate" or os.path.realpath(a0) == os.path.realpath(BIN)


def _leak_cli_needles(argv, env, cwd):
    try:
        for a, v in zip(argv, argv[1:]):
            if a == "-c":
                _leak_config_file_needles(v, env, cwd, "cli config " + v, [])
            elif a == "-s":
                _leak_resolve(v, env, cwd, "cli -s", [])
        if argv[1:2] == ["serve"] and "-c" not in argv:
            _leak_config_file_needles(None, env, cwd, "cli default config", [])
        _leak_env_needles(env, "cli env")
    except Exception as e:
        _leak_error("cli needles", e)


def _leak_sign_shows(argv, env, cwd):
    """The secret `hookgate sign` prints by design: a token profile's "signature"
    is the token itself (X-Hookgate-Token: <secret>), a basic profile's is the
    credential (Authorization: Basic base64(user:password))."""
    opts = dict(zip(argv, argv[1:]))
    dirs = [os.path.join(cwd or os.getcwd(), opts["--profile-dir"])] if "--profile-dir" in opts else []
    dirs.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../schemas/profiles"))
    for d in dirs:
        try:
            with open(os.path.join(d, opts.get("-p", "") + ".json")) as f:
                prof = json.load(f)
        except (OSError, ValueError):
            continue
        fmt = (prof.get("signature") or {}).get("format") if isinstance(prof, dict) else None
        if fmt in ("token", "basic") and "-s" in opts:
            s = opts["-s"]
            if s.startswith("env:"):
                v = (os.environ if env is None else env).get(s[4:], "")
            elif s.startswith("file:"):
                v = _leak_read_file(s[5:], cwd, []) or b""
                v = v[:-1] if v.endswith(b"\n") else v
            else:
                v = s
            if fmt == "token":
                return [v]
            b = _leak_bytes(v)
            enc = base64.b64encode(b).decode()
            return [v, enc, "Basic " + enc, b.partition(b":")[2]]
        break
    return []


_Popen = subprocess.Popen


class _LeakPopen(_Popen):
    """subprocess.Popen that records what a run of the hookgate binary printed
    (through communicate(), which subprocess.run uses, or read from its pipes)."""

    def __init__(self, *a, **kw):
        self._hg_leak = None
        argv = kw.get("args", a[0] if a else None)
        hook = _leak_is_hookgate(argv)
        if hook:
            argv = [os.fsdecode(x) for x in argv]
            _leak_cli_needles(argv, kw.get("env"), kw.get("cwd"))
        super().__init__(*a, **kw)
        if hook:
            shown = [("***" if p == "-s" else x) for p, x in zip([""] + argv, argv)]
            what = "cli " + " ".join(["hookgate"] + shown[1:])[:300]
            sign = argv[1:2] == ["sign"]
            shows = _leak_sign_shows(argv, kw.get("env"), kw.get("cwd")) if sign else []
            self._hg_leak = (what, sign, shows, argv, kw.get("env"), kw.get("cwd"))
            if self.stdout is not None:
                self.stdout = _LeakTee(self.stdout, what + " (stdout)", sign, shows)
            if self.stderr is not None:
                self.stderr = _LeakTee(self.stderr, what + " (stderr)", False, ())

    def communicate(self, input=None, timeout=None):
        if not self._hg_leak:
            return super().communicate(input, timeout)
        what, sign, shows, argv, env, cwd = self._hg_leak
        tees = [t for t in (self.stdout, self.stderr) if isinstance(t, _LeakTee)]
        for t in tees:
            t._paused += 1
        try:
            out, err = super().communicate(input, timeout)
        except subprocess.TimeoutExpired as e:
            leak_record("cli", what + " (stdout, timed out)", e.stdout, sign, shows)
            leak_record("cli", what + " (stderr, timed out)", e.stderr)
            raise
        finally:
            for t in tees:
                t._paused -= 1
        _leak_cli_needles(argv, env, cwd)  # e.g. the secret a default-config run generated
        leak_record("cli", what + " (stdout)", out, sign, shows)
        leak_record("cli", what + " (stderr)", err)
        return out, err


def _leak_sock_classify(sock):
    """A client connection to a running gateway's TCP port: [chunks] to fill, else None.
    (A port a running gateway listens on is never the local port of another
    connection, so a test service's accepted socket is never mistaken for one.)"""
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return None
        peer = sock.getpeername()
    except OSError:
        return None
    ports = {p for g in _LEAK["gateways"] if g.proc is not None and g.proc.poll() is None for p in g.ports}
    if peer[1] not in ports:
        return None
    _LEAK["nsock"] += 1
    n = _LEAK["nsock"]
    _LEAK["socks"][n] = (f"socket recv from {peer[0]}:{peer[1]} ({type(sock).__name__})", [])
    weakref.finalize(sock, _leak_sock_flush, n)
    return _LEAK["socks"][n][1]


def _leak_sock_flush(n, keep=False):
    with _LEAK_LOCK:
        ent = _LEAK["socks"].get(n) if keep else _LEAK["socks"].pop(n, None)
        if ent:
            data = b"".join(ent[1])
            ent[1].clear()
            leak_record("socket", ent[0], data)


def _leak_sock_data(sock, data):
    if not data:
        return
    try:
        with _LEAK_LOCK:
            try:
                chunks = _LEAK["sockcls"][sock]
            except KeyError:
                chunks = _LEAK["sockcls"][sock] = _leak_sock_classify(sock)
            if chunks is not None:
                chunks.append(bytes(data))
    except Exception as e:
        _leak_error("socket capture", e)


def _leak_wrap_recv(orig, into):
    def recv(self, *a, **kw):
        if getattr(_LEAK_TL, "busy", False):  # SSLSocket.recv -> socket.recv: count once
            return orig(self, *a, **kw)
        _LEAK_TL.busy = True
        try:
            r = orig(self, *a, **kw)
        finally:
            _LEAK_TL.busy = False
        if into:
            buf = a[0] if a else kw.get("buffer")
            if r:
                _leak_sock_data(self, memoryview(buf).cast("B")[:r])
        else:
            _leak_sock_data(self, r)
        return r
    recv.__name__ = orig.__name__
    return recv


class _LeakHMAC(hmac.HMAC):
    """hmac.HMAC that makes its key and digest needles: every signature a test
    computes (for any profile, whichever client sends it) is an expected one."""

    def __init__(self, key, msg=None, digestmod=""):
        super().__init__(key, msg, digestmod)
        leak_needle(key, "secret", "hmac key")

    def digest(self):
        d = super().digest()
        leak_needle(d, "signature", "hmac digest")
        return d

    def hexdigest(self):
        h = super().hexdigest()
        leak_needle(bytes.fromhex(h), "signature", "hmac digest")
        return h


def _leak_install():
    for k, v in ENV.items():
        _leak_secret_value(v, f"hg.ENV[{k}]")
    subprocess.Popen = _LeakPopen  # also what subprocess.run uses
    hmac.new = lambda key, msg=None, digestmod="": _LeakHMAC(key, msg, digestmod)
    orig_digest = hmac.digest

    def digest(key, msg, digest):
        d = orig_digest(key, msg, digest)
        leak_needle(key, "secret", "hmac key")
        leak_needle(d, "signature", "hmac digest")
        return d
    hmac.digest = digest
    socket.socket.recv = _leak_wrap_recv(socket.socket.recv, False)
    socket.socket.recv_into = _leak_wrap_recv(socket.socket.recv_into, True)
    ssl.SSLSocket.recv = _leak_wrap_recv(ssl.SSLSocket.recv, False)
    ssl.SSLSocket.recv_into = _leak_wrap_recv(ssl.SSLSocket.recv_into, True)
    atexit.register(_leak_flush_all)


if LEAK_DIR:
    _leak_install()

