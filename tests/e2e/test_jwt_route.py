#!/usr/bin/env python3
"""A JWT route's pinned claims ("jwt_claims"): Google Pub/Sub push tokens can be minted by
any Google account for any audience, so the pubsub-push profile requires each route to pin
the push subscription's service account (the email claim).  With the real binary, keys made
by openssl at test time and tokens made by `hookgate sign --claim`:
 - `check` refuses a pubsub-push route without jwt_claims, naming the key;
 - a token carrying the pinned email (and aud = the route's URL) is accepted;
 - another email, no email, or another audience is a 401, and nothing is stored;
 - jwt_claims on a profile that is not JWT is refused."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402

SA = "push-invoker@my-project.iam.gserviceaccount.com"


class JwtRoute(hg.GatewayTest):
    def keys(self):
        priv = os.path.join(self.tmp, "rsa.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", priv], check=True, capture_output=True)
        os.chmod(priv, 0o600)
        pub = os.path.join(self.tmp, "rsa.pub")
        subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True, capture_output=True)
        os.chmod(pub, 0o600)
        return priv, pub

    def route(self, pub, **kw):
        r = {"path": "/hooks/push", "profile": "pubsub-push", "secrets": ["file:" + pub], "sinks": ["out"]}
        r.update(kw)
        return r

    def sign(self, priv, url, *claims):
        args = [hg.BIN, "sign", "-p", "pubsub-push", "-s", "file:" + priv, "--url", url]
        for c in claims:
            args += ["--claim", c]
        body = json.dumps({"message": {"messageId": "m-" + str(len(claims)) + url[-3:], "data": "e30="},
                           "subscription": "projects/p/subscriptions/s"}).encode()
        out = subprocess.run(args, input=body, capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        h = dict(line.split(": ", 1) for line in out.stdout.decode().splitlines() if ": " in line)
        return body, h

    def test_check_requires_pinned_email(self):
        priv, pub = self.keys()
        cfg = self.config(routes=[self.route(pub)])
        path = os.path.join(self.tmp, "c.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.routes[0].jwt_claims: is required by profile pubsub-push", p.stderr)
        cfg = self.config(routes=[{"path": "/hooks/gh", "profile": "github", "secrets": ["s3cr3t-value"],
                                   "sinks": ["out"], "jwt_claims": {"email": SA}}])
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.routes[0].jwt_claims: only for a JWT profile", p.stderr)

    def test_pinned_claims_decide(self):
        priv, pub = self.keys()
        g = self.gateway(self.config(routes=[self.route(pub, jwt_claims={"email": SA, "email_verified": True})]))
        url = self.u(g, "/hooks/push")
        body, h = self.sign(priv, url, "email=" + SA, "email_verified=true")
        r = self.req(g, "/hooks/push", body, h)
        self.assertEqual(r.status, 200, r.body)
        for claims in (("email=someone@evil.example", "email_verified=true"), ("email_verified=true",),
                       ("email=" + SA, "email_verified=false")):
            body, h = self.sign(priv, url, *claims)
            r = self.req(g, "/hooks/push", body, h)
            self.assertEqual(r.status, 401, (claims, r.body))
        body, h = self.sign(priv, url.replace("/hooks/push", "/hooks/other"), "email=" + SA, "email_verified=true")
        self.assertEqual(self.req(g, "/hooks/push", body, h).status, 401)
        self.assertEqual(len(g.wait_events(1)), 1)
        time.sleep(0.3)  # a refused token must not produce an event late either
        self.assertEqual(len(g.events()), 1)
        self.assertTrue(any(l.get("reason") == "token claims not the route's jwt_claims" for l in g.logs()))


if __name__ == "__main__":
    hg.main()
