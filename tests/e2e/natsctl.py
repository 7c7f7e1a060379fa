"""Real nats-server processes for hookgate's JetStream tests.

A Node is one nats-server with JetStream (`-js -sd DIR`) on ports picked
free on 127.0.0.1: clients, monitoring (`-m`, used for /healthz and /jsz)
and, in a cluster, routes.  A Node keeps its ports, name and store dir, so
kill() then start() brings back the same server with its data.  A Cluster is
one node (no cluster flags) or n nodes named n1..nN that route to each
other (`--cluster_name hg --cluster ... --routes ...`).  `extra` server
arguments give a node authentication or TLS: user_pass(), tls_files() and
Operator (JWT accounts and a .creds file, the way a NATS operator hands out
credentials) build them, with openssl for every key and signature.

Nothing here asserts: wait_ready() and friends raise RuntimeError with the
tail of the server logs when the servers do not get there, and tests fail
on that.  js_read (tests/tools/js_read.c) is built once by build_js_read().
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
JS_READ_SRC = os.path.normpath(os.path.join(HERE, "../tools/js_read.c"))
NATS_SERVER = os.environ.get("NATS_SERVER", "nats-server")


def missing():
    """Why the JetStream tests cannot run here ("" when they can)."""
    if not shutil.which(NATS_SERVER):
        return "nats-server is not installed (apt-get install nats-server)"
    if not shutil.which("pkg-config") or subprocess.run(["pkg-config", "--exists", "libnats"]).returncode != 0:
        return "libnats is not installed, pkg-config libnats fails (apt-get install libnats-dev)"
    if not shutil.which("cc"):
        return "no C compiler (cc) to build tests/tools/js_read.c"
    return ""


def build_js_read(outdir):
    """Compile tests/tools/js_read.c into outdir; returns the binary's path."""
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libnats"], capture_output=True, text=True,
                           check=True).stdout.split()
    out = os.path.join(outdir, "js_read")
    p = subprocess.run(["cc", "-Wall", "-Wextra", "-Werror", "-O2", JS_READ_SRC, *flags, "-o", out],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("cannot build js_read:\n" + p.stderr)
    return out


def free_ports(n):
    """n distinct TCP ports that were free on 127.0.0.1 a moment ago."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _get_json(url, timeout=2):
    """(HTTP status, parsed JSON or None); status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, None
    except (OSError, ValueError):
        return 0, None


class Node:
    def __init__(self, d, name, port, mport, cport=None, routes=(), extra=()):
        self.dir, self.name, self.port, self.mport, self.cport = d, name, port, mport, cport
        self.routes = list(routes)
        self.extra = list(extra)
        self.store = os.path.join(d, "store")
        self.log = os.path.join(d, "server.log")
        self.proc = None
        os.makedirs(self.store, exist_ok=True)

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def args(self):
        a = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.mport),
             "-n", self.name, "-js", "-sd", self.store]
        if self.cport is not None:
            a += ["--cluster_name", "hg", "--cluster", f"nats://127.0.0.1:{self.cport}"]
            if self.routes:
                a += ["--routes", ",".join(self.routes)]
        return a + self.extra

    def start(self):
        if self.running():
            return self
        with open(self.log, "ab") as log:
            log.write(f"==== start {time.strftime('%H:%M:%S')}: {' '.join(self.args())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Kill the server (SIGKILL by default: a crash, nothing flushed)."""
        if self.running():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def freeze(self):
        """SIGSTOP: the server hangs with its connections open (a frozen VM,
        a partition): nothing is answered, nothing is refused."""
        if self.running():
            self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        if self.running():
            self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        """A clean shutdown (SIGTERM)."""
        self.kill(signal.SIGTERM)

    def health(self):
        """(status, body) of /healthz: 200 {"status":"ok"} once JetStream is
        up and, in a cluster, in contact with a meta leader."""
        return _get_json(f"http://127.0.0.1:{self.mport}/healthz")

    def jsz(self):
        return _get_json(f"http://127.0.0.1:{self.mport}/jsz")[1]

    def stream_msgs(self, name):
        """Messages in stream name (any account) by the monitoring port, which
        needs no credentials; 0 while there is no such stream."""
        j = _get_json(f"http://127.0.0.1:{self.mport}/jsz?accounts=true&streams=true")[1] or {}
        return sum((st.get("state") or {}).get("messages", 0)
                   for acc in j.get("account_details") or () for st in acc.get("stream_detail") or ()
                   if st.get("name") == name)

    def meta_leader(self):
        j = self.jsz() or {}
        return (j.get("meta_cluster") or {}).get("leader") or ""

    def log_tail(self, n=30):
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"  [{self.name}] {l}" for l in lines[-n:])


class Cluster:
    """n=1: a single JetStream server; n>1: a cluster of n routed servers."""

    def __init__(self, tmp, n=1, extra=()):
        self.tmp = tmp
        ports = free_ports(3 * n)
        self.nodes = []
        cports = ports[2 * n:]
        for i in range(n):
            d = os.path.join(tmp, f"nats-n{i + 1}")
            os.makedirs(d, exist_ok=True)
            if n == 1:
                self.nodes.append(Node(d, "n1", ports[0], ports[1], extra=extra))
            else:
                routes = [f"nats://127.0.0.1:{c}" for j, c in enumerate(cports) if j != i]
                self.nodes.append(Node(d, f"n{i + 1}", ports[2 * i], ports[2 * i + 1], cports[i], routes,
                                       extra=extra))

    @property
    def clustered(self):
        return len(self.nodes) > 1

    def urls(self, alive_only=False):
        return [nd.url for nd in self.nodes if nd.running() or not alive_only]

    def url_list(self, alive_only=True):
        """Comma-separated client URLs (for js_read)."""
        return ",".join(self.urls(alive_only))

    def node(self, name):
        return next(nd for nd in self.nodes if nd.name == name)

    def start(self, timeout=60):
        for nd in self.nodes:
            nd.start()
        return self.wait_ready(timeout)

    def restart(self, timeout=60):
        """Start every node that is not running (same ports, names and
        store dirs) and wait until JetStream is ready again."""
        return self.start(timeout)

    def stop_all(self, sig=signal.SIGTERM):
        for nd in self.nodes:
            nd.kill(sig)

    def ready(self):
        """True when every running node answers /healthz ok and, in a cluster,
        all of them name the same meta leader, itself a running node."""
        alive = [nd for nd in self.nodes if nd.running()]
        if not alive:
            return False
        for nd in alive:
            st, body = nd.health()
            if st != 200 or (body or {}).get("status") != "ok":
                return False
        if not self.clustered:
            return True
        leaders = {nd.meta_leader() for nd in alive}
        return len(leaders) == 1 and next(iter(leaders)) in {nd.name for nd in alive}

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            dead = [nd for nd in self.nodes if nd.proc is not None and nd.proc.poll() is not None]
            if dead:
                raise RuntimeError(f"nats-server {dead[0].name} exited {dead[0].proc.returncode}:\n"
                                   + dead[0].log_tail())
            if self.ready():
                return self
            time.sleep(0.1)
        raise RuntimeError("JetStream did not become ready:\n" + self.diagnostics())

    def diagnostics(self):
        out = []
        for nd in self.nodes:
            out.append(f"{nd.name}: running={nd.running()} healthz={nd.health() if nd.running() else '-'} "
                       f"meta_leader={nd.meta_leader() if nd.running() else '-'}")
            out.append(nd.log_tail(15))
        return "\n".join(out)


class JsRead:
    """Runs the js_read binary against a cluster's running nodes."""

    def __init__(self, binary):
        self.bin = binary

    def run(self, *args, timeout=120):
        return subprocess.run([self.bin, *args], capture_output=True, timeout=timeout,
                              encoding="utf-8", errors="surrogateescape")

    def messages(self, urls, stream):
        """[(seq, subject, msg_id, payload)] or raises RuntimeError."""
        p = self.run(urls, stream)
        if p.returncode != 0:
            raise RuntimeError(f"js_read {urls} {stream} exited {p.returncode}: {p.stderr.strip()}")
        out = []
        for line in p.stdout.split("\n")[:-1]:
            seq, subject, mid, payload = line.split("\t")
            out.append((int(seq), subject, unescape(mid), unescape(payload)))
        return out

    def messages_when_readable(self, urls, stream, timeout=60):
        """messages(), retried while the stream is unreachable or has no
        leader (after a node was killed, an election takes a moment)."""
        deadline = time.time() + timeout
        err = None
        while time.time() < deadline:
            try:
                return self.messages(urls, stream)
            except RuntimeError as e:
                err = e
                time.sleep(0.2)
        raise err

    def info(self, urls, stream):
        """dict of `js_read info` (values are strings) or None when the
        stream does not exist (exit 3); raises RuntimeError on other errors."""
        p = self.run("info", urls, stream)
        if p.returncode == 3:
            return None
        if p.returncode != 0:
            raise RuntimeError(f"js_read info exited {p.returncode}: {p.stderr.strip()}")
        return dict(l.split("=", 1) for l in p.stdout.splitlines())

    def headers(self, urls, stream, seq):
        p = self.run("headers", urls, stream, str(seq))
        if p.returncode != 0:
            raise RuntimeError(f"js_read headers exited {p.returncode}: {p.stderr.strip()}")
        out = {}
        for l in p.stdout.splitlines():
            k, v = l.split(": ", 1)
            out.setdefault(k, []).append(v)
        return out

    def add(self, urls, stream, subjects, replicas=1, duplicate_ms=120000):
        p = self.run("add", urls, stream, ",".join(subjects), str(replicas), str(duplicate_ms))
        if p.returncode != 0:
            raise RuntimeError(f"js_read add exited {p.returncode}: {p.stderr.strip()}")

    def pub(self, urls, subject, msg_id, payload):
        """(stream seq, duplicate?)"""
        p = self.run("pub", urls, subject, msg_id, payload)
        if p.returncode != 0:
            raise RuntimeError(f"js_read pub exited {p.returncode}: {p.stderr.strip()}")
        seq, kind = p.stdout.strip().split("\t")
        return int(seq), kind == "duplicate"


def unescape(s):
    """Undo js_read's escaping of backslash, tab, CR and LF."""
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append({"\\": "\\", "t": "\t", "r": "\r", "n": "\n"}.get(s[i + 1], "\\" + s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


# ---- authentication and TLS ---------------------------------------------------


def user_pass(user, password):
    """Server arguments: every client must log in as user/password."""
    return ["--user", user, "--pass", password]


def _openssl(*args):
    return subprocess.run(["openssl", *args], capture_output=True, check=True).stdout


def tls_files(d):
    """A CA, a server certificate for 127.0.0.1/localhost and a client
    certificate, all signed by that CA, generated now in d.  Returns
    {"ca", "server_cert", "server_key", "client_cert", "client_key"} (paths)."""
    f = {k: os.path.join(d, k + ".pem") for k in ("ca", "ca_key", "server_cert", "server_key",
                                                  "client_cert", "client_key")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-days", "1", "-subj", "/CN=hookgate test CA",
             "-keyout", f["ca_key"], "-out", f["ca"])
    for who, ext in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                     ("client", "extendedKeyUsage=clientAuth")):
        csr = os.path.join(d, who + ".csr")
        extfile = os.path.join(d, who + ".ext")
        with open(extfile, "w") as e:
            e.write(ext + "\n")
        _openssl("req", "-new", *ec, "-subj", f"/CN={who}", "-keyout", f[who + "_key"], "-out", csr)
        _openssl("x509", "-req", "-in", csr, "-CA", f["ca"], "-CAkey", f["ca_key"], "-CAcreateserial",
                 "-days", "1", "-extfile", extfile, "-out", f[who + "_cert"])
    for k in ("server_key", "client_key", "ca_key"):
        os.chmod(f[k], 0o600)
    return f


def tls_args(f, verify=True):
    """Server arguments: TLS with f's server certificate; verify=True also
    asks every client for a certificate signed by f's CA (mutual TLS)."""
    a = ["--tls", "--tlscert", f["server_cert"], "--tlskey", f["server_key"]]
    if verify:
        a += ["--tlsverify", "--tlscacert", f["ca"]]
    return a


# NKeys and JWTs, as the nats-io nkeys and jwt/v2 libraries make them: an
# nkey is base32 (no padding) of prefix byte(s) + ed25519 key + CRC-16/XMODEM
# (little-endian); a JWT is header.claims.signature, base64url without
# padding, signed with the issuer's ed25519 seed.
_PREFIX = {"seed": 18 << 3, "operator": 14 << 3, "account": 0, "user": 20 << 3}
_PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")


def _crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def _b32(raw):
    raw += _crc16(raw).to_bytes(2, "little")
    return base64.b32encode(raw).decode().rstrip("=")


def _b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


class NKey:
    """An ed25519 key pair of one kind (operator, account or user), kept as a
    PKCS#8 DER file for openssl."""

    def __init__(self, d, kind, name):
        self.kind = kind
        self.seed = os.urandom(32)
        self.der = os.path.join(d, f"{name}.der")
        with open(self.der, "wb") as f:
            f.write(_PKCS8_ED25519 + self.seed)
        os.chmod(self.der, 0o600)
        pub = _openssl("pkey", "-inform", "DER", "-in", self.der, "-pubout", "-outform", "DER")[-32:]
        self.public = _b32(bytes([_PREFIX[kind]]) + pub)

    def seed_text(self):
        p = _PREFIX[self.kind]
        return _b32(bytes([_PREFIX["seed"] | (p >> 5), (p & 31) << 3]) + self.seed)

    def sign(self, data):
        msg = self.der + ".msg"  # a file: openssl signs ed25519 in one shot, and needs the size
        with open(msg, "wb") as f:
            f.write(data)
        return _openssl("pkeyutl", "-sign", "-inkey", self.der, "-keyform", "DER", "-rawin", "-in", msg)


def _jwt(issuer, subject, name, nats):
    claims = {"jti": "", "iat": int(time.time()), "iss": issuer.public, "name": name,
              "sub": subject.public, "nats": nats}
    claims["jti"] = _b32(hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest())[:52]
    head = _b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64url(issuer.sign(f'{head}.{body}'.encode()))}"


class Operator:
    """Decentralised NATS auth on one server: an operator, a system account,
    an account with JetStream and a user of it whose .creds file (JWT and
    seed, mode 0600) is `creds`; args() are the server's arguments (a config
    file with the operator JWT and the accounts preloaded)."""

    def __init__(self, d):
        os.makedirs(d, exist_ok=True)
        op, sys_acc = NKey(d, "operator", "op"), NKey(d, "account", "sys")
        acc, user = NKey(d, "account", "acc"), NKey(d, "user", "user")
        op_jwt = _jwt(op, op, "hg-op", {"type": "operator", "version": 2})
        unlimited = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                     "wildcards": True, "conn": -1, "leaf": -1}
        sys_jwt = _jwt(op, sys_acc, "SYS", {"limits": unlimited, "type": "account", "version": 2})
        js = dict(unlimited, mem_storage=-1, disk_storage=-1, streams=-1, consumer=-1)
        acc_jwt = _jwt(op, acc, "HG", {"limits": js, "type": "account", "version": 2})
        user_jwt = _jwt(acc, user, "hookgate", {"pub": {}, "sub": {}, "subs": -1, "data": -1,
                                                 "payload": -1, "type": "user", "version": 2})
        self.conf = os.path.join(d, "operator.conf")
        with open(self.conf, "w") as f:
            f.write(f'operator: "{op_jwt}"\nsystem_account: "{sys_acc.public}"\nresolver: MEMORY\n'
                    f'resolver_preload: {{\n  {sys_acc.public}: "{sys_jwt}"\n  {acc.public}: "{acc_jwt}"\n}}\n')
        self.creds = os.path.join(d, "user.creds")
        with open(self.creds, "w") as f:
            f.write(f"-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n"
                    f"-----BEGIN USER NKEY SEED-----\n{user.seed_text()}\n------END USER NKEY SEED------\n")
        os.chmod(self.creds, 0o600)
        # a user of another operator: well-formed, and refused by this server
        other = NKey(d, "account", "stranger-acc")
        ou = NKey(d, "user", "stranger")
        ojwt = _jwt(other, ou, "stranger", {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
                                             "type": "user", "version": 2})
        self.wrong_creds = os.path.join(d, "stranger.creds")
        with open(self.wrong_creds, "w") as f:
            f.write(f"-----BEGIN NATS USER JWT-----\n{ojwt}\n------END NATS USER JWT------\n\n"
                    f"-----BEGIN USER NKEY SEED-----\n{ou.seed_text()}\n------END USER NKEY SEED------\n")
        os.chmod(self.wrong_creds, 0o600)

    def args(self):
        return ["-c", self.conf]
