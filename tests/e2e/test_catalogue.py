#!/usr/bin/env python3
"""The producer catalogue from an operator's side, with the real binary:
 - `hookgate profiles list` shows at least 50 profiles, each with its scheme and what proves
   it; `profiles show NAME` prints its JSON; unknown names and commands are usage errors;
 - the replays a producer's scheme leaves open are answered `duplicate`, never stored twice:
   a Twilio form re-encoded, reordered or with a moved parameter boundary (one signature
   covers them all), a Mailgun signature (it does not cover the body) carried over to
   another body;
 - Microsoft Graph: a notification whose items do not all carry the clientState is a 401;
 - Okta: a wrong Authorization value is a 401.
Signed with `hookgate sign` (the producers' SDKs prove the schemes: test_producers.py)."""
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402


def run(*args, **kw):
    return subprocess.run([hg.BIN, *args], capture_output=True, text=True, timeout=30, **kw)


class Catalogue(hg.GatewayTest):
    def test_profiles_list_and_show(self):
        p = run("profiles", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = p.stdout.splitlines()[1:]
        self.assertGreaterEqual(len(rows), 50)
        names = {r.split()[0] for r in rows}
        for n in ("gitlab", "twilio", "sendgrid", "discord", "zoom", "meta", "msgraph", "x", "qstash",
                  "pubsub-push", "clerk", "resend", "openai", "trello"):
            self.assertIn(n, names)
        for r in rows:
            if r.split()[0] != "unsigned":
                self.assertRegex(r, r"(sdk|vector|computed): ", r)
        self.assertRegex(next(r for r in rows if r.startswith("zoom ")), r"url_validation")
        p = run("profiles", "show", "twilio")
        self.assertEqual(p.returncode, 0, p.stderr)
        body = "\n".join(l for l in p.stdout.splitlines() if not l.startswith("#"))
        self.assertEqual(json.loads(body)["name"], "twilio")
        self.assertEqual(run("profiles", "show", "acme").returncode, 1)
        self.assertEqual(run("profiles", "bogus").returncode, 2)

    def sign(self, profile, secret, body, *extra):
        out = run("sign", "-p", profile, "-s", secret, *extra, input=body)
        self.assertEqual(out.returncode, 0, out.stderr)
        head, _, signed = out.stdout.partition("\n\n")
        h = dict(l.split(": ", 1) for l in head.splitlines() if ": " in l)
        return h, signed.strip() or body

    def test_replays_the_schemes_allow_are_duplicates(self):
        routes = [{"path": "/hooks/twilio", "profile": "twilio", "secrets": ["tw-auth-token-1"], "sinks": ["out"]},
                  {"path": "/hooks/mailgun", "profile": "mailgun", "secrets": ["key-mg-signing-1"],
                   "sinks": ["out"]},
                  {"path": "/hooks/msgraph", "profile": "msgraph", "secrets": ["graph-client-state-1"],
                   "sinks": ["out"]},
                  {"path": "/hooks/okta", "profile": "okta", "secrets": ["okta-hook-secret-1"], "sinks": ["out"]}]
        g = self.gateway(self.config(routes=routes))
        url = self.u(g, "/hooks/twilio")
        form = "Body=hi&From=%2B15550001&MessageSid=SM1"
        h, _ = self.sign("twilio", "tw-auth-token-1", form, "--url", url)
        r = self.req(g, "/hooks/twilio", form.encode(), h)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], "accepted")
        for variant in ("From=%2B15550001&Body=hi&MessageSid=SM1",     # reordered
                        "Body=hi&Fro=m%2B15550001&MessageSid=SM1",     # a moved boundary
                        "Body=hi&Body=hi&From=%2B15550001&MessageSid=SM1",  # a repeated parameter
                        "Body=h%69&From=+15550001&MessageSid=SM1".replace("+", "%2B")):  # re-encoded
            r = self.req(g, "/hooks/twilio", variant.encode(), h)
            self.assertEqual((r.status, r.json().get("status")), (200, "duplicate"), (variant, r.body))
        # Mailgun: the signature covers a timestamp and a token, not the event
        ev = {"signature": {"timestamp": "", "token": "", "signature": ""},
              "event-data": {"id": "mg-ev-1", "event": "delivered"}}
        h, signed = self.sign("mailgun", "key-mg-signing-1", json.dumps(ev))
        r = self.req(g, "/hooks/mailgun", signed.encode(), h)
        self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
        other = json.loads(signed)
        other["event-data"] = {"id": "mg-ev-forged", "event": "unsubscribed"}
        r = self.req(g, "/hooks/mailgun", json.dumps(other).encode(), h)
        self.assertEqual((r.status, r.json()["status"]), (200, "duplicate"), r.body)
        # Microsoft Graph: every item must carry the clientState
        items = [{"id": "n1", "clientState": "graph-client-state-1"}, {"id": "n2", "clientState": "other"}]
        r = self.req(g, "/hooks/msgraph", json.dumps({"value": items}).encode(),
                     {"Content-Type": "application/json"})
        self.assertEqual(r.status, 401, r.body)
        items[1]["clientState"] = "graph-client-state-1"
        r = self.req(g, "/hooks/msgraph", json.dumps({"value": items}).encode(),
                     {"Content-Type": "application/json"})
        self.assertEqual(r.status, 202, r.body)
        # Okta: the Authorization value as configured, nothing else
        okta = json.dumps({"eventId": "ok-1", "eventType": "user.session.start", "data": {"events": []}}).encode()
        for auth, want in (("okta-hook-secret-2", 401), ("Bearer okta-hook-secret-1", 401),
                           ("okta-hook-secret-1", 200)):
            r = self.req(g, "/hooks/okta", okta, {"Content-Type": "application/json", "Authorization": auth})
            self.assertEqual(r.status, want, (auth, r.body))
        evs = g.wait_events(4)
        time.sleep(0.3)
        self.assertEqual(len(g.events()), 4, [e["id"] for e in g.events()])


if __name__ == "__main__":
    hg.main()
