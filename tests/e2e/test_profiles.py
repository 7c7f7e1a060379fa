"""Producer profiles end to end (docs/profiles.md): every signed built-in
profile verifies its test vectors from vectors.json, refuses one changed byte
in the body, the signature, the id or the timestamp, refuses stale
timestamps, and accepts both secrets of a rotation; token and unsigned
producers (HubEx, Ultimate Multisite, Open WebUI) are authenticated by a path
or header token or an IP allow-list.

The reference signers below are written from the producers' documentation and
are checked against the published vectors first, so a request they sign "now"
is what the producer would send now.  A vector signed long ago can only be
verified as sent if the loader accepts a route tolerance that wide (probed
once with `hookgate check`); otherwise the vector is re-signed at the current
time with its own secret, id, nonce and body.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402

SIGNED = ("generic", "iex", "standard", "github", "github-sha1", "stripe", "slack", "shopify")
TIMESTAMPED = ("iex", "standard", "stripe", "slack")


def b64(b):
    return base64.b64encode(b).decode()


def ed25519_sign(whsk, msg):
    """Ed25519 signature with the openssl CLI; whsk_ = 32-byte seed or 64-byte seed+public key."""
    seed = base64.b64decode(whsk[len("whsk_"):])[:32]
    der = bytes.fromhex("302e020100300506032b657004220420") + seed  # PKCS#8 wrapping of the seed
    with tempfile.TemporaryDirectory() as d:
        key, m = os.path.join(d, "k.der"), os.path.join(d, "m")
        with open(key, "wb") as f:
            f.write(der)
        with open(m, "wb") as f:
            f.write(msg)
        p = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-keyform", "DER", "-inkey", key, "-in", m],
                           capture_output=True, check=True)
        return p.stdout


def ed25519_public(whsk, spki=False):
    """The whpk_ public key of a whsk_ private key: raw 32 bytes, or the 44-byte SPKI DER form."""
    seed = base64.b64decode(whsk[len("whsk_"):])[:32]
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    p = subprocess.run(["openssl", "pkey", "-inform", "DER", "-pubout", "-outform", "DER"],
                       input=der, capture_output=True, check=True)
    return "whpk_" + b64(p.stdout if spki else p.stdout[-32:])


def whsec_key(secret):
    return base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)


def sig_header(profile):
    return {"generic": "X-Webhook-Signature", "iex": "X-Webhook-Signature", "standard": "webhook-signature",
            "github": "X-Hub-Signature-256", "github-sha1": "X-Hub-Signature", "stripe": "Stripe-Signature",
            "slack": "X-Slack-Signature", "shopify": "X-Shopify-Hmac-Sha256"}[profile]


def producer_headers(p, secret, body, eid="evt_1", etype="thing.happened", ts=None, nonce="n_1"):
    """The headers producer p sends for body, signed with secret (reference implementation)."""
    ts = int(time.time()) if ts is None else int(ts)
    h = {"Content-Type": "application/json"}
    mac = lambda alg, key, msg: hmac.new(key, msg, alg).digest()
    if p == "generic":
        h.update({"X-Webhook-Signature": hg.sign_generic(secret, body), "X-Webhook-Event-Id": eid,
                  "X-Webhook-Event": etype})
    elif p == "iex":
        h = hg.iex_headers(secret, body, eid, etype, ts=ts, nonce=nonce)
    elif p == "standard":
        msg = f"{eid}.{ts}.".encode() + body
        sig = ("v1a," + b64(ed25519_sign(secret, msg)) if secret.startswith("whsk_")
               else "v1," + b64(mac(hashlib.sha256, whsec_key(secret), msg)))
        h.update({"webhook-id": eid, "webhook-timestamp": str(ts), "webhook-signature": sig})
    elif p in ("github", "github-sha1"):
        alg, name = (hashlib.sha256, "sha256=") if p == "github" else (hashlib.sha1, "sha1=")
        h.update({sig_header(p): name + mac(alg, secret.encode(), body).hex(), "X-GitHub-Delivery": eid,
                  "X-GitHub-Event": etype})
    elif p == "stripe":
        h["Stripe-Signature"] = f"t={ts},v1=" + mac(hashlib.sha256, secret.encode(), f"{ts}.".encode() + body).hex()
    elif p == "slack":
        h.update({"X-Slack-Request-Timestamp": str(ts),
                  "X-Slack-Signature": "v0=" + mac(hashlib.sha256, secret.encode(), f"v0:{ts}:".encode() + body).hex()})
    elif p == "shopify":
        h.update({"X-Shopify-Hmac-Sha256": b64(mac(hashlib.sha256, secret.encode(), body)),
                  "X-Shopify-Webhook-Id": eid, "X-Shopify-Topic": etype})
    else:
        raise ValueError(p)
    return h


def make_body(p, eid, etype, note="payload-xyz"):
    """A JSON body for p that carries eid/etype where p reads them from the body.
    eid is in every body: an id from a header the signature does not cover is
    deduplicated by the body's SHA-256, so two events need two bodies."""
    d = {"note": note, "ref": eid}
    if p == "stripe":
        d.update(id=eid, object="event", type=etype)
    elif p == "standard":
        d.update(type=etype)
    elif p == "slack":
        d.update(type=etype, event_id=eid)
    return json.dumps(d).encode()


# Secrets of the rotation routes: the old and the new one; RETIRED is on no route.
def secret(p, which):
    s = f"{p}-{which}-secret"
    return "whsec_" + b64((s * 2)[:32].encode()) if p == "standard" else s


def vector_args(v):
    """(id, type, nonce) the producer of vector v used (for re-signing it)."""
    h, p = v["headers"], v["profile"]
    return {"iex": (h.get("X-Webhook-Event-Id"), h.get("X-Webhook-Event-Type"), h.get("X-Webhook-Nonce")),
            "standard": (h.get("webhook-id"), None, None),
            "github": (h.get("X-GitHub-Delivery"), h.get("X-GitHub-Event"), None),
            "shopify": (h.get("X-Shopify-Webhook-Id"), h.get("X-Shopify-Topic"), None)}.get(p, (None, None, None))


def vector_expect(v):
    """(id, type) the envelope of vector v must carry."""
    b, h, p = v["body"].encode(), v["headers"], v["profile"]
    try:
        j = json.loads(b)
    except ValueError:
        j = None
    return {"standard": lambda: (h["webhook-id"], j.get("type", "unknown")),
            "github": lambda: (h["X-GitHub-Delivery"], h["X-GitHub-Event"]),
            "slack": lambda: ("sha256:" + hashlib.sha256(b).hexdigest(), "unknown"),
            "shopify": lambda: (h["X-Shopify-Webhook-Id"], h["X-Shopify-Topic"]),
            "generic": lambda: (j["event_id"], j["event"]),
            "iex": lambda: (h["X-Webhook-Event-Id"], h["X-Webhook-Event-Type"]),
            "stripe": lambda: (j["id"], j["type"])}[p]()


def is_json(body):
    try:
        json.loads(body)
        return True
    except ValueError:
        return False


def resign(v, ts):
    """Vector v's request as its producer would send it at time ts."""
    eid, etype, nonce = vector_args(v)
    h = producer_headers(v["profile"], v.get("signing_secret", v["secret"]), v["body"].encode(),
                         eid=eid, etype=etype, ts=ts, nonce=nonce)
    if v["profile"] == "slack":
        h["Content-Type"] = "application/x-www-form-urlencoded"
    return h


def entries(p, value):
    """The signatures in a signature header value, as a set of strings."""
    if p == "stripe":
        return {e for e in value.split(",") if e.startswith("v1=")}
    if p == "standard":
        return set(value.split(" "))
    return {value}


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def check_config(cfg, env=None):
    """`hookgate check -c FILE` on cfg (in a throwaway dir); the CompletedProcess."""
    with tempfile.TemporaryDirectory() as d:
        cfg = dict(cfg, data_dir=os.path.join(d, "data"))
        path = os.path.join(d, "hookgate.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, **hg.ENV, **(env or {})))


_WIDE = []


def wide_tolerance():
    """'3650d' if the loader accepts a route tolerance that wide (the oldest
    vector is from 2021: vectors are then verified exactly as sent), else None."""
    if not _WIDE:
        cfg = hg.basic_config("/tmp", routes=[{"path": "/w", "profile": "iex", "secrets": ["x"],
                                               "tolerance": "3650d", "sinks": ["out"]}])
        _WIDE.append("3650d" if check_config(cfg).returncode == 0 else None)
    return _WIDE[0]


def flip(s, i):
    """s with the character at index i changed (to one valid in hex and base64)."""
    return s[:i] + ("a" if s[i] != "a" else "b") + s[i + 1:]


def rejected_reasons(g):
    return [str(l.get("reason", "")) for l in g.logs() if l.get("msg") == "request rejected"]


class Signed(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.wide = wide_tolerance()
        routes = []
        for p in SIGNED:
            routes.append({"path": f"/hooks/{p}", "profile": p, "secrets": [secret(p, "old"), secret(p, "new")],
                           "sinks": ["out"]})
            vs = hg.vectors(p)
            if vs:
                secrets = sorted({v["secret"] for v in vs})
                wide = {"tolerance": self.wide} if self.wide and p in TIMESTAMPED else {}
                routes.append(dict({"path": f"/vec/{p}", "name": f"vec-{p}", "profile": p, "secrets": secrets,
                                    "sinks": ["out"]}, **wide))
                routes.append({"path": f"/vecnow/{p}", "name": f"vecnow-{p}", "profile": p, "secrets": secrets,
                               "sinks": ["out"]})
        self.g = self.gateway(self.config(routes=routes))

    def post(self, path, body, headers):
        return self.req(self.g, path, body, headers)

    def test_reference_signers_reproduce_the_vectors(self):
        """The test's own signers agree with every vector (else everything below is moot)."""
        vs = [v for p in SIGNED for v in hg.vectors(p)]
        self.assertGreaterEqual(len(vs), 11)
        for v in vs:
            with self.subTest(v["source"]):
                h = resign(v, v.get("timestamp", 0))
                p = v["profile"]
                mine = entries(p, h[sig_header(p)])
                self.assertTrue(mine <= entries(p, v["headers"][sig_header(p)]), (mine, v["headers"]))
                self.assertEqual(len(mine), 1)

    def test_vectors_verify(self):
        n = 0
        for p in SIGNED:
            for v in hg.vectors(p):
                with self.subTest(v["source"]):
                    body = v["body"].encode()
                    ct = ("application/x-www-form-urlencoded" if p == "slack" else
                          "application/json" if is_json(body) else "text/plain")
                    eid, etype = vector_expect(v)
                    r = self.post(f"/vec/{p}", body, dict(v["headers"], **{"Content-Type": ct}))
                    if "timestamp" in v and (not self.wide or time.time() - v["timestamp"] > 3650 * 86400):
                        self.assertEqual(r.status, 401, r.body)  # signed long ago, 5 minute window
                        self.assertTrue(any("timestamp" in x for x in rejected_reasons(self.g)))
                    else:
                        self.assertEqual(r.status, 200, r.body)
                        self.assertEqual(r.json()["id"], eid)
                        n += 1
                    if "timestamp" in v:
                        r = self.post(f"/vecnow/{p}", body, resign(v, int(time.time())))
                        self.assertEqual(r.status, 200, r.body)
                        self.assertEqual(r.json()["id"], eid)
                        n += 1
                    evs = [e for e in self.g.wait_events(n) if e["id"] == eid]
                    self.assertTrue(evs, eid)
                    self.assertEqual(evs[-1]["type"], etype)
                    if p == "slack":
                        self.assertEqual(evs[-1]["data"], v["body"])
        evs = self.g.wait_events(n)
        self.assertEqual(len(evs), n)
        stripe = [e for e in evs if e["hookgateroute"].endswith("stripe")]
        self.assertTrue(stripe)
        self.assertEqual(stripe[0]["time"], utc(1763846959))  # "created" of the body, unix seconds
        inv = [e for e in evs if e["type"] == "invoice.paid"]
        self.assertTrue(inv)
        self.assertEqual(inv[0]["time"], "2026-11-22T10:00:00Z")

    def tampered(self, p, body, h):
        """(what, body, headers) with one byte changed somewhere the signature covers."""
        sh = sig_header(p)
        out = [("body", body.replace(b"xyz", b"xyy"), h),
               ("signature", body, dict(h, **{sh: flip(h[sh], len(h[sh]) - 10)}))]
        idh = {"iex": "X-Webhook-Event-Id", "standard": "webhook-id"}.get(p)
        if idh:
            out.append(("id", body, dict(h, **{idh: flip(h[idh], len(h[idh]) - 1)})))
        if p == "iex":
            out += [("type", body, dict(h, **{"X-Webhook-Event-Type": "order.deleted"})),
                    ("nonce", body, dict(h, **{"X-Webhook-Nonce": "n_2"}))]
        tsh = {"iex": "X-Webhook-Timestamp", "standard": "webhook-timestamp", "slack": "X-Slack-Request-Timestamp"}.get(p)
        if tsh:
            out.append(("timestamp", body, dict(h, **{tsh: str(int(h[tsh]) - 1)})))
        if p == "stripe":
            t, v1 = h[sh].split(",")
            out.append(("timestamp", body, dict(h, **{sh: f"t={int(t[2:]) - 1},{v1}"})))
        return out

    def test_one_changed_byte_is_401(self):
        for p in SIGNED:
            with self.subTest(p):
                eid = f"evt_{p}_tamper"
                body = make_body(p, eid, "thing.happened")
                h = producer_headers(p, secret(p, "new"), body, eid=eid)
                cases = self.tampered(p, body, h)
                self.assertGreaterEqual(len(cases), 3 if p in TIMESTAMPED else 2)
                for what, b, hh in cases:
                    r = self.post(f"/hooks/{p}", b, hh)
                    self.assertEqual(r.status, 401, f"{p}: changed {what}: {r.body}")
                    self.assertEqual(r.json(), {"error": "invalid signature"})
                r = self.post(f"/hooks/{p}", body, h)
                self.assertEqual(r.status, 200, r.body)
                no_sig = {k: v for k, v in h.items() if k != sig_header(p)}
                self.assertEqual(self.post(f"/hooks/{p}", body, no_sig).status, 401)
        evs = self.g.wait_events(len(SIGNED))
        self.assertEqual(len(evs), len(SIGNED))
        self.assertEqual([e["id"] for e in evs], [f"evt_{p}_tamper" for p in SIGNED])
        self.assertEqual({e["type"] for e in evs}, {"thing.happened"})

    def test_stale_and_future_timestamps(self):
        now = int(time.time())
        for p in TIMESTAMPED:
            with self.subTest(p):
                for ts, want in ((now - 3600, 401), (now - 86400, 401), (now + 3600, 200 if p == "stripe" else 401)):
                    eid = f"evt_{p}_{ts}"
                    body = make_body(p, eid, "t")
                    r = self.post(f"/hooks/{p}", body, producer_headers(p, secret(p, "new"), body, eid=eid, ts=ts))
                    self.assertEqual(r.status, want, f"{p} ts={ts - now:+d}: {r.body}")
                eid = f"evt_{p}_ok"
                body = make_body(p, eid, "t")
                r = self.post(f"/hooks/{p}", body, producer_headers(p, secret(p, "new"), body, eid=eid, ts=now - 120))
                self.assertEqual(r.status, 200, r.body)
                hs = producer_headers(p, secret(p, "new"), body, eid=eid)
                hs.pop({"iex": "X-Webhook-Timestamp", "standard": "webhook-timestamp",
                        "slack": "X-Slack-Request-Timestamp"}.get(p, "Stripe-Signature"))
                if p == "stripe":
                    hs["Stripe-Signature"] = "v1=" + hmac.new(secret(p, "new").encode(), body, hashlib.sha256).hexdigest()
                self.assertEqual(self.post(f"/hooks/{p}", body, hs).status, 401, "no timestamp")
        self.assertIn("timestamp outside tolerance", rejected_reasons(self.g))

    def test_rotation_old_and_new_secret(self):
        for p in SIGNED:
            with self.subTest(p):
                for which, want in (("old", 200), ("new", 200), ("retired", 401)):
                    eid = f"evt_{p}_{which}"
                    body = make_body(p, eid, "rotated")
                    r = self.post(f"/hooks/{p}", body, producer_headers(p, secret(p, which), body, eid=eid))
                    self.assertEqual(r.status, want, f"{p} {which}: {r.body}")
        evs = self.g.wait_events(2 * len(SIGNED))
        self.assertEqual(sorted(e["id"] for e in evs),
                         sorted(f"evt_{p}_{w}" for p in SIGNED for w in ("old", "new")))

    def test_several_signatures_in_one_header(self):
        """kv/list formats: a decoy and a valid signature pass; stripe's v0 and
        unknown standard versions are ignored, so they alone do not."""
        now = int(time.time())
        body = make_body("stripe", "evt_multi", "t")
        good = producer_headers("stripe", secret("stripe", "old"), body, ts=now)["Stripe-Signature"].split(",")[1]
        as_v0 = "v0=" + good[3:]
        for value, want in ((f"t={now},v1={'0' * 64},{good}", 200), (f"t={now},{as_v0}", 401),
                            (f"t={now},v2={good[3:]}", 401)):
            r = self.post("/hooks/stripe", body, {"Content-Type": "application/json", "Stripe-Signature": value})
            self.assertEqual(r.status, want, value)
        body = make_body("standard", "msg_multi", "t")
        h = producer_headers("standard", secret("standard", "new"), body, eid="msg_multi", ts=now)
        sig = h["webhook-signature"][3:]
        for value, want in (("v1," + b64(b"x" * 32) + " v1," + sig, 200), ("v2," + sig, 401),
                            ("v1a," + sig, 401)):
            r = self.post("/hooks/standard", body, dict(h, **{"webhook-signature": value}))
            self.assertEqual(r.status, want, value)
            if want == 200:
                self.assertEqual(r.json()["status"], "accepted")
        # Svix sends the same with svix- header names
        svix = {"Content-Type": "application/json", "svix-id": "msg_svix", "svix-timestamp": str(now)}
        body = make_body("standard", "msg_svix", "svix.event")
        svix["svix-signature"] = producer_headers("standard", secret("standard", "old"), body,
                                                  eid="msg_svix", ts=now)["webhook-signature"]
        r = self.post("/hooks/standard", body, svix)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["id"], "msg_svix")

    def test_legacy_sha1_only_where_asked(self):
        body = b'{"zen":"xyz"}'
        h1 = producer_headers("github-sha1", secret("github", "new"), body, eid="d-sha1")
        self.assertEqual(self.post("/hooks/github", body, h1).status, 401)  # sha1 header on the sha256 route
        h256 = producer_headers("github", secret("github-sha1", "new"), body, eid="d-256")
        self.assertEqual(self.post("/hooks/github-sha1", body, h256).status, 401)
        r = self.post("/hooks/github-sha1", body, producer_headers("github-sha1", secret("github-sha1", "new"), body,
                                                                   eid="d-sha1", etype="push"))
        self.assertEqual(r.status, 200, r.body)
        e = self.g.wait_events(1)[0]
        self.assertEqual((e["id"], e["type"], e["data"]), ("d-sha1", "push", {"zen": "xyz"}))

    def test_json_profiles_refuse_non_json(self):
        for p in ("iex", "stripe", "standard"):
            body = b"not json xyz"
            r = self.post(f"/hooks/{p}", body, producer_headers(p, secret(p, "new"), body, eid=f"evt_nj_{p}"))
            self.assertEqual(r.status, 400, p)
        body = b"plain text xyz"
        r = self.post("/hooks/github", body, dict(producer_headers("github", secret("github", "new"), body,
                                                                   eid="gh-text"), **{"Content-Type": "text/plain"}))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.g.wait_events(1)[0]["data"], "plain text xyz")


class Ed25519(hg.GatewayTest):
    """Standard Webhooks v1a: whpk_ keys in both forms; a whsec_ secret beside them is skipped."""

    def test_raw_and_spki_public_keys(self):
        v = [v for v in hg.vectors("standard") if "signing_secret" in v][0]
        raw = ed25519_public(v["signing_secret"])
        self.assertEqual(raw, v["secret"])
        spki = ed25519_public(v["signing_secret"], spki=True)
        self.assertEqual(len(base64.b64decode(spki[5:])), 44)
        routes = [{"path": "/raw", "profile": "standard", "secrets": ["whsec_" + b64(b"k" * 24), raw], "sinks": ["out"]},
                  {"path": "/spki", "profile": "standard", "secrets": [spki], "sinks": ["out"]}]
        g = self.gateway(self.config(routes=routes))
        body = b'{"type":"user.created","n":"xyz"}'
        for i, path in enumerate(("/raw", "/spki")):
            h = producer_headers("standard", v["signing_secret"], body, eid=f"msg_ed{i}")
            self.assertTrue(h["webhook-signature"].startswith("v1a,"))
            r = self.req(g, path, body, h)
            self.assertEqual(r.status, 200, r.body)
            bad = producer_headers("standard", "whsk_" + b64(b"\x07" * 32), body, eid=f"msg_ed{i}")
            self.assertEqual(self.req(g, path, body, bad).status, 401)
            r = self.req(g, path, body.replace(b"xyz", b"xyy"), h)
            self.assertEqual(r.status, 401)
        evs = g.wait_events(2)
        self.assertEqual([(e["id"], e["type"]) for e in evs], [("msg_ed0", "user.created"), ("msg_ed1", "user.created")])


HUBEX_TOKEN, UM_TOKEN, OWUI_TOKEN, ROUTE_TOKEN = "hubex-tok-3f9a1c", "um-tok-77b2e0", "owui-tok-c41d9e", "route-tok-1a2b3c"


class TokensAndUnsigned(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        routes = [
            {"path": "/hooks/hubex", "profile": "hubex", "secrets": ["env:HUBEX_TOKEN"], "sinks": ["out"]},
            {"path": "/hooks/um", "profile": "ultimate-multisite", "secrets": ["env:UM_TOKEN"],
             "type": "payment_received", "sinks": ["out"]},
            {"path": "/hooks/owui", "profile": "openwebui", "allow_unsigned": True, "allow": ["127.0.0.1/32"],
             "sinks": ["out"]},
            {"path": "/hooks/owui-far", "profile": "openwebui", "allow_unsigned": True, "allow": ["10.0.0.0/8", "::1/128"],
             "sinks": ["out"]},
            {"path": "/hooks/owui-tok", "profile": "openwebui", "allow_unsigned": True, "token": "env:OWUI_TOKEN",
             "sinks": ["out"]},
            {"path": "/hooks/gen-tok", "profile": "generic", "secrets": ["generic-secret"], "token": ROUTE_TOKEN,
             "sinks": ["out"]},
            {"path": "/hooks/gh-far", "profile": "github", "secrets": ["gh"], "allow": ["10.0.0.0/8"], "sinks": ["out"]},
        ]
        self.g = self.gateway(self.config(routes=routes),
                              env={"HUBEX_TOKEN": HUBEX_TOKEN, "UM_TOKEN": UM_TOKEN, "OWUI_TOKEN": OWUI_TOKEN})

    def post(self, path, body, headers=None, ct="application/json"):
        return self.req(self.g, path, body, dict({"Content-Type": ct}, **(headers or {})))

    def test_hubex_event_ids_mapped_and_token_in_path_or_header(self):
        sent = []
        ways = [(f"/hooks/hubex/{HUBEX_TOKEN}", {}), ("/hooks/hubex", {"X-Hookgate-Token": HUBEX_TOKEN}),
                ("/hooks/hubex", {"Authorization": "Bearer " + HUBEX_TOKEN})]
        for i, eid in enumerate((40, 41, 42, 43, 44, 99)):
            body = json.dumps({"EventID": eid, "ObjectID": 128734 + i, "ObjectTypeID": 3, "Name": "Boiler room, bldg 2",
                               "CreatedAt": "2025-08-18T09:12:44+03:00"}).encode()
            path, h = ways[i % len(ways)]
            r = self.post(path, body, h)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["status"], "accepted")
            sent.append(body)
        r = self.post(f"/hooks/hubex/{HUBEX_TOKEN}", sent[0])
        self.assertEqual(r.json()["status"], "duplicate")  # same body, same sha256 id
        body = b'{"EventID": 40, "ObjectID": 1}'
        for path, h in [("/hooks/hubex/wrong-token", {}), ("/hooks/hubex", {}),
                        ("/hooks/hubex", {"X-Hookgate-Token": HUBEX_TOKEN[:-1] + "x"}),
                        ("/hooks/hubex", {"Authorization": "Bearer nope"}),
                        (f"/hooks/hubex/{HUBEX_TOKEN}x", {}), (f"/hooks/hubex/{UM_TOKEN}", {})]:
            r = self.post(path, body, h)
            self.assertEqual(r.status, 401, (path, h))
        self.assertEqual(self.post(f"/hooks/hubex/{HUBEX_TOKEN}", b"EventID=40").status, 400)
        evs = self.g.wait_events(6)
        self.assertEqual([e["type"] for e in evs], ["object.created", "object.updated", "object.deleted",
                                                    "object.published", "object.unpublished", "99"])
        self.assertEqual([e["id"] for e in evs], ["sha256:" + hashlib.sha256(b).hexdigest() for b in sent])
        self.assertEqual({e["source"] for e in evs}, {"/hooks/hubex"})  # the token is not part of the source
        self.assertEqual(evs[0]["time"], "2025-08-18T09:12:44+03:00")
        self.assertEqual(evs[0]["data"]["ObjectID"], 128734)
        self.assertNotIn(HUBEX_TOKEN, hg.read(self.g.out_path) + self.g.stderr())

    def test_ultimate_multisite_route_type_and_test_event(self):
        real = {"wu_version": "2.3.4", "payment_id": 77, "payment_status": "completed", "payment_total": 49.0,
                "customer_id": 12, "customer_email": "ana@example.com"}
        r = self.post(f"/hooks/um/{UM_TOKEN}", json.dumps(real).encode())
        self.assertEqual(r.status, 200, r.body)
        with open(os.path.join(os.path.dirname(hg.__file__), "../../schemas/profiles/ultimate-multisite.json")) as f:
            te = json.load(f)["test_event"]
        self.assertNotIn("wu_version", te["body"])
        test_body = json.dumps({k: ("um-test-1" if v == "{id}" else v) for k, v in te["body"].items()}).encode()
        r = self.post(f"/hooks/um/{UM_TOKEN}", test_body)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.post("/hooks/um/not-the-token", json.dumps(real).encode()).status, 401)
        self.assertEqual(self.post("/hooks/um", json.dumps(real).encode()).status, 401)
        evs = self.g.wait_events(2)
        self.assertEqual([e["type"] for e in evs], ["payment_received", "ultimate-multisite.test"])
        self.assertEqual(evs[0]["data"], real)
        self.assertEqual(evs[0]["id"], "sha256:" + hashlib.sha256(json.dumps(real).encode()).hexdigest())

    def test_openwebui_plain_text_and_json(self):
        r = self.post("/hooks/owui", b"New user signed up: alice", ct="text/plain")
        self.assertEqual(r.status, 200, r.body)
        signup = {"action": "signup", "message": "New user signed up: bob", "user": {"name": "bob"}}
        self.assertEqual(self.post("/hooks/owui", json.dumps(signup).encode()).status, 200)
        self.assertEqual(self.post("/hooks/owui", b'{"text": "New user signed up: carol"}').status, 200)
        evs = self.g.wait_events(3)
        self.assertEqual(len(evs), 3)
        e = evs[0]
        self.assertEqual(e["data"], "New user signed up: alice")
        self.assertNotIn("data_base64", e)
        self.assertTrue(e["datacontenttype"].startswith("text/plain"))
        self.assertEqual(e["id"], "sha256:" + hashlib.sha256(b"New user signed up: alice").hexdigest())
        self.assertEqual(e["type"], "unknown")
        self.assertEqual((evs[1]["type"], evs[1]["data"]), ("signup", signup))
        self.assertEqual((evs[2]["type"], evs[2]["data"]), ("unknown", {"text": "New user signed up: carol"}))

    def test_token_never_logged_on_404(self):
        """A token route's URL with a trailing slash or an extra segment is a
        404, and its log line shows the route path, never the token."""
        body = b'{"EventID": 40}'
        for path in (f"/hooks/hubex/{HUBEX_TOKEN}/", f"/hooks/hubex/{HUBEX_TOKEN}/extra",
                     f"/hooks/gen-tok/{ROUTE_TOKEN}/", "/hooks/hubex/"):
            self.assertEqual(self.post(path, body).status, 404, path)
        log = self.g.stderr()
        self.assertIn('"path":"/hooks/hubex"', log)
        self.assertIn('"status":404', log)
        self.assertNotIn(HUBEX_TOKEN, log)
        self.assertNotIn(ROUTE_TOKEN, log)

    def test_token_on_a_mistyped_route_is_not_logged(self):
        """A producer configured with a mistyped route prefix sends its token
        to a path no route owns: the 404 log line keeps what the path shares
        with a route's path and masks every later segment, whatever it holds
        (regression: the path was logged verbatim; then short tokens, or
        tokens with other than token-like characters, still were)."""
        body = b'{"EventID": 40}'
        for path in (f"/hooks/hubexx/{HUBEX_TOKEN}", f"/hook/gen-tok/{ROUTE_TOKEN}/x",
                     f"/hooks/nope?token={ROUTE_TOKEN}"):
            self.assertEqual(self.post(path, body).status, 404, path)
        log = self.g.stderr()
        self.assertNotIn(HUBEX_TOKEN, log)
        self.assertNotIn(ROUTE_TOKEN, log)
        paths = [l.get("path") for l in self.g.logs() if l.get("status") == 404]
        self.assertIn("/hooks/.../...", paths)
        self.assertIn("/.../.../.../...", paths)  # "/hook" is no route's segment
        self.assertIn("/hooks/...", paths)  # libmicrohttpd hands over the path without its query

    def test_openwebui_allow_list_and_token(self):
        r = self.post("/hooks/owui-far", b"New user signed up: mallory", ct="text/plain")
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(self.post("/hooks/owui-tok", b"New user signed up: eve", ct="text/plain").status, 401)
        self.assertEqual(self.post("/hooks/owui-tok/wrong", b"New user signed up: eve", ct="text/plain").status, 401)
        r = self.post(f"/hooks/owui-tok/{OWUI_TOKEN}", b"New user signed up: dave", ct="text/plain")
        self.assertEqual(r.status, 200, r.body)
        evs = self.g.wait_events(1)
        self.assertEqual([e["data"] for e in evs], ["New user signed up: dave"])
        self.assertEqual(evs[0]["source"], "/hooks/owui-tok")
        warned = [l for l in self.g.logs() if str(l.get("level", "")).lower().startswith("warn")]
        self.assertTrue(any("/hooks/owui" in json.dumps(l) for l in warned), warned)

    def test_route_token_and_allow_on_signed_routes(self):
        body = b'{"event_id":"evt_tok","event":"x"}'
        sig = {"X-Webhook-Signature": hg.sign_generic("generic-secret", body)}
        self.assertEqual(self.post("/hooks/gen-tok", body, sig).status, 401)  # signature but no token
        self.assertEqual(self.post(f"/hooks/gen-tok/{ROUTE_TOKEN}", body).status, 401)  # token but no signature
        self.assertEqual(self.post("/hooks/gen-tok/bad", body, sig).status, 401)
        r = self.post(f"/hooks/gen-tok/{ROUTE_TOKEN}", body, sig)
        self.assertEqual(r.status, 200, r.body)
        gh = producer_headers("github", "gh", body, eid="gh-far")
        self.assertEqual(self.post("/hooks/gh-far", body, gh).status, 403)
        evs = self.g.wait_events(1)
        self.assertEqual([(e["id"], e["source"]) for e in evs], [("evt_tok", "/hooks/gen-tok")])


class TokensAndUnsignedTLS(TokensAndUnsigned):
    scheme = "https"


if __name__ == "__main__":
    hg.main()
