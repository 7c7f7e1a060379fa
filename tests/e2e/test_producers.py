"""Built-in profiles proven with the producers' own code (tests/sdk, issue 16).

Each module tests/sdk/producers/<profile>.js wraps a producer's SDK (or a
published vector, or the documented scheme, as the module says in `proof`
and `by`); tests/sdk/oracle.js runs it (README in tests/sdk).  One gateway
serves one route per module at /p/<profile> with the module's two secrets,
and for each module, as test methods of its own class Producer_<profile>:

  test_1_live      the producer's request, signed by its SDK -> 2xx, and the
                   event reaches the sink with the id and type the module expects;
  test_2_tamper    each part the module names (body, signature, id, timestamp...)
                   changed by one byte -> 401 and nothing stored;
  test_3_stale     signed an hour ago -> 401 and nothing stored (modules with a
                   replay window: stale true);
  test_4_rotation  signed with each of the route's two secrets -> accepted;
  test_5_sign      `hookgate sign -p <profile>` on the producer's body: the SDK's
                   verifier says true, and false once one byte of the body changes
                   (of the first tamper part, for a scheme that does not cover the body).

Node.js (20.19+/22.12+, or the pinned runtime in tests/sdk/runtime) and
tests/sdk/node_modules are installed by scripts/test; without them every test
FAILS and says what to run.  HG_NODE names another node binary; HG_PRODUCERS=a,b
runs only those modules; HG_EXTRA_PROFILE_DIR adds a directory of draft profile
files to the gateway's profile_dirs and to `hookgate sign --profile-dir`.
"""
import atexit
import glob
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SDK = os.path.join(ROOT, "tests", "sdk")
ORACLE = os.path.join(SDK, "oracle.js")
RUNTIME = os.path.join(SDK, "runtime", "node_modules")
EXTRA_DIR = os.environ.get("HG_EXTRA_PROFILE_DIR") or None
MARK = b"\x1eHGORACLE "
HOW = "run scripts/test (it installs Node.js and the SDKs), or by hand: scripts/deps --test, then " \
      "`npm ci --no-audit --no-fund` in tests/sdk (and in tests/sdk/runtime when node is older than 20.19)"


def modules():
    """The profiles that have a module (HG_PRODUCERS=a,b: only those)."""
    names = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(SDK, "producers", "*.js")))
    only = [n.strip() for n in os.environ.get("HG_PRODUCERS", "").split(",") if n.strip()]
    return [n for n in names if n in only] if only else names


def node_ok(version):
    """Node versions the pinned SDKs support: 20.19+, 22.12+, 23 and later."""
    m = re.match(r"v?(\d+)\.(\d+)", version or "")
    if not m:
        return False
    major, minor = int(m.group(1)), int(m.group(2))
    return (major == 20 and minor >= 19) or (major == 22 and minor >= 12) or major >= 23


def find_node():
    """(node binary, None) or (None, why not): $HG_NODE, else the pinned runtime
    (tests/sdk/runtime, installed where the system's node is too old), else PATH."""
    if os.environ.get("HG_NODE"):
        n = os.environ["HG_NODE"]
        return (n, None) if os.access(n, os.X_OK) else (None, f"HG_NODE={n} is not an executable")
    for n in sorted(glob.glob(os.path.join(RUNTIME, "node-linux-*", "bin", "node"))):
        if os.access(n, os.X_OK):  # (Debian's npm 9 links no node_modules/.bin/node for it)
            return n, None
    n = shutil.which("node")
    if not n:
        return None, "node (Node.js) is not installed: " + HOW
    v = subprocess.run([n, "-v"], capture_output=True, text=True).stdout.strip()
    if not node_ok(v):
        return None, f"node {v} at {n} is too old for the pinned SDKs (20.19+ or 22.12+): " + HOW
    return n, None


def sdk_missing():
    """Why tests/sdk/node_modules is unusable, or None."""
    installed = os.path.join(SDK, "node_modules", ".package-lock.json")
    if not os.path.exists(installed):
        return "tests/sdk/node_modules is missing: " + HOW
    if os.path.getmtime(os.path.join(SDK, "package-lock.json")) > os.path.getmtime(installed):
        return "tests/sdk/package-lock.json is newer than tests/sdk/node_modules: " + HOW
    return None


class OracleError(Exception):
    pass


class Oracle:
    """`node oracle.js serve`: one process for the whole run, one JSON line per call."""

    def __init__(self, node, tmp):
        self.err_path = os.path.join(tmp, "oracle.stderr")
        self.err = open(self.err_path, "wb")
        self.p = subprocess.Popen([node, ORACLE, "serve"], cwd=SDK, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err)
        self.buf, self.seq = b"", 0

    def stderr_tail(self):
        self.err.flush()
        return hg.read(self.err_path)[-1500:]

    def call(self, profile, op, req=None, timeout=90):
        self.seq += 1
        line = json.dumps({"seq": self.seq, "profile": profile, "op": op, "req": req or {}}) + "\n"
        try:
            self.p.stdin.write(line.encode())
            self.p.stdin.flush()
        except OSError:
            raise OracleError("the oracle (node oracle.js serve) exited: " + self.stderr_tail())
        deadline = time.time() + timeout
        fd = self.p.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                ln, self.buf = self.buf.split(b"\n", 1)
                if not ln.startswith(MARK):
                    continue  # not an answer (stdout is kept for answers, but be safe)
                a = json.loads(ln[len(MARK):])
                if a.get("seq") != self.seq:
                    continue
                if "error" in a:
                    raise OracleError(f"{profile} {op}: {a['error']}")
                return a["result"]
            left = deadline - time.time()
            if left <= 0:
                raise OracleError(f"{profile} {op}: no answer from the oracle in {timeout} s")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise OracleError("the oracle (node oracle.js serve) exited: " + self.stderr_tail())
                self.buf += chunk

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        self.err.close()


# ---- the shared fixture: one oracle, one gateway ------------------------------------

_S = {}


def check_config(cfg):
    """`hookgate check` on cfg; (ok, message)."""
    with tempfile.TemporaryDirectory() as d:
        cfg = dict(cfg, data_dir=os.path.join(d, "data"))
        path = os.path.join(d, "hookgate.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, **hg.ENV))
        return p.returncode == 0, (p.stderr + p.stdout).strip()


def drafts(tmp, routes, mods):
    """A directory with the draft profiles of $HG_EXTRA_PROFILE_DIR that have a module
    and load: one draft that does not load fails its own module, not every other."""
    out = os.path.join(tmp, "drafts")
    os.makedirs(out)
    for name, rt in list(routes.items()):
        src = os.path.join(EXTRA_DIR, name + ".json")
        if not os.path.isfile(src):
            continue
        one = os.path.join(tmp, "draft-" + name)
        os.makedirs(one)
        shutil.copy(src, one)
        good, m = check_config(hg.basic_config(tmp, routes=[rt], profile_dirs=[one]))
        if good:
            shutil.copy(src, out)
        else:
            mods[name] = dict(mods[name], error=f"draft profile {src} does not load: {m}")
            del routes[name]
    return out


def fixture():
    """The shared state: {"error"} when nothing can run, else node, oracle, modules
    ({profile: description or {"error"}}), gateway.  Built once, on first use."""
    if _S:
        return _S
    why = sdk_missing()
    node, nwhy = find_node()
    if nwhy or why:
        _S["error"] = nwhy or why
        return _S
    _S["node"] = node
    _S["tmp"] = tmp = tempfile.mkdtemp(prefix="hg-e2e-producers-")
    atexit.register(teardown)
    try:
        _S["oracle"] = oracle = Oracle(node, tmp)
        mods = {}
        for name in modules():
            try:
                d = oracle.call(name, "list")[0]
            except OracleError as e:
                d = {"profile": name, "error": str(e)}
            mods[name] = d
        _S["modules"] = mods
        routes = {}
        for name, d in mods.items():
            if "error" in d:
                continue
            for k in d["secrets"] + (d.get("signing_keys") or []) + [d["route"].get("verify_token") or ""]:
                hg.leak_needle(k, "secret", f"producers/{name}.js key")
            routes[name] = dict({"path": f"/p/{name}", "profile": name, "secrets": d["secrets"], "sinks": ["out"]},
                                **d["route"])
        cfg = hg.basic_config(tmp, routes=list(routes.values()) or None)
        if EXTRA_DIR:
            _S["extra"] = cfg["profile_dirs"] = [drafts(tmp, routes, mods)]
        ok, msg = check_config(cfg)
        if not ok:  # find the routes the gateway refuses; the others still run
            for name, rt in list(routes.items()):
                good, m = check_config(dict(cfg, routes=[rt]))
                if not good:
                    mods[name] = dict(mods[name], error=f"the gateway refuses route /p/{name}: {m}")
                    del routes[name]
            cfg["routes"] = list(routes.values())
        if not routes:
            _S["error"] = "no producer module has a usable route: " + "; ".join(
                f"{n}: {d.get('error')}" for n, d in mods.items())
            return _S
        g = hg.Gateway(tmp, cfg, dict(hg.ENV))
        _S["gateway"] = g.start()
    except Exception as e:  # noqa: BLE001 - every test reports it
        _S["error"] = f"producer fixture: {type(e).__name__}: {e}"
    return _S


def teardown():
    if _S.get("gateway"):
        _S["gateway"].stop()
        _S["gateway"] = None
    if _S.get("oracle"):
        _S["oracle"].close()
        _S["oracle"] = None
    if _S.get("tmp"):
        if hg.LEAK_DIR:
            hg._leak_flush_all()
        shutil.rmtree(_S["tmp"], ignore_errors=True)
        _S["tmp"] = None


def tearDownModule():
    teardown()


def merged(base, over):
    """base headers with over's set on top (names compared case-insensitively)."""
    low = {k.lower() for k in over}
    out = {k: v for k, v in base.items() if k.lower() not in low}
    out.update(over)
    return out


def last_seq(g):
    """hookgate_last_seq from /metrics: any event stored moves it."""
    r = hg.curl(g.url("/metrics"))
    m = re.search(r"^hookgate_last_seq (\d+)$", r.body, re.M)
    if r.status != 200 or not m:
        raise AssertionError(f"/metrics: {r.status} {r.body[:200]}")
    return int(m.group(1))


class ProducerChecks:
    """The five checks for one module (a mixin: each module's class is a TestCase that sets profile)."""

    profile = None
    maxDiff = 2000

    def setUp(self):
        if hg.LEAK_DIR:
            hg._LEAK["test"] = self.id()
        s = fixture()
        if "error" in s:
            self.fail(s["error"])
        self.s = s
        self.d = s["modules"].get(self.profile) or {"error": "not loaded"}
        if "error" in self.d:
            self.fail(self.d["error"])
        self.g = s["gateway"]
        self.local = self.g.url(f"/p/{self.profile}")
        self.url = self.d["route"].get("public_url") or self.local

    def tearDown(self):
        if hg.LEAK_DIR:
            hg._leak_flush_all()

    def call(self, op, req=None):
        try:
            return self.s["oracle"].call(self.profile, op, req)
        except OracleError as e:
            self.fail(str(e))

    def keys(self):
        return self.d.get("signing_keys") or self.d["secrets"]

    def signed(self, key=None, now=None):
        """(event, signed request {headers, body, url}) as the producer sends it at now."""
        now = int(time.time()) if now is None else now
        ev = self.call("event", {"now": now})
        ev["headers"] = merged({"Content-Type": self.d.get("content_type") or "application/json"}, ev["headers"])
        req = self.call("sign", {"body": ev["body"], "headers": ev["headers"], "key": key or self.keys()[0],
                                 "url": self.url, "method": "POST", "now": now})
        return ev, req

    def send(self, req):
        """POST req to the gateway: to the route's local URL, with the path and query
        of the URL the producer signed (a public_url stands for the local one)."""
        u, signed = urllib.parse.urlsplit(self.local), urllib.parse.urlsplit(req.get("url") or self.url)
        target = urllib.parse.urlunsplit((u.scheme, u.netloc, signed.path or u.path, signed.query, ""))
        return hg.curl(target, req["body"].encode(), req["headers"], method="POST")

    def wait_event(self, eid):
        src = f"/p/{self.profile}"
        evs = hg.wait_for(lambda: [e for e in self.g.events() if e.get("source") == src and e.get("id") == eid])
        return evs[-1] if evs else None

    def test_1_live(self):
        """The SDK-signed request is accepted and its event arrives with the expected id and type."""
        ev, req = self.signed()
        r = self.send(req)
        self.assertIn(r.status, (200, 201, 202, 204), f"SDK-signed request refused: {r.status} {r.body}")
        e = self.wait_event(ev["expect"]["id"])
        got = [(x.get("id"), x.get("type")) for x in self.g.events() if x.get("source") == f"/p/{self.profile}"]
        self.assertIsNotNone(e, f"no event with id {ev['expect']['id']!r} on the sink; the route's: {got}")
        self.assertEqual(e["type"], ev["expect"]["type"])
        v = hg.event_validator()
        if v is not None:
            self.assertEqual([x.message for x in v.iter_errors(e)], [], "envelope vs schemas/event.schema.json")

    def test_2_tamper(self):
        """Each covered part changed by one byte: 401, nothing stored."""
        parts = list(self.d["tamper"])
        self.assertTrue(parts)
        for part in parts:
            with self.subTest(part=part):
                ev, req = self.signed()
                t = self.call("tamper", {"body": req["body"], "headers": req["headers"], "part": part})
                before = last_seq(self.g)
                r = self.send(dict(req, body=t["body"], headers=t["headers"]))
                self.assertEqual(r.status, 401, f"{t['changed']}: {r.status} {r.body}")
                self.assertEqual(last_seq(self.g), before, f"{t['changed']}: an event was stored")

    def test_3_stale(self):
        """Signed an hour ago: 401, nothing stored (stale: true)."""
        if not self.d["stale"]:
            self.skipTest(f"{self.profile} has no replay window (stale: false)")
        ev, req = self.signed(now=int(time.time()) - 3600)
        before = last_seq(self.g)
        r = self.send(req)
        self.assertEqual(r.status, 401, f"signed 1 hour ago: {r.status} {r.body}")
        self.assertEqual(last_seq(self.g), before, "a stale event was stored")

    def test_4_rotation(self):
        """Signed with each of the route's two secrets (or their private keys): accepted."""
        for i, key in enumerate(self.keys()):
            with self.subTest(key=i):
                ev, req = self.signed(key=key)
                r = self.send(req)
                self.assertIn(r.status, (200, 201, 202, 204), f"signed with key {i}: {r.status} {r.body}")

    def test_5_sign_verified_by_sdk(self):
        """`hookgate sign` output passes the SDK's verifier, which refuses it once the body changes."""
        if not self.d.get("has_verify"):
            self.skipTest(f"{self.profile}: the producer has no verifier (verify: null)")
        now = int(time.time())
        ev = self.call("event", {"now": now})
        subst = {"{url}": self.url, "{method}": "POST"}
        args = [hg.BIN, "sign", "-p", self.profile, "-s", self.keys()[0]]
        args += [subst.get(a, a) for a in self.d.get("sign_args") or []]
        if self.s.get("extra"):
            args += ["--profile-dir", self.s["extra"][0]]
        p = subprocess.run(args, input=ev["body"].encode(), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, f"hookgate sign: {p.stderr.decode(errors='replace')}")
        # "Name: value" lines; for a scheme signed inside the body (a JSON member), an
        # empty line and the body as signed follow
        out = p.stdout.decode()
        head, blank, signed_body = out.partition("\n\n")
        body = signed_body[:-1] if signed_body.endswith("\n") else signed_body
        printed = {}
        for line in head.splitlines():
            k, sep, v = line.partition(":")
            self.assertTrue(sep and k.strip(), f"not a 'Name: value' line: {line!r}")
            printed[k.strip()] = v.strip()
        self.assertTrue(printed, "hookgate sign printed no header")
        headers = merged(ev["headers"], printed)
        req = {"body": body if blank else ev["body"], "headers": headers, "key": self.keys()[0], "url": self.url,
               "method": "POST", "now": int(time.time())}
        v = self.call("verify", req)
        self.assertTrue(v.get("ok"), f"the SDK refuses what hookgate sign printed (headers {sorted(printed)}): {v.get('error', '')}")
        # a scheme that covers the body: one byte of it; else (a token) the first part it names
        part = "body" if "body" in self.d["tamper"] else list(self.d["tamper"])[0]
        t = self.call("tamper", {"body": req["body"], "headers": headers, "part": part})
        v = self.call("verify", dict(req, body=t["body"], headers=t["headers"]))
        self.assertFalse(v.get("ok"), f"the SDK accepts {t['changed']}: it cannot fail, so it proves nothing")


for _name in modules():
    _cls = "Producer_" + re.sub(r"[^A-Za-z0-9]", "_", _name)
    globals()[_cls] = type(_cls, (ProducerChecks, unittest.TestCase), {"profile": _name, "__doc__": f"tests/sdk/producers/{_name}.js"})
del _name, _cls


class Harness(unittest.TestCase):
    """Node.js and the SDKs are there; the oracle's own tamper keeps length and alphabet."""

    def test_node_and_sdks_installed(self):
        s = fixture()
        if "error" in s and not s.get("modules"):
            self.fail(s["error"])
        v = subprocess.run([s["node"], "-v"], capture_output=True, text=True).stdout.strip()
        print(f"\n  node {v} ({s['node']}), {len(s['modules'])} producer modules", end=" ", file=sys.stderr)
        self.assertTrue(node_ok(v), f"node {v} is too old for the pinned SDKs")

    def test_every_module_loads_and_has_a_route(self):
        s = fixture()
        if "error" in s and not s.get("modules"):
            self.fail(s["error"])
        bad = {n: d["error"] for n, d in s["modules"].items() if "error" in d}
        self.assertEqual(bad, {})

    def test_tamper_keeps_length_and_alphabet(self):
        s = fixture()
        if "error" in s and not s.get("oracle"):
            self.fail(s["error"])
        hexsig = "sha256=" + "0123456789abcdef" * 4
        b64sig = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
        body = '{"id":"evt_1","amount":2000,"note":"caf\\u00e9 xyz"}'
        node, _ = find_node()
        script = ("const o=require(process.argv[1]);const r=[];"
                  "r.push(o.tamperPart({body:'b',headers:{'X-Sig':process.argv[2]}},{header:'x-sig'}).headers['x-sig']);"
                  "r.push(o.tamperPart({body:'b',headers:{S:process.argv[3]}},{header:'S'}).headers.S);"
                  "r.push(o.tamperPart({body:'b',headers:{T:'1765000009'}},{header:'T'}).headers.T);"
                  "r.push(o.tamperPart({body:process.argv[4],headers:{}},'body').body);"
                  "r.push(o.tamperPart({body:process.argv[4],headers:{}},{pointer:'/id'}).body);"
                  "r.push(o.tamperPart({body:'b',headers:{S:'t=1765000000,v1=abcdef'}},{header:'S',match:'t=(\\\\d+)'}).headers.S);"
                  "console.error(JSON.stringify(r))")
        p = subprocess.run([node, "-e", script, ORACLE, hexsig, b64sig, body], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        h, b, t, bd, ptr, kv = json.loads(p.stderr.strip().splitlines()[-1])
        for old, new, alphabet in ((hexsig, h, r"sha256=[0-9a-f]{64}"), (b64sig, b, r"v1,[A-Za-z0-9+/]{43}="),
                                   ("1765000009", t, r"\d{10}"), ("t=1765000000,v1=abcdef", kv, r"t=\d{10},v1=abcdef")):
            self.assertEqual(len(new), len(old))
            self.assertRegex(new, "^" + alphabet + "$")
            self.assertEqual(sum(a != c for a, c in zip(old, new)), 1, (old, new))
        self.assertEqual(t, "1765000008")  # the last digit: one second, inside any tolerance
        for new in (bd, ptr):
            self.assertEqual(len(new), len(body))
            self.assertEqual(sum(a != c for a, c in zip(body, new)), 1, new)
            json.loads(new)
        self.assertNotEqual(json.loads(ptr)["id"], "evt_1")


if __name__ == "__main__":
    hg.main()
