"""Answers to producers say what is wrong (issue 14), through the real binary.

- A body that repeats a key the route's profile reads (its id, type or time
  pointers) is refused: 400 {"error": "duplicate key \"<key>\" in body"},
  the key as the profile names it.  Two parsers could disagree on which of
  the two counts, so neither is taken.  Repeats of keys the profile does not
  read (every body key for GitHub, whose id and type are headers) are the
  producer's business and accepted.
- A body whose Content-Type says JSON (application/json, application/*+json,
  any case, parameters ignored) but that is not one JSON text is refused:
  400 {"error": "body is not valid JSON"}, on every built-in profile
  (schemas/profiles/*.json), also where a header carries the id.
- Other content types keep working: a text/plain body, a Slack form.

Every refused request is validly signed (the same signer's JSON request is
accepted, and a bad signature on the refused body still gets 401: the
signature is checked first, so an unauthenticated sender learns nothing
new), gets one "request rejected" log line with status 400 and its reason,
and leaves nothing in the store (`hookgate events list`, stdout).
"""
import base64
import glob
import hashlib
import hmac
import json
import tempfile
import shutil
import atexit
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402

PROFILE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../schemas/profiles")
PROFILES = sorted(os.path.basename(f)[:-5] for f in glob.glob(os.path.join(PROFILE_DIR, "*.json")))
TOKENS = {"hubex": "hubex-token-5e2b9c0d71", "ultimate-multisite": "um-token-0c8d4f2a9e"}
STANDARD_SECRET = "whsec_" + base64.b64encode(b"answers-standard-secret-32bytes!").decode()
ENV = {"A_SECRET": "answers-secret-value", "A_STANDARD": STANDARD_SECRET,
       "A_HUBEX": TOKENS["hubex"], "A_UM": TOKENS["ultimate-multisite"]}


# the profiles signed by hand below; every other built-in is signed by `hookgate sign`
# with a key of its scheme's kind (made here: public keys in the route, private ones
# for sign), and its refusals checked the same way
HAND = ("generic", "iex", "standard", "github", "github-sha1", "stripe", "slack", "shopify", "hubex",
        "ultimate-multisite", "openwebui", "unsigned")
KEYDIR = tempfile.mkdtemp(prefix="hg-answers-keys-")
atexit.register(shutil.rmtree, KEYDIR, True)


def _keypair(kind):
    priv = os.path.join(KEYDIR, kind + ".key")
    args = {"ed25519": ["-algorithm", "ed25519"], "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]}[kind]
    subprocess.run(["openssl", "genpkey", *args, "-out", priv], check=True, capture_output=True)
    os.chmod(priv, 0o600)
    pub = subprocess.run(["openssl", "pkey", "-in", priv, "-pubout"], check=True, capture_output=True).stdout
    return priv, pub.decode()


def _profile(p):
    with open(os.path.join(PROFILE_DIR, p + ".json")) as f:
        return json.load(f)


def _kind(p):
    """The key kind a built-in profile's secrets are: hmac, whsec, ed25519, p256, rsa, basic."""
    sig = _profile(p).get("signature") or {}
    algs = [sig.get("algorithm", "")] + list((sig.get("versions") or {}).values())
    algs += (sig.get("jwt") or {}).get("algorithms", [])
    if "ed25519" in algs:
        return "ed25519"
    if "ecdsa-p256-sha256" in algs or "ES256" in algs:
        return "p256"
    if "RS256" in algs:
        return "rsa"
    if sig.get("format") == "basic":
        return "basic"
    return "whsec" if sig.get("secret") == "whsec" else "hmac"


KEYS = {k: _keypair(k) for k in ("ed25519", "p256", "rsa")}
ENV.update({"A_ED25519": KEYS["ed25519"][1], "A_P256": KEYS["p256"][1], "A_RSA": KEYS["rsa"][1],
            "A_BASIC": "answers:basic-pass-7c1e"})
SECRET_ENV = {"whsec": "A_STANDARD", "ed25519": "A_ED25519", "p256": "A_P256", "rsa": "A_RSA",
              "basic": "A_BASIC", "hmac": "A_SECRET"}
BASE = {}  # the gateway's URL, for schemes that sign it


def secret_of(p):
    return STANDARD_SECRET if p == "standard" else ENV["A_SECRET"]


def body_auth(p):
    """1 if p's authentication reads the body (a signature, token or timestamp in it, or a
    form): a body that is not JSON cannot be authenticated, and is a 401."""
    d = _profile(p)
    sig = d.get("signature") or {}
    ts = (d.get("timestamp") or {}).get("from", [])
    return bool(sig.get("from_body") or sig.get("token_pointer")
                or any("pointer" in t for t in ts))


def route_claims(p):
    """The claims a JWT profile's routes must pin (pubsub-push: the service account)."""
    names = ((_profile(p).get("signature") or {}).get("jwt") or {}).get("route_claims", [])
    return {n: "answers@example.iam.gserviceaccount.com" for n in names}


def sign_with_cli(p, body, eid, etype, may_fail=False):
    kind = _kind(p)
    key = {"ed25519": "file:" + KEYS["ed25519"][0], "p256": "file:" + KEYS["p256"][0],
           "rsa": "file:" + KEYS["rsa"][0]}.get(kind, "env:" + SECRET_ENV[kind])
    out = subprocess.run([hg.BIN, "sign", "-p", p, "-s", key, "--id", eid, "--type", etype,
                          "--url", BASE.get("url", "") + f"/hooks/{p}",
                          *[a for k, v in route_claims(p).items() for a in ("--claim", f"{k}={v}")]],
                         input=body, capture_output=True, env=dict(os.environ, **ENV), timeout=30)
    if out.returncode and may_fail:
        return {}  # the body cannot carry p's signature (it is not JSON)
    assert out.returncode == 0, (p, out.stderr)
    h = {}
    for line in out.stdout.decode().split("\n"):
        if not line.strip():
            break
        k, _, v = line.partition(": ")
        if k.lower() != "content-type":
            h[k] = v
    return h


def route(p):
    r = {"path": f"/hooks/{p}", "profile": p, "sinks": ["out"]}
    if p in ("openwebui", "unsigned"):
        r.update(allow_unsigned=True, allow=["127.0.0.1/32"])
    elif p == "hubex":
        r["secrets"] = ["env:A_HUBEX"]
    elif p == "ultimate-multisite":
        r.update(secrets=["env:A_UM"], type="payment_received")
    elif p in HAND:
        r["secrets"] = ["env:A_STANDARD" if p == "standard" else "env:A_SECRET"]
    else:
        r["secrets"] = ["env:" + SECRET_ENV[_kind(p)]]
        if any(h.get("verify") == "verify_token" for h in _profile(p).get("handshakes", [])):
            r["verify_token"] = "answers-verify-token"
        claims = route_claims(p)
        if claims:
            r["jwt_claims"] = claims
    return r


def signed(p, body, eid, etype="thing.happened"):
    """(path, headers) producer p sends for body: signed with the route's
    secret, id and type in headers where p takes them from there, no
    Content-Type (each test sets it)."""
    sec, ts = secret_of(p).encode(), int(time.time())
    mac = lambda alg, key, msg: hmac.new(key, msg, alg).digest()
    path, h = f"/hooks/{p}", {}
    if p == "generic":
        h = {"X-Webhook-Signature": "sha256=" + mac(hashlib.sha256, sec, body).hex(),
             "X-Webhook-Event-Id": eid, "X-Webhook-Event": etype}
    elif p == "iex":
        h = hg.iex_headers(secret_of(p), body, eid, etype, ts=ts)
        del h["Content-Type"]
    elif p == "standard":
        key = base64.b64decode(STANDARD_SECRET[len("whsec_"):])
        sig = base64.b64encode(mac(hashlib.sha256, key, f"{eid}.{ts}.".encode() + body)).decode()
        h = {"webhook-id": eid, "webhook-timestamp": str(ts), "webhook-signature": "v1," + sig}
    elif p in ("github", "github-sha1"):
        alg, name, hdr = ((hashlib.sha256, "sha256=", "X-Hub-Signature-256") if p == "github"
                          else (hashlib.sha1, "sha1=", "X-Hub-Signature"))
        h = {hdr: name + mac(alg, sec, body).hex(), "X-GitHub-Delivery": eid, "X-GitHub-Event": etype}
    elif p == "stripe":
        h = {"Stripe-Signature": f"t={ts},v1=" + mac(hashlib.sha256, sec, f"{ts}.".encode() + body).hex()}
    elif p == "slack":
        h = {"X-Slack-Request-Timestamp": str(ts),
             "X-Slack-Signature": "v0=" + mac(hashlib.sha256, sec, f"v0:{ts}:".encode() + body).hex()}
    elif p == "shopify":
        h = {"X-Shopify-Hmac-Sha256": base64.b64encode(mac(hashlib.sha256, sec, body)).decode(),
             "X-Shopify-Webhook-Id": eid, "X-Shopify-Topic": etype}
    elif p in TOKENS:
        path = f"/hooks/{p}/{TOKENS[p]}"
    elif p not in HAND:
        h = sign_with_cli(p, body, eid, etype)
    elif p not in ("openwebui", "unsigned"):
        raise AssertionError(f"no signer for the built-in profile {p}: add one to test_answers.py")
    return path, h


def json_body(p, eid, **extra):
    """A JSON body p accepts, carrying eid (two events need two bodies)."""
    d = {"event_id": eid, "id": eid, "type": "thing.happened", "event": "thing.happened", "EventID": 40}
    d.update(extra)
    return json.dumps(d).encode()


class Answers(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.g = self.gateway(self.config(routes=[route(p) for p in PROFILES]), env=ENV)
        BASE["url"] = self.u(self.g, "").rstrip("/")
        self.data = os.path.join(self.tmp, "data")
        self.accepted = []

    def post(self, p, body, ct, eid, headers=None):
        path, h = signed(p, body, eid)
        h = dict(h, **(headers or {}))
        if ct is not None:
            h["Content-Type"] = ct
        return self.req(self.g, path, body, h)

    def accept(self, p, body, ct, eid, **kw):
        r = self.post(p, body, ct, eid, **kw)
        self.assertEqual(r.status, 200, (p, r.body))
        self.accepted.append(r.json()["id"])
        return r

    def refused(self, p, body, ct, eid, error, reason=None, headers=None):
        """p's validly signed request is a 400 with {"error": error}, logged once
        with that status and reason (default: error itself)."""
        before = len(self.g.logs())
        r = self.post(p, body, ct, eid, headers)
        self.assertEqual(r.status, 400, (p, body, r.body))
        self.assertEqual(r.json(), {"error": error}, p)
        self.assertEqual(r.headers.get("content-type"), "application/json")
        self.assertTrue(hg.wait_for(lambda: [l for l in self.g.logs()[before:]
                                             if l.get("msg") == "request rejected"], 10))
        time.sleep(0.2)  # a second, late line for the same request would show now
        rej = [l for l in self.g.logs()[before:] if l.get("msg") == "request rejected"]
        self.assertEqual(len(rej), 1, rej)
        self.assertEqual((rej[0]["status"], rej[0]["path"]), (400, f"/hooks/{p}"))
        self.assertEqual(rej[0]["reason"], reason or error)
        # the signature is checked first: the same body unsigned or badly signed is a 401
        # (a token, credentials or a JWT that does not cover the body: nothing to sign badly)
        sig = _profile(p).get("signature") or {}
        if p not in ("openwebui", "unsigned") and (p in HAND or (
                sig.get("format") not in ("token", "basic") and sig.get("covers_body", True))):
            path, h = signed(p, body + b" ", eid)
            r = self.req(self.g, path if p not in TOKENS else f"/hooks/{p}/wrong-token-0000000",
                         body, dict(h, **{"Content-Type": ct or "application/json"}))
            self.assertEqual(r.status, 401, p)
            self.assertEqual(r.json(), {"error": "invalid signature"})

    def refused_new(self, p, body, ct, eid):
        """A built-in signed by `hookgate sign`: a JSON-labelled body that is not JSON is a
        400 naming it (a 401 where the authentication itself is in the body), never stored."""
        if body_auth(p):
            path, h = f"/hooks/{p}", sign_with_cli(p, body, eid, "thing.happened", may_fail=True)
            r = self.req(self.g, path, body, dict(h, **{"Content-Type": ct}))
            self.assertEqual(r.status, 401, (p, r.body))
            return
        needs = _profile(p).get("body") == "json" or "{json:" in (_profile(p).get("signature") or {}).get(
            "content", "")
        self.refused(p, body, ct, eid, "body is not valid JSON",
                     reason="body is not JSON" if needs else "body is not JSON but its Content-Type says it is")

    def assert_stored_only_accepted(self):
        """The store (read with `hookgate events list`) and stdout hold exactly
        the accepted events."""
        evs = self.g.wait_events(len(self.accepted))
        time.sleep(0.3)  # a refused request must not produce a line late either
        self.assertEqual(sorted(e["id"] for e in self.g.events()), sorted(self.accepted))
        out = subprocess.run([hg.BIN, "events", "list", "--limit", "1000", "--data", self.data],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        ids = [line.split("\t")[3] for line in out.stdout.splitlines()[1:] if line.strip()]
        self.assertEqual(sorted(ids), sorted(self.accepted))
        return evs

    def test_duplicate_id_type_time_keys_are_named(self):
        cases = [  # profile, body, the key named
            ("generic", b'{"event_id":"g-dup-1","event":"a","event_id":"g-dup-2"}', "event_id"),
            ("generic", b'{"id":"g-dup-3","id":"g-dup-3"}', "id"),
            ("generic", b'{"event_id":"g-dup-4","type":"a","type":"b"}', "type"),
            ("generic", b'{"event_id":"g-dup-5","event":"a","time":"2026-01-01T00:00:00Z",'
                        b'"time":"2026-01-02T00:00:00Z"}', "time"),
            ("generic", b'{"event_id":"g-dup-6","ev\\u0065nt":"a","event":"b"}', "event"),
            ("standard", b'{"type":"a.b","data":{},"type":"c.d"}', "type"),
            ("standard", b'{"type":"a.b","timestamp":"2026-01-01T00:00:00Z","timestamp":"x"}', "timestamp"),
            ("stripe", b'{"id":"evt_dup_1","type":"a","id":"evt_dup_2"}', "id"),
            ("unsigned", b'{"event_id":"u-dup-1","event_id":"u-dup-2"}', "event_id"),
        ]
        for n, (p, body, key) in enumerate(cases):
            with self.subTest(profile=p, key=key):
                self.refused(p, body, "application/json", f"hdr-dup-{n}", f'duplicate key "{key}" in body')
        # the control: the same signers' bodies without the repeat are accepted
        self.accept("generic", b'{"event_id":"g-ok-1","event":"a","x":1,"x":2}', "application/json", "h-ok-1")
        self.accept("standard", b'{"type":"a.b","data":{"id":1,"id":2}}', "application/json", "msg_ok_1")
        self.accept("stripe", b'{"id":"evt_ok_1","type":"a"}', "application/json", "unused")
        # GitHub reads id and type from headers: no body key is its business
        r = self.accept("github", b'{"action":"opened","action":"closed","id":1,"id":2}', "application/json",
                        "gh-dup-ok")
        self.assertEqual(r.json()["id"], "gh-dup-ok")
        self.assert_stored_only_accepted()

    def test_non_json_labelled_json_on_every_profile(self):
        self.assertIn("generic", PROFILES)
        self.assertGreaterEqual(len(PROFILES), 12)
        cts = ["application/json", "application/json; charset=utf-8", "Application/JSON",
               "application/vnd.example+json"]
        bodies = [b'{"event_id":"x", oops', b"plain text, not json", b'{"a":"\xff"}', b'{"a":1}\x00']
        for n, p in enumerate(PROFILES):
            with self.subTest(profile=p):
                body, ct = bodies[n % len(bodies)], cts[n % len(cts)]
                if p not in HAND:
                    self.refused_new(p, body, ct, f"hdr-nj-{n}")
                    continue
                # an id in a header does not make it text: the id header is sent wherever p has one
                self.refused(p, body, ct, f"hdr-nj-{p}", "body is not valid JSON",
                             reason="body is not JSON" if p in ("iex", "standard", "stripe", "hubex",
                                                                 "ultimate-multisite")
                             else "body is not JSON but its Content-Type says it is")
                self.accept(p, json_body(p, f"ok-{p}"), ct, f"hdr-ok-{p}")
        self.refused("github", b"", "application/json", "gh-empty", "body is not valid JSON",
                     reason="body is not JSON but its Content-Type says it is")
        self.assert_stored_only_accepted()

    def test_text_and_form_bodies_keep_their_content_type(self):
        self.accept("github", b"plain text from a producer", "text/plain", "gh-text-1")
        self.accept("generic", b"hello, not json", "text/plain; charset=utf-8", "g-text-1")
        form = b"token=x&team_id=T1&command=%2Fdeploy&text=now"
        self.accept("slack", form, "application/x-www-form-urlencoded", "unused")
        self.accept("openwebui", b"New user signed up: ana", "text/plain", "unused")
        self.accept("shopify", b"{not json, and not labelled JSON}", "text/plain", "shop-1")
        evs = {e["id"]: e for e in self.assert_stored_only_accepted()}
        self.assertEqual(evs["gh-text-1"]["data"], "plain text from a producer")
        self.assertEqual(evs["gh-text-1"]["datacontenttype"], "text/plain")
        self.assertEqual(evs["g-text-1"]["data"], "hello, not json")
        slack = evs["sha256:" + hashlib.sha256(form).hexdigest()]
        self.assertEqual((slack["data"], slack["type"]), (form.decode(), "unknown"))
        self.assertEqual(slack["datacontenttype"], "application/x-www-form-urlencoded")


if __name__ == "__main__":
    hg.main()
