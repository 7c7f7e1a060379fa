"""Producer profiles from the command line: `hookgate sign` reproduces the
published vectors and its output is accepted by `hookgate serve`;
`hookgate send-test` against an HTTPS gateway; `hookgate check` on bad
profiles, user profile directories and unsigned routes; and the profile files
against schemas/profile.schema.json (docs/profiles.md)."""
import base64
import copy
import glob
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402
from test_profiles import (SIGNED, entries, make_body, producer_headers, secret, sig_header,  # noqa: E402
                           vector_args)

try:
    from jsonschema import Draft202012Validator
except ImportError:
    Draft202012Validator = None

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PROFILES = os.path.join(ROOT, "schemas", "profiles")
# the profiles these tests sign by hand (the whole catalogue: test_producers.py, test_answers.py)
BUILTIN = ("generic", "iex", "standard", "github", "github-sha1", "stripe", "slack", "shopify", "hubex",
           "ultimate-multisite", "openwebui", "unsigned")
ALL_BUILTIN = sorted(f[:-5] for f in os.listdir(PROFILES)
                     if f.endswith(".json"))
HUBEX_TOKEN, UM_TOKEN = "hubex-cli-tok-91", "um-cli-tok-42"

SHA512_PROFILE = {
    "name": "sha512", "description": "a user profile: X-Sig = hex HMAC-SHA512 of the body",
    "signature": {"header": "X-Sig", "format": "value", "algorithm": "hmac-sha512", "content": "{body}"},
    "id": [{"header": "X-Id"}], "type": [{"header": "X-Type"}, {"pointer": "/kind"}],
    "test_event": {"type": "sha512.test", "body": {"kind": "{type}"}},
}


def builtin(name):
    with open(os.path.join(PROFILES, name + ".json")) as f:
        return json.load(f)


def run(args, stdin=None, env=None):
    return subprocess.run([hg.BIN] + args, input=stdin, capture_output=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def parse_headers(out):
    """`Name: value` lines -> list of (name, value)."""
    hs = []
    for line in out.decode().splitlines():
        if line.strip():
            k, v = line.split(":", 1)
            hs.append((k.strip(), v.strip()))
    return hs


def hget(hs, name):
    vals = [v for k, v in hs if k.lower() == name.lower()]
    return vals[0] if vals else None


def all_routes(sinks=("out",)):
    """One route per built-in profile (path /hooks/NAME), each with the 'new' secret."""
    routes = []
    for p in BUILTIN:
        r = {"path": f"/hooks/{p}", "profile": p, "sinks": list(sinks)}
        if p in SIGNED:
            r["secrets"] = [secret(p, "new")]
        elif p == "hubex":
            r["secrets"] = [HUBEX_TOKEN]
        elif p == "ultimate-multisite":
            r.update(secrets=[UM_TOKEN], type="payment_received")
        else:
            r.update(allow_unsigned=True, allow=["127.0.0.1/32", "::1/128"])
        routes.append(r)
    return routes


def secret_for(p):
    return {"hubex": HUBEX_TOKEN, "ultimate-multisite": UM_TOKEN}.get(p, secret(p, "new"))


class Sign(hg.GatewayTest):
    def sign(self, p, sec, body, *extra, via_stdin=False):
        args = ["sign", "-p", p, "-s", sec] + list(extra)
        if via_stdin:
            r = run(args, stdin=body)
        else:
            path = os.path.join(self.tmp, "body.bin")
            with open(path, "wb") as f:
                f.write(body)
            r = run(args + [path])
        self.assertEqual(r.returncode, 0, r.stderr)
        hs = parse_headers(r.stdout)
        self.assertTrue(hs, r.stdout)
        self.assertEqual(hs[0][0].lower(), "content-type", r.stdout)
        return hs

    def test_sign_reproduces_the_vectors(self):
        n = 0
        for p in SIGNED:
            for v in hg.vectors(p):
                with self.subTest(v["source"]):
                    eid, etype, nonce = vector_args(v)
                    extra = (["--id", eid] if eid else []) + (["--type", etype] if etype else []) + \
                            (["--nonce", nonce] if nonce else []) + \
                            (["--timestamp", str(v["timestamp"])] if "timestamp" in v else [])
                    hs = self.sign(p, v.get("signing_secret", v["secret"]), v["body"].encode(), *extra)
                    sh = sig_header(p)
                    got = entries(p, hget(hs, sh) or "")
                    self.assertEqual(len(got), 1, hs)
                    self.assertTrue(got <= entries(p, v["headers"][sh]), (hs, v["headers"]))
                    for k, val in v["headers"].items():  # id/type/timestamp/nonce headers as the producer sent
                        if k.lower() != sh.lower():
                            self.assertEqual(hget(hs, k), val, k)
                    if p == "stripe":
                        self.assertTrue(hget(hs, sh).startswith(f"t={v['timestamp']},"))
                    n += 1
        self.assertGreaterEqual(n, 11)

    def test_ed25519_private_key_forms(self):
        v = [v for v in hg.vectors("standard") if "signing_secret" in v][0]
        seed = base64.b64decode(v["signing_secret"][5:])
        pub = base64.b64decode(v["secret"][5:])
        for whsk in (v["signing_secret"], "whsk_" + base64.b64encode(seed + pub).decode()):
            hs = self.sign("standard", whsk, v["body"].encode(), "--id", v["headers"]["webhook-id"],
                           "--timestamp", str(v["timestamp"]))
            self.assertEqual(hget(hs, "webhook-signature"), v["headers"]["webhook-signature"])
        r = run(["sign", "-p", "standard", "-s", v["secret"]], stdin=b"{}")  # a public key cannot sign
        self.assertNotEqual(r.returncode, 0)

    def test_sign_output_accepted_by_serve(self):
        g = self.gateway(self.config(routes=all_routes()))
        want = []
        for p in SIGNED:
            with self.subTest(p):
                eid = f"evt_cli_{p}"
                body = make_body(p, eid, "signed.by.cli")
                hs = self.sign(p, secret(p, "new"), body, "--id", eid, "--type", "signed.by.cli", "--nonce", "n-1",
                               via_stdin=(p == "iex"))
                r = self.req(g, f"/hooks/{p}", body, dict(hs))
                self.assertEqual(r.status, 200, (hs, r.body))
                self.assertEqual(r.json()["id"], eid)
                want.append((eid, "signed.by.cli"))
                bad = self.sign(p, secret(p, "old"), body, "--id", eid, "--type", "signed.by.cli")
                self.assertEqual(self.req(g, f"/hooks/{p}", body, dict(bad)).status, 401)
        body = b'{"EventID": 43, "ObjectID": 5}'
        hs = self.sign("hubex", HUBEX_TOKEN, body)
        self.assertEqual(hget(hs, "X-Hookgate-Token"), HUBEX_TOKEN)
        self.assertEqual(self.req(g, "/hooks/hubex", body, dict(hs)).status, 200)
        want.append(("sha256:" + hashlib.sha256(body).hexdigest(), "object.published"))
        evs = g.wait_events(len(want))
        self.assertEqual([(e["id"], e["type"]) for e in evs], want)

    def test_user_profile_hmac_sha512(self):
        d = os.path.join(self.tmp, "profiles")
        os.mkdir(d)
        with open(os.path.join(d, "sha512.json"), "w") as f:
            json.dump(SHA512_PROFILE, f)
        routes = [{"path": "/hooks/mine", "profile": "sha512", "secrets": ["k-512-old", "k-512-new"], "sinks": ["out"]}]
        g = self.gateway(self.config(routes=routes, profile_dirs=[d]))
        body = b'{"kind":"from.body","n":"xyz"}'
        mac = hmac.new(b"k-512-new", body, hashlib.sha512).hexdigest()
        hs = self.sign("sha512", "k-512-new", body, "--profile-dir", d, "--id", "u1", "--type", "from.cli")
        self.assertEqual(hget(hs, "X-Sig"), mac)
        self.assertEqual((hget(hs, "X-Id"), hget(hs, "X-Type")), ("u1", "from.cli"))
        r = self.req(g, "/hooks/mine", body, dict(hs))
        self.assertEqual(r.status, 200, r.body)
        # an id from an unsigned header: a second event needs another body
        body2 = b'{"kind":"from.body","n":"abc"}'
        h = {"Content-Type": "application/json", "X-Id": "u2",
             "X-Sig": hmac.new(b"k-512-old", body2, hashlib.sha512).hexdigest()}
        self.assertEqual(self.req(g, "/hooks/mine", body2, h).status, 200)
        for bad in (dict(h, **{"X-Sig": hmac.new(b"k-512-old", body2, hashlib.sha256).hexdigest()}),
                    dict(h, **{"X-Sig": h["X-Sig"][:-1] + ("0" if h["X-Sig"][-1] != "0" else "1")})):
            self.assertEqual(self.req(g, "/hooks/mine", body2, bad).status, 401)
        self.assertEqual(self.req(g, "/hooks/mine", body2.replace(b"abc", b"abd"), h).status, 401)
        evs = g.wait_events(2)
        self.assertEqual([(e["id"], e["type"]) for e in evs], [("u1", "from.cli"), ("u2", "from.body")])
        self.assertNotEqual(run(["sign", "-p", "sha512", "-s", "k"], stdin=body).returncode, 0)  # no --profile-dir


class SendTest(hg.GatewayTest):
    scheme = "https"

    def setUp(self):
        super().setUp()
        self.g = self.gateway(self.config(routes=all_routes()))

    def send(self, p, *extra, sec=None, tls=("--insecure",)):
        r = run(["send-test", self.u(self.g, f"/hooks/{p}"), "-p", p, "-s", sec or secret_for(p)] + list(tls) +
                list(extra))
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def test_every_profile_test_event_arrives_with_its_type(self):
        want = []
        for p in BUILTIN * 2:  # twice: every test event is a new event, not a duplicate
            with self.subTest(p):
                rc, out, err = self.send(p)
                self.assertEqual(rc, 0, out + err)
                first, _, rest = out.partition("\n")
                self.assertEqual(first.strip(), "HTTP 200", out)
                self.assertEqual(json.loads(rest)["status"], "accepted")
                want.append((f"/hooks/{p}", builtin(p)["test_event"]["type"]))
        evs = self.g.wait_events(len(want))
        self.assertEqual(sorted((e["source"], e["type"]) for e in evs), sorted(want))
        self.assertIn(("/hooks/github", "ping"), want)
        self.assertIn(("/hooks/iex", "api.test"), want)
        self.assertIn(("/hooks/ultimate-multisite", "ultimate-multisite.test"), want)
        self.assertIn(("/hooks/openwebui", "openwebui.test"), want)

    def test_type_id_and_cacert(self):
        rc, out, err = self.send("generic", "--type", "order.created", "--id", "evt_st_1",
                                 tls=("--cacert", self.cert))
        self.assertEqual(rc, 0, out + err)
        self.assertTrue(out.startswith("HTTP 200"), out)
        rc, out, _ = self.send("iex", "--id", "evt_st_2", "--type", "order.paid")
        self.assertEqual(rc, 0, out)
        evs = self.g.wait_events(2)
        self.assertEqual([(e["id"], e["type"]) for e in evs], [("evt_st_1", "order.created"), ("evt_st_2", "order.paid")])
        self.assertEqual(evs[0]["data"]["data"], {"test": True})

    def test_failures(self):
        rc, out, _ = self.send("generic", sec="not-the-secret")
        self.assertEqual(rc, 1)
        self.assertTrue(out.startswith("HTTP 401"), out)
        self.assertIn("invalid signature", out)
        rc, out, err = self.send("generic", tls=())  # self-signed certificate, not trusted
        self.assertNotEqual(rc, 0)
        self.assertNotIn("HTTP 200", out)
        rc, out, err = self.send("nosuch")
        self.assertNotEqual(rc, 0)
        self.assertIn("nosuch", err)
        rc, out, _ = self.send("hubex", sec="wrong-token")  # refused before the body is read
        self.assertEqual((rc, out.split("\n")[0].strip()), (1, "HTTP 401"))
        self.assertEqual(self.g.wait_events(0), [])


class SignSecretFiles(hg.GatewayTest):
    def test_secret_file_over_4096_bytes_is_refused_not_cut(self):
        """`sign -s file:PATH` read at most 4096 bytes and signed with the cut
        secret without a word (regression); serve's config refuses such a
        file, and so does sign now."""
        path = os.path.join(self.tmp, "big.secret")
        with open(path, "w") as f:
            f.write("s" * 5000)
        p = run(["sign", "-p", "generic", "-s", "file:" + path], stdin=b'{"a":1}')
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertEqual(p.stderr, f"hookgate: secret file {path} is larger than 4096 bytes\n".encode())
        with open(path, "w") as f:
            f.write("s" * 4095 + "\n")  # 4096 bytes with the newline, as serve allows
        p = run(["sign", "-p", "generic", "-s", "file:" + path], stdin=b'{"a":1}')
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_secret_source_errors_are_precise(self):
        """An unusable -s source is named with its cause, in the words
        `hookgate check` uses for the same source; exit 1, nothing on
        stdout, never a byte of the secret."""
        env = {k: v for k, v in os.environ.items() if k != "HG_NOPE_UNSET"}
        env["HG_EMPTY_VAR"] = ""
        d = self.tmp
        files = {"empty": "", "newline": "\n", "crlf": "\r\n"}
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        missing, empty, nl, crlf = (os.path.join(d, n) for n in ("absent", "empty", "newline", "crlf"))
        cases = [
            ("env:HG_NOPE_UNSET", "environment variable HG_NOPE_UNSET is not set or empty"),
            ("env:HG_EMPTY_VAR", "environment variable HG_EMPTY_VAR is not set or empty"),
            ("file:" + missing, f"cannot read secret file {missing}: No such file or directory"),
            ("file:" + d, f"cannot read secret file {d}: Is a directory"),
            ("file:" + empty, f"secret is empty (secret file {empty})"),
            ("file:" + nl, f"secret is empty (secret file {nl})"),
            ("file:" + crlf, f"secret is empty (secret file {crlf})"),
        ]
        for src, why in cases:
            for cmd in (["sign", "-p", "generic", "-s", src],
                        ["send-test", "http://127.0.0.1:9/x", "-p", "generic", "-s", src]):
                p = run(cmd, stdin=b'{"a":1}', env=env)
                self.assertEqual((p.returncode, p.stdout), (1, b""), (cmd, p.stderr))
                self.assertEqual(p.stderr.decode(), f"hookgate: {why}\n", cmd)
        # check says the same of the same sources
        for src, why in cases[:3]:
            cfg = hg.basic_config(self.tmp)
            cfg["routes"][0]["secrets"] = [src]
            path = os.path.join(self.tmp, "check.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            p = subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=30,
                               env=dict(env, **hg.ENV))
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(f"$.routes[0].secrets[0]: {why}", p.stderr)

    def test_secret_file_line_ends_are_dropped_once(self):
        """file: drops one trailing LF or CRLF, as serve does: the header is
        the HMAC under the secret without it."""
        body = b'{"event_id":"le-1"}'
        for text, key in (("k-file\n", b"k-file"), ("k-file\r\n", b"k-file"), ("k-file", b"k-file"),
                          ("k-file\n\n", b"k-file\n"), ("k\x00file\n", b"k\x00file")):
            path = os.path.join(self.tmp, "s")
            with open(path, "w") as f:
                f.write(text)
            p = run(["sign", "-p", "generic", "-s", "file:" + path], stdin=body)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(hget(parse_headers(p.stdout), "X-Webhook-Signature"),
                             "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(), repr(text))


class SignGenericHeaders(hg.GatewayTest):
    """`sign -p generic` adds X-Webhook-Event-Id / X-Webhook-Event only
    where serve would read them: the generic profile reads the body's
    event_id / id and event / type / event_type first."""

    def sign(self, body, *extra):
        p = run(["sign", "-p", "generic", "-s", "generic-secret"] + list(extra), stdin=body)
        self.assertEqual(p.returncode, 0, p.stderr)
        return parse_headers(p.stdout), p.stderr.decode()

    def test_headers_only_for_what_the_body_lacks(self):
        g = self.gateway(self.config())
        sig = "X-Webhook-Signature"
        cases = [  # body, --id/--type given, header names, (stored id, stored type)
            (b'{"event_id":"g-1","event":"order.created","data":{"order_id":42}}', [],
             ["Content-Type", sig], ("g-1", "order.created")),
            (b'{"id":"g-2","type":"order.paid"}', [], ["Content-Type", sig], ("g-2", "order.paid")),
            (b'{"event_id":"g-3","event_type":"order.sent"}', [], ["Content-Type", sig], ("g-3", "order.sent")),
            (b'{"event_id":"g-4","note":1}', ["--type", "order.lost"],
             ["Content-Type", sig, "X-Webhook-Event"], ("g-4", "order.lost")),
            (b'{"event":"order.found","note":2}', ["--id", "g-5"],
             ["Content-Type", sig, "X-Webhook-Event-Id"], ("g-5", "order.found")),
            (b'{"data":{"order_id":43}}', ["--id", "g-6", "--type", "order.made"],
             ["Content-Type", sig, "X-Webhook-Event-Id", "X-Webhook-Event"], ("g-6", "order.made")),
            (b'{"event_id":"","event":null}', ["--id", "g-7", "--type", "order.void"],  # empty: not carried
             ["Content-Type", sig, "X-Webhook-Event-Id", "X-Webhook-Event"], ("g-7", "order.void")),
            (b'plain text', ["--id", "g-8", "--type", "note.text"],
             ["Content-Type", sig, "X-Webhook-Event-Id", "X-Webhook-Event"], ("g-8", "note.text")),
        ]
        for body, extra, names, stored in cases:
            with self.subTest(body=body):
                hs, err = self.sign(body, *extra)
                self.assertEqual([k for k, _ in hs], names, hs)
                self.assertEqual(err, "")
                if "X-Webhook-Event-Id" in names:
                    self.assertEqual(hget(hs, "X-Webhook-Event-Id"), extra[extra.index("--id") + 1])
                r = self.req(g, "/hooks/generic", body, dict(hs))
                self.assertEqual(r.status, 200, (hs, r.body))
                self.assertEqual(r.json()["id"], stored[0])
        evs = g.wait_events(len(cases))
        self.assertEqual([(e["id"], e["type"]) for e in evs], [c[3] for c in cases])

    def test_an_id_the_body_overrides_is_not_sent_and_said_so(self):
        hs, err = self.sign(b'{"event_id":"in-body","event":"t.body"}', "--id", "from-cli", "--type", "t.cli")
        self.assertEqual([k for k, _ in hs], ["Content-Type", "X-Webhook-Signature"])
        self.assertEqual(err.splitlines(), [
            "hookgate: --id is not sent: profile generic reads the event id from the body, which has one "
            "(no X-Webhook-Event-Id header)",
            "hookgate: --type is not sent: profile generic reads the event type from the body, which has one "
            "(no X-Webhook-Event header)"])

    def test_profiles_reading_headers_first_keep_them(self):
        """iex reads id and type from headers the signature covers: both are
        sent whatever the body holds."""
        p = run(["sign", "-p", "iex", "-s", "k", "--id", "i-1", "--type", "t.i"],
                stdin=b'{"event_id":"other","event":"other"}')
        self.assertEqual(p.returncode, 0, p.stderr)
        hs = parse_headers(p.stdout)
        self.assertEqual((hget(hs, "X-Webhook-Event-Id"), hget(hs, "X-Webhook-Event-Type")), ("i-1", "t.i"))
        self.assertEqual(p.stderr, b"")


class Check(hg.GatewayTest):
    def check(self, cfg, env=None):
        path = os.path.join(self.tmp, "check.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, **hg.ENV, **(env or {})))
        return p

    def test_all_builtin_profiles_load(self):
        p = self.check(self.config(routes=all_routes()))
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in BUILTIN:
            self.assertIn(f"profile={name} ", p.stdout)

    def test_docs_catalogue_is_current(self):
        """The catalogue table of docs/profiles.md is what `profiles list` of
        this binary prints (scripts/gen-profiles-doc HOOKGATE, then commit)."""
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-profiles-doc"), hg.BIN, "--check"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_unknown_profile_named(self):
        cfg = self.config()
        cfg["routes"][0]["profile"] = "nosuch-producer"
        p = self.check(cfg)
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.routes[0].profile", p.stderr)
        self.assertIn("nosuch-producer", p.stderr)

    def test_unsigned_routes_need_allow_unsigned_and_protection(self):
        base = {"path": "/hooks/owui", "profile": "openwebui", "sinks": ["out"]}
        cases = [({"allow": ["127.0.0.1/32"]}, "allow_unsigned"),
                 ({"allow_unsigned": True}, "allow"),
                 ({"allow_unsigned": True, "allow": ["127.0.0.1/32"], "secrets": ["x"]}, "secrets"),
                 ({"allow_unsigned": False, "token": "t0k"}, "allow_unsigned"),
                 ({"allow_unsigned": True, "allow": ["127.0.0.1/33"]}, "allow"),
                 ({"allow_unsigned": True, "allow": ["not-a-cidr"]}, "allow")]
        for extra, word in cases:
            with self.subTest(extra):
                p = self.check(self.config(routes=[dict(base, **extra)]))
                self.assertEqual(p.returncode, 1, extra)
                self.assertIn("$.routes[0]", p.stderr)
                self.assertIn(word, p.stderr)
        for extra in ({"allow_unsigned": True, "allow": ["127.0.0.1/32"]}, {"allow_unsigned": True, "token": "t0k"}):
            p = self.check(self.config(routes=[dict(base, **extra)]))
            self.assertEqual(p.returncode, 0, p.stderr)
        cfg = self.config()
        cfg["routes"][0]["allow_unsigned"] = True  # on a signed profile it would do nothing: refused
        self.assertEqual(self.check(cfg).returncode, 1)

    # (file name, content, JSON path the loader names, whether the schema refuses it too)
    BAD = [
        ("typo.json", dict(SHA512_PROFILE, name="typo", signature={"header": "X-Sig", "format": "value",
                                                                   "algoritm": "hmac-sha512"}),
         "$.signature.algoritm", True),
        ("md5.json", dict(SHA512_PROFILE, name="md5", signature={"header": "X-Sig", "format": "value",
                                                                 "algorithm": "hmac-md5"}),
         "$.signature.algorithm", True),
        ("colour.json", dict(SHA512_PROFILE, name="colour", colour="red"), "$.colour", True),
        ("nosig.json", {"name": "nosig", "id": [{"header": "X-Id"}]}, "$.signature", True),
        ("kv.json", dict(SHA512_PROFILE, name="kv", signature={"header": "X-Sig", "format": "kv"}),
         "$.signature.versions", True),
        ("ptr.json", dict(SHA512_PROFILE, name="ptr", id=[{"pointer": "id"}]), "$.id[0].pointer", True),
        ("src.json", dict(SHA512_PROFILE, name="src", id=[{"cookie": "id"}]), "$.id[0]", True),
        ("noid.json", {k: v for k, v in dict(SHA512_PROFILE, name="noid").items() if k != "id"}, "$.id", True),
        # a timestamp from the body must be signed: here the content covers neither the body
        # nor {timestamp}
        ("tsbody.json", dict(SHA512_PROFILE, name="tsbody",
                             signature={"header": "X-Sig", "format": "value", "content": "{json:/t}",
                                        "covers_body": False},
                             timestamp={"from": [{"pointer": "/ts"}]}),
         "$.timestamp.from", True),
        ("tsplace.json", dict(SHA512_PROFILE, name="tsplace", signature={"header": "X-Sig", "format": "value",
                                                                         "content": "{timestamp}.{body}"}),
         "$.signature.content", True),
        ("place.json", dict(SHA512_PROFILE, name="place", signature={"header": "X-Sig", "format": "value",
                                                                     "content": "{bodyy}"}),
         "$.signature.content", True),
        ("mismatch.json", dict(SHA512_PROFILE, name="other"), "$.name", False),
        ("github.json", dict(SHA512_PROFILE, name="github"), "$.name", False),
        ("broken.json", '{"name": "broken", "signature": ', "broken.json", None),
    ]

    def test_bad_profile_files_named_with_key(self):
        schema_v = None
        if Draft202012Validator:
            with open(os.path.join(ROOT, "schemas", "profile.schema.json")) as f:
                schema_v = Draft202012Validator(json.load(f))
        for i, (fname, content, key, schema_refuses) in enumerate(self.BAD):
            with self.subTest(fname):
                d = os.path.join(self.tmp, f"dir{i}")
                os.mkdir(d)
                with open(os.path.join(d, fname), "w") as f:
                    f.write(content if isinstance(content, str) else json.dumps(content))
                p = self.check(self.config(profile_dirs=[d]))
                self.assertEqual(p.returncode, 1, f"loader accepts {fname}")
                self.assertIn(os.path.join(d, fname), p.stderr)
                self.assertIn(key, p.stderr)
                self.assertEqual(p.stdout, "")
                if schema_v is not None and schema_refuses is not None:
                    errs = list(schema_v.iter_errors(content))
                    self.assertEqual(bool(errs), schema_refuses, [e.message for e in errs])

    def test_profile_dirs_errors_and_good_dir(self):
        p = self.check(self.config(profile_dirs=[os.path.join(self.tmp, "missing")]))
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.profile_dirs", p.stderr)
        d = os.path.join(self.tmp, "good")
        os.mkdir(d)
        with open(os.path.join(d, "sha512.json"), "w") as f:
            json.dump(SHA512_PROFILE, f)
        with open(os.path.join(d, "README.txt"), "w") as f:
            f.write("not a profile: ignored")
        routes = [{"path": "/hooks/mine", "profile": "sha512", "secrets": ["k"], "sinks": ["out"]}]
        p = self.check(self.config(routes=routes, profile_dirs=[d]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("profile=sha512", p.stdout)
        p = self.check(self.config(routes=routes))  # without the directory it is unknown
        self.assertEqual(p.returncode, 1)
        self.assertIn("sha512", p.stderr)
        p = self.check(self.config(routes=routes, profile_dirs=[d, d]))  # the same name twice
        self.assertEqual(p.returncode, 1)
        self.assertIn("sha512", p.stderr)


@unittest.skipIf(Draft202012Validator is None, "the jsonschema package is not installed for this interpreter")
class ProfileSchema(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "schemas", "profile.schema.json")) as f:
            self.schema = json.load(f)
        Draft202012Validator.check_schema(self.schema)
        self.v = Draft202012Validator(self.schema)

    def errors(self, doc):
        return sorted(e.message for e in self.v.iter_errors(doc))

    def test_builtin_files_validate(self):
        files = sorted(glob.glob(os.path.join(PROFILES, "*.json")))
        self.assertEqual(sorted(os.path.basename(f)[:-5] for f in files), ALL_BUILTIN)
        self.assertTrue(set(BUILTIN) <= set(ALL_BUILTIN))
        for f in files:
            with self.subTest(os.path.basename(f)):
                with open(f) as fh:
                    doc = json.load(fh)
                self.assertEqual(self.errors(doc), [])
                self.assertEqual(doc["name"], os.path.basename(f)[:-5])
                self.assertTrue(doc.get("description"))
                self.assertIn("test_event", doc)
        self.assertEqual(builtin("hubex")["type_map"], {"40": "object.created", "41": "object.updated",
                                                        "42": "object.deleted", "43": "object.published",
                                                        "44": "object.unpublished"})

    def test_docs_example_validates(self):
        with open(os.path.join(ROOT, "docs", "profiles.md")) as f:
            block = re.search(r"## Format\n\n```json\n(.*?)```", f.read(), re.S).group(1)
        doc = json.loads(block)
        self.assertEqual(self.errors(doc), [])
        stripe = builtin("stripe")
        for k in ("signature", "timestamp", "id", "type", "time", "body"):
            self.assertEqual(stripe[k], doc[k], k)

    def test_schema_is_strict(self):
        def walk(s, path):  # every object with properties is closed and documented
            if not isinstance(s, dict):
                return
            if "properties" in s:
                self.assertIs(s.get("additionalProperties"), False, path)
            for k, sub in s.get("properties", {}).items():
                self.assertTrue(sub.get("description"), f"{path}.{k} has no description")
                walk(sub, f"{path}.{k}")
            walk(s.get("items"), path + "[]")
        walk(self.schema, "$")
        for k, d in self.schema["$defs"].items():
            walk(d, "$defs." + k)
        self.assertEqual(self.schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        good = builtin("stripe")
        bad = [("unknown key", lambda d: d.update(extra=1)),
               ("unknown signature key", lambda d: d["signature"].update(algoritm="x")),
               ("name with capitals", lambda d: d.update(name="Stripe")),
               ("name too long", lambda d: d.update(name="a" * 33)),
               ("prefix on kv", lambda d: d["signature"].update(prefix="v1=")),
               ("unknown algorithm", lambda d: d["signature"]["versions"].update(v1="hmac-md5")),
               ("unsigned and signed", lambda d: d.update(unsigned=True)),
               ("signature source outside timestamp", lambda d: d.update(id=[{"signature": "t"}])),
               ("two keys in a source", lambda d: d.update(id=[{"pointer": "/id", "header": "X-Id"}])),
               ("bad unit", lambda d: d["timestamp"].update(unit="us")),
               ("bad tolerance", lambda d: d["timestamp"].update(tolerance="5 minutes")),
               ("bad body", lambda d: d.update(body="xml")),
               ("bad id_fallback", lambda d: d.update(id_fallback="uuid")),
               ("type_map to a number", lambda d: d.update(type_map={"40": 40})),
               ("test_event without type", lambda d: d.update(test_event={"body": {}})),
               ("unknown placeholder", lambda d: d["signature"].update(content="{ts}.{body}")),
               ("token format with header", lambda d: d.update(signature={"format": "token", "header": "X"})),
               ("timestamp without a signature over it", lambda d: (d.pop("signature"), d.update(unsigned=True)))]
        self.assertEqual(self.errors(good), [])
        for name, mutate in bad:
            with self.subTest(name):
                d = copy.deepcopy(good)
                mutate(d)
                self.assertNotEqual(self.errors(d), [], name)


if __name__ == "__main__":
    hg.main()
