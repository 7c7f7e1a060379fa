"""Registration handshakes (issue 16, item 1): the challenges producers send
before they deliver anything, answered from profile data.

For every handshake of a built-in profile (slack, zoom, twitch, meta, msgraph,
x, dropbox, okta, discord, trello), against the real gateway:

  - the answer is exactly what the producer's docs require: status, Content-Type
    and body byte for byte, each expected value computed here independently
    (hmac/hashlib, never by asking hookgate);
  - nothing is stored (`hookgate events list` is empty) and nothing reaches the
    sink; the route's hookgate_handshakes_total{route,result} on /metrics counts
    it, and a log line names it;
  - where the producer signs the challenge (slack, zoom, twitch, discord), a
    forged, unsigned or stale one is refused with 401 (and counted as refused);
    meta's GET with a wrong or missing verify_token is refused with 403; X's
    CRC refuses a crc_token that could be a body to sign (else the answer would
    be a valid signature for a forged event);
  - then one ordinary event signed here is accepted and is the only thing in
    the store and on the sink (so "nothing stored" is not a gateway that stores
    nothing), answered as the producer expects (msgraph 202, discord 204), and
    twitch's revocation message is stored with type "revocation".

Profiles come from the binary (schemas/profiles).  While the new ones are
drafts, HG_EXTRA_PROFILE_DIR names their directory: a draft is used for a
profile whose built-in file has no handshake yet (under the name NAME-draft
when a built-in of that name exists, as slack does), and only the drafts this
file needs are loaded (one broken draft fails its own test, not every test).
"""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BUILTIN_DIR = os.path.join(ROOT, "schemas", "profiles")
EXTRA_DIR = os.environ.get("HG_EXTRA_PROFILE_DIR") or None


def profile_for(name, tmp):
    """(profile name to route to, profile_dirs entry or None) for NAME, or
    (None, why) when neither the binary nor a draft has it."""
    builtin = os.path.join(BUILTIN_DIR, name + ".json")
    draft = os.path.join(EXTRA_DIR, name + ".json") if EXTRA_DIR else None
    if os.path.isfile(builtin):
        with open(builtin) as f:
            if "handshakes" in json.load(f) or not (draft and os.path.isfile(draft)):
                return name, None
    elif not (draft and os.path.isfile(draft)):
        return None, f"no profile {name}: neither schemas/profiles/{name}.json nor a draft in $HG_EXTRA_PROFILE_DIR"
    with open(draft) as f:
        p = json.load(f)
    if os.path.isfile(builtin):  # a draft of a built-in: its own name, or the two would clash
        p["name"] = name + "-draft"
    d = os.path.join(tmp, "profiles-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, p["name"] + ".json"), "w") as f:
        json.dump(p, f)
    return p["name"], d


def q(url, **params):
    return url + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def hmac_hex(key, msg, digest=hashlib.sha256):
    return hmac.new(key.encode(), msg if isinstance(msg, bytes) else msg.encode(), digest).hexdigest()


def hmac_b64(key, msg, digest=hashlib.sha256):
    return base64.b64encode(hmac.new(key.encode(), msg if isinstance(msg, bytes) else msg.encode(),
                                     digest).digest()).decode()


def answer_hmac(key, token, encode):
    """The HMAC a handshake answer exists to show (Zoom's encryptedToken, X's
    response_token): of a challenge token, never of a body.  Computed with
    hmac.HMAC itself, so that under $HG_LEAK_DIR it is not one of the signature
    needles (hg.py makes every hmac.new digest one): the gateway must show this
    value.  The signatures of events computed below stay needles."""
    return encode(hmac.HMAC(key.encode(), token.encode(), hashlib.sha256).digest())


def body_id(body):
    return "sha256:" + hashlib.sha256(body).hexdigest()


def compact(obj):
    """A JSON answer as the gateway writes it: compact, members in the profile's order."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Ed25519Key:
    """An Ed25519 key pair made with the openssl CLI (as hg.make_cert makes certificates)."""

    def __init__(self, d):
        self.pem = os.path.join(d, "ed25519.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.pem], check=True,
                       capture_output=True)
        der = subprocess.run(["openssl", "pkey", "-in", self.pem, "-pubout", "-outform", "DER"], check=True,
                             capture_output=True).stdout
        self.public_hex = der[-32:].hex()  # the raw key, as Discord's developer portal shows it
        self.d = d

    def sign_hex(self, msg):
        path = os.path.join(self.d, "msg.bin")
        with open(path, "wb") as f:
            f.write(msg)
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", self.pem, "-rawin", "-in", path],
                              check=True, capture_output=True).stdout.hex()


class HandshakeTest(hg.GatewayTest):
    def start(self, name, secrets, **route):
        """A gateway with one route /h/NAME (route name NAME) for profile NAME."""
        prof, d = profile_for(name, self.tmp)
        if prof is None:
            self.fail(d)
        rt = dict({"path": "/h/" + name, "name": name, "profile": prof, "secrets": secrets, "sinks": ["out"]},
                  **route)
        cfg = hg.basic_config(self.tmp, routes=[rt])
        if d:
            cfg["profile_dirs"] = [d]
        self.name = name
        self.g = self.gateway(cfg)
        self.url = self.g.url("/h/" + name)
        self.answered = self.refused = 0
        return self.g

    # ---- checks -------------------------------------------------------------------

    def counter(self, result):
        text = hg.curl(self.g.url("/metrics")).body
        m = re.search(r'^hookgate_handshakes_total\{route="%s",result="%s"\} (\d+)$' % (re.escape(self.name), result),
                      text, re.M)
        return int(m.group(1)) if m else 0

    def stored(self):
        """The ids in the store, oldest first, read with `hookgate events list`."""
        p = subprocess.run([hg.BIN, "events", "list", "--limit", "1000", "--data", os.path.join(self.tmp, "data")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [line.split("\t") for line in p.stdout.splitlines()[1:] if line.strip()]
        return [r[3] for r in sorted(rows, key=lambda r: int(r[0]))]

    def assert_answer(self, r, status, ctype, body, what):
        self.assertEqual(r.status, status, f"{what}: {r.body[:300]}")
        if ctype is None:
            self.assertNotIn("content-type", r.headers, what)
        else:
            self.assertEqual(r.headers.get("content-type"), ctype, what)
        self.assertEqual(r.body, body, what)
        self.answered += 1

    def assert_refused(self, r, status, what, challenge=None):
        """A refused handshake: status, and the challenge is not echoed."""
        self.assertEqual(r.status, status, f"{what}: {r.body[:300]}")
        if challenge:
            self.assertNotIn(challenge, r.body, what)
        self.refused += 1

    def assert_nothing_stored(self):
        """Nothing on the sink, nothing in the store; the counters and logs say what happened."""
        time.sleep(0.3)  # a handshake written late would show now
        self.assertEqual(self.g.events(), [])
        self.assertEqual(self.stored(), [])
        self.assertEqual(self.counter("answered"), self.answered)
        self.assertEqual(self.counter("refused"), self.refused)
        logs = [l for l in self.g.logs() if l.get("route") == self.name]
        if self.answered:  # (repeats of one log line may be rate-limited: at least one)
            self.assertTrue([l for l in logs if l.get("msg") == "handshake answered"], logs)
        if self.refused:
            self.assertTrue([l for l in logs if l.get("msg") == "handshake refused"], logs)

    def assert_only_stored(self, r, ids, status=200, types=None):
        """The control event(s): accepted, and with them the only thing stored and delivered."""
        self.assertEqual(r.status, status, r.body[:300])
        self.g.wait_events(len(ids))
        time.sleep(0.3)  # nothing else may follow
        evs = self.g.events()
        self.assertEqual([e["id"] for e in evs], ids)
        if types:
            self.assertEqual([e["type"] for e in evs], types)
        self.assertEqual(self.stored(), ids)
        self.assertEqual(self.counter("answered"), self.answered)
        self.assertEqual(self.counter("refused"), self.refused)

    # ---- producers ----------------------------------------------------------------

    def test_slack_url_verification(self):
        """Slack's Events API: a signed POST {"type":"url_verification","challenge"} -> 200
        {"challenge": ...} (what @slack/bolt answers)."""
        key = "8f742231b10e8888abcd99yyyzzz85a5"
        self.start("slack", [key])

        def signed(body, ts=None, k=key):
            ts = str(int(time.time()) if ts is None else ts)
            return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": "v0=" + hmac_hex(k, b"v0:" + ts.encode() + b":" + body)}

        challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
        body = json.dumps({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": challenge,
                           "type": "url_verification"}).encode()
        r = hg.curl(self.url, body, signed(body))
        self.assert_answer(r, 200, "application/json", compact({"challenge": challenge}), "url_verification")
        self.assert_refused(hg.curl(self.url, body, signed(body, k="not-the-signing-secret")), 401, "forged", challenge)
        self.assert_refused(hg.curl(self.url, body, {"Content-Type": "application/json"}), 401, "unsigned", challenge)
        self.assert_refused(hg.curl(self.url, body, signed(body, ts=int(time.time()) - 600)), 401, "stale", challenge)
        self.assert_nothing_stored()
        ev = json.dumps({"type": "event_callback", "event_id": "Ev0HSK1", "event_time": int(time.time()),
                         "event": {"type": "app_mention", "text": "hi"}}).encode()
        self.assert_only_stored(hg.curl(self.url, ev, signed(ev)), ["Ev0HSK1"], types=["event_callback"])

    def test_zoom_url_validation(self):
        """Zoom: a signed POST endpoint.url_validation -> 200 {"plainToken", "encryptedToken":
        hex HMAC-SHA256(secret token, plainToken)}."""
        key = "Zq3bW9xE2kR7tYv1LmN0pA"
        self.start("zoom", [key, "Hc8dF4gJ6sK2wQ5eR1tY7u"])

        def signed(body, ts=None, k=key):
            ts = str(int(time.time()) if ts is None else ts)
            return {"Content-Type": "application/json; charset=utf-8", "x-zm-request-timestamp": ts,
                    "x-zm-signature": "v0=" + hmac_hex(k, b"v0:" + ts.encode() + b":" + body)}

        plain = "qgg8vlvZRS6UYooatFL8Aw"
        body = json.dumps({"payload": {"plainToken": plain}, "event_ts": int(time.time() * 1000),
                           "event": "endpoint.url_validation"}).encode()
        r = hg.curl(self.url, body, signed(body))
        want = compact({"plainToken": plain, "encryptedToken": answer_hmac(key, plain, bytes.hex)})
        self.assert_answer(r, 200, "application/json", want, "url_validation")
        self.assert_refused(hg.curl(self.url, body, signed(body, k="Hc8dF4gJ6sK2wQ5eR1tY7x")), 401, "forged", plain)
        self.assert_refused(hg.curl(self.url, body, {"Content-Type": "application/json"}), 401, "unsigned", plain)
        self.assert_refused(hg.curl(self.url, body, signed(body, ts=int(time.time()) - 3600)), 401, "stale", plain)
        self.assert_nothing_stored()
        ev = json.dumps({"event": "meeting.started", "event_ts": int(time.time() * 1000),
                         "payload": {"account_id": "AAAAAABBBB", "object": {"id": "85746065"}}}).encode()
        self.assert_only_stored(hg.curl(self.url, ev, signed(ev)), [body_id(ev)], types=["meeting.started"])

    def test_twitch_callback_verification_and_revocation(self):
        """Twitch EventSub: a signed webhook_callback_verification -> 200 text/plain, the raw
        challenge; a signed revocation is an event of type "revocation"."""
        key = "s3cRe7-tw1tch-eventsub-0racle"
        self.start("twitch", [key])

        def signed(body, mtype, ts=None, k=key, mid=None):
            mid = mid or str(uuid.uuid4())
            t = time.gmtime(time.time() if ts is None else ts)
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".634234626Z"
            return {"Content-Type": "application/json", "Twitch-Eventsub-Message-Id": mid,
                    "Twitch-Eventsub-Message-Retry": "0", "Twitch-Eventsub-Message-Type": mtype,
                    "Twitch-Eventsub-Subscription-Type": "channel.follow",
                    "Twitch-Eventsub-Subscription-Version": "2", "Twitch-Eventsub-Message-Timestamp": ts,
                    "Twitch-Eventsub-Message-Signature": "sha256=" + hmac_hex(k, mid.encode() + ts.encode() + body)}

        sub = {"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "status": "webhook_callback_verification_pending",
               "type": "channel.follow", "version": "2", "cost": 1,
               "condition": {"broadcaster_user_id": "12826", "moderator_user_id": "12826"},
               "transport": {"method": "webhook", "callback": "https://example.com/webhooks/callback"},
               "created_at": "2019-11-16T10:11:12.634234626Z"}
        challenge = "pogchamp-kappa-360noscope-vohiyo"
        body = json.dumps({"challenge": challenge, "subscription": sub}).encode()
        v = "webhook_callback_verification"
        r = hg.curl(self.url, body, signed(body, v))
        self.assert_answer(r, 200, "text/plain", challenge, "webhook_callback_verification")
        self.assert_refused(hg.curl(self.url, body, signed(body, v, k="an0ther-tw1tch-secret-x")), 401, "forged",
                            challenge)
        unsigned = {k: v2 for k, v2 in signed(body, v).items() if k != "Twitch-Eventsub-Message-Signature"}
        self.assert_refused(hg.curl(self.url, body, unsigned), 401, "unsigned", challenge)
        self.assert_refused(hg.curl(self.url, body, signed(body, v, ts=time.time() - 1200)), 401, "stale", challenge)
        self.assert_nothing_stored()
        rev = json.dumps({"subscription": dict(sub, status="authorization_revoked")}).encode()
        h = signed(rev, "revocation")
        self.assert_only_stored(hg.curl(self.url, rev, h), [h["Twitch-Eventsub-Message-Id"]], types=["revocation"])

    def test_meta_verification_request(self):
        """Meta (Facebook, Instagram, WhatsApp): GET hub.mode=subscribe&hub.challenge&
        hub.verify_token -> 200 with the challenge when the token is the route's
        verify_token, else 403."""
        key, vt = "6f1e2d3c4b5a69788796a5b4c3d2e1f0", "meta-verify-token-91c4"
        hg.leak_needle(vt, "secret", "meta route verify_token")
        self.start("meta", [key], verify_token=vt)
        r = hg.curl(q(self.url, **{"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": vt}))
        self.assert_answer(r, 200, "text/plain", "1158201444", "verification")
        self.assert_refused(hg.curl(q(self.url, **{"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                                   "hub.verify_token": vt + "x"})), 403, "wrong verify_token",
                            "1158201444")
        self.assert_refused(hg.curl(q(self.url, **{"hub.mode": "subscribe", "hub.challenge": "1158201444"})), 403,
                            "no verify_token", "1158201444")
        self.assert_nothing_stored()
        ev = json.dumps({"object": "page", "entry": [{"id": "1234567890", "time": int(time.time()), "changes": [
            {"field": "feed", "value": {"verb": "add"}}]}]}).encode()
        h = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + hmac_hex(key, ev)}
        self.assert_only_stored(hg.curl(self.url, ev, h), [body_id(ev)], types=["page"])

    def test_msgraph_validation(self):
        """Microsoft Graph: POST ?validationToken= -> 200 text/plain, the token URL-decoded;
        a notification whose items carry the clientState is answered 202."""
        client_state = "secretClientValue-9c41d2"
        self.start("msgraph", [client_state])
        token = "Validation: Testing client application reachability for subscription Request-Id: " \
                "2a3d9c1b-6e5f-4a0b-9c8d-7e6f5a4b3c2d"
        r = hg.curl(q(self.url, validationToken=token), b"", {"Content-Type": "text/plain; charset=utf-8"})
        self.assert_answer(r, 200, "text/plain", token, "validation")
        self.assertEqual(r.headers.get("x-content-type-options"), "nosniff")
        self.assert_nothing_stored()
        ev = json.dumps({"value": [{"id": "lsgTZMr9KwAAA", "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
                                    "subscriptionExpirationDateTime": "2030-01-01T11:00:00.0000000Z",
                                    "clientState": client_state, "changeType": "created",
                                    "resource": "Users/u1/Messages/m1", "tenantId": "t1"}]}).encode()
        r = hg.curl(self.url, ev, {"Content-Type": "application/json"})
        self.assert_only_stored(r, ["lsgTZMr9KwAAA"], status=202, types=["created"])

    def test_x_crc(self):
        """X Account Activity: GET ?crc_token -> 200 {"response_token": "sha256=" + base64
        HMAC-SHA256(consumer secret, crc_token)}; a crc_token that reads as a body is refused."""
        key = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu"
        self.start("x", [key, "Q8pL2mN4bV6cX0zA1sD3fG5hJ7kL9qW2eR4tY6uI8oP0aS2dF4"])
        token = "9b4507b3-9040-4669-9ca3-6b94edb50553"
        r = hg.curl(q(self.url, crc_token=token))
        want = compact({"response_token": "sha256=" + answer_hmac(key, token, lambda d: base64.b64encode(d).decode())})
        self.assert_answer(r, 200, "application/json", want, "crc")
        # the answer would be the signature of this body: refused, not signed
        forged = json.dumps({"for_user_id": "1", "tweet_create_events": [{"id_str": "1", "text": "forged"}]})
        r = hg.curl(q(self.url, crc_token=forged))
        self.assertEqual(r.status, 400, r.body)
        self.assertNotIn(hmac_b64(key, forged), r.body)
        self.refused += 1
        self.assert_nothing_stored()
        ev = json.dumps({"for_user_id": "2244994945", "tweet_create_events": [{"id_str": "1050118621198921728",
                                                                                "text": "hi"}]}).encode()
        h = {"Content-Type": "application/json", "x-twitter-webhooks-signature": "sha256=" + hmac_b64(key, ev)}
        self.assert_only_stored(hg.curl(self.url, ev, h), [body_id(ev)], types=["tweet_create_events"])

    def test_dropbox_challenge(self):
        """Dropbox: GET ?challenge -> 200 text/plain, the challenge, X-Content-Type-Options: nosniff."""
        key = "k3x9v2m7q1w8e4r"
        self.start("dropbox", [key])
        r = hg.curl(q(self.url, challenge="JYkQfzHdqz3xcTzTXnR8hIJqo6pjn4W9m1aYXYj1S3U"))
        self.assert_answer(r, 200, "text/plain", "JYkQfzHdqz3xcTzTXnR8hIJqo6pjn4W9m1aYXYj1S3U", "challenge")
        self.assertEqual(r.headers.get("x-content-type-options"), "nosniff")
        self.assert_nothing_stored()
        ev = json.dumps({"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]},
                         "delta": {"users": [12345678]}}).encode()
        h = {"Content-Type": "application/json", "X-Dropbox-Signature": hmac_hex(key, ev)}
        self.assert_only_stored(hg.curl(self.url, ev, h), [body_id(ev)], types=["list_folder"])

    def test_okta_verification(self):
        """Okta event hooks: GET with X-Okta-Verification-Challenge -> 200 {"verification": ...}."""
        key = "okta-hook-secret-3e9a1f77c2"
        self.start("okta", [key])
        v = "Lkb5cbBUz3mFLmmWy0Ge7ynCaw0TuYIs6xe2j5VN"
        r = hg.curl(self.url, headers={"X-Okta-Verification-Challenge": v, "Authorization": key})
        self.assert_answer(r, 200, "application/json", compact({"verification": v}), "verification")
        self.assert_nothing_stored()
        ev = json.dumps({"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
                         "source": "https://example.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3",
                         "eventId": "b5a188b9-5ece-4636-b041-482ffda96311", "eventTime": "2019-03-27T16:59:53.032Z",
                         "contentType": "application/json",
                         "data": {"events": [{"eventType": "user.session.start", "uuid": "u1"}]}}).encode()
        r = hg.curl(self.url, ev, {"Content-Type": "application/json", "Authorization": key})
        self.assert_only_stored(r, ["b5a188b9-5ece-4636-b041-482ffda96311"], types=["user.session.start"])

    def test_discord_ping(self):
        """Discord Webhook Events: a PING {"type": 0} signed with the application's Ed25519 key
        -> 204, empty; events are answered 204."""
        k = Ed25519Key(self.tmp)
        other = Ed25519Key(tempfile.mkdtemp(dir=self.tmp))
        self.start("discord", [k.public_hex])

        def signed(body, ts=None, key=k):
            # 7 s ago (inside the window): never the second the gateway started, which
            # /metrics shows (hg.py takes an X-Signature-* header's value for a signature)
            ts = str(int(time.time()) - 7 if ts is None else ts)
            return {"Content-Type": "application/json", "X-Signature-Timestamp": ts,
                    "X-Signature-Ed25519": key.sign_hex(ts.encode() + body)}

        body = json.dumps({"version": 1, "application_id": "1234560123453231555", "type": 0}).encode()
        r = hg.curl(self.url, body, signed(body))
        self.assert_answer(r, 204, None, "", "ping")
        self.assert_refused(hg.curl(self.url, body, signed(body, key=other)), 401, "forged")
        self.assert_refused(hg.curl(self.url, body, {"Content-Type": "application/json"}), 401, "unsigned")
        self.assert_refused(hg.curl(self.url, body, signed(body, ts=int(time.time()) - 3600)), 401, "stale")
        self.assert_nothing_stored()
        ev = json.dumps({"version": 1, "application_id": "1234560123453231555", "type": 1,
                         "event": {"type": "APPLICATION_AUTHORIZED", "timestamp": "2024-10-18T14:42:53.064834",
                                   "data": {"integration_type": 1, "scopes": ["applications.commands"]}}}).encode()
        r = hg.curl(self.url, ev, signed(ev))
        self.assertEqual(r.body, "")
        self.assert_only_stored(r, [body_id(ev)], status=204, types=["APPLICATION_AUTHORIZED"])

    def test_trello_head(self):
        """Trello: the HEAD it sends when a webhook is created -> 200."""
        key, public = "trello-app-secret-5b7e", "https://hooks.example.com/h/trello"
        self.start("trello", [key], public_url=public)
        r = hg.curl(self.url, extra=["-I"])
        self.assertEqual(r.status, 200, r.body)
        self.answered += 1
        self.assert_nothing_stored()
        ev = json.dumps({"model": {"id": "5a1b2c3d4e5f6a7b8c9d0e1f"},
                         "action": {"id": "5a1b2c3d4e5f6a7b8c9d0e99", "type": "createCard",
                                    "date": "2024-06-01T12:00:00.000Z"}}).encode()
        h = {"Content-Type": "application/json",
             "X-Trello-Webhook": hmac_b64(key, ev + public.encode(), hashlib.sha1)}
        self.assert_only_stored(hg.curl(self.url, ev, h), ["5a1b2c3d4e5f6a7b8c9d0e99"], types=["createCard"])


if __name__ == "__main__":
    hg.main()
