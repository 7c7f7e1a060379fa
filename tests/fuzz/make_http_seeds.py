#!/usr/bin/env python3
"""make_http_seeds.py - write the seed corpus of fuzz_http (tests/fuzz/corpus/http/).

Each seed is the raw bytes of one connection: one HTTP request or several
pipelined ones.  Valid requests are signed with the secrets of
tests/vectors/vectors.json (the published vectors are used as they
are; more are signed here the same way) for the routes fuzz_http.c
configures; the rest are malformed or refused on purpose (bad signature,
stale timestamp, framing errors, oversized headers, garbage).

Usage: python3 tests/fuzz/make_http_seeds.py [FIXTURES_DIR]
Regenerating rewrites only the files named "seed-*"; other files of the
corpus (merged by scripts/fuzz --merge, regressions) are kept.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "http")
FIXTURES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "vectors")

TS = "1763846959"  # inside the routes' 3650d tolerance
GENERIC = "s3cr3t-0d56fb278178eba8"
IEX = "iex_0eafdcbeb477b13b03d51c07a0d39db1"
STANDARD = "whsec_B4knK4onaxGs/qH1SMQ8JaMtHlizRi4A"
GITHUB = "It's a Secret to Everybody"
STRIPE = "whsec_9da417421236c4d75af98227"
SHOPIFY = "shpss_d9a581c405929b9caad01e3b"
SLACK = "8f742231b10e8888abcd99yyyzzz85a5"
HUBEX_TOKEN = "fuzz-hubex-token-5f0c2a91"
OPEN_TOKEN = "fuzz-route-token-9b1e77d3"


def hm(key, msg):
    return hmac.new(key, msg, hashlib.sha256)


def request(path, headers, body=b"", method="POST", version="HTTP/1.1", length=True):
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if length and body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def generic(body, extra=None, prefix="sha256="):
    h = {"Content-Type": "application/json",
         "X-Webhook-Signature": prefix + hm(GENERIC.encode(), body).hexdigest()}
    h.update(extra or {})
    return request("/hooks/generic", h, body)


def iex(body, eid, etype, nonce="wh_fuzz_1", ts=TS):
    canon = "\n".join(["v1", eid, etype, ts, nonce, hashlib.sha256(body).hexdigest()])
    return request("/hooks/iex", {
        "Content-Type": "application/json",
        "X-Webhook-Event-Id": eid,
        "X-Webhook-Event-Type": etype,
        "X-Webhook-Timestamp": ts,
        "X-Webhook-Nonce": nonce,
        "X-Webhook-Signature": "sha256=" + hm(IEX.encode(), canon.encode()).hexdigest(),
        "X-Request-Id": "req_01JFUZZ",
    }, body)


def standard(body, mid, ts=TS, prefix="webhook-", extra_sigs=""):
    key = base64.b64decode(STANDARD[len("whsec_"):])
    sig = base64.b64encode(hm(key, f"{mid}.{ts}.".encode() + body).digest()).decode()
    return request("/hooks/standard", {
        "Content-Type": "application/json",
        prefix + "id": mid,
        prefix + "timestamp": ts,
        prefix + "signature": (extra_sigs + " " if extra_sigs else "") + "v1," + sig,
    }, body)


def stripe(body, ts=TS, extra=""):
    sig = hm(STRIPE.encode(), ts.encode() + b"." + body).hexdigest()
    return request("/hooks/stripe", {"Content-Type": "application/json",
                                     "Stripe-Signature": f"t={ts}{extra},v1={sig}"}, body)


def github(body, delivery, event="push"):
    return request("/hooks/github", {
        "Content-Type": "application/json",
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Event": event,
        "X-Hub-Signature-256": "sha256=" + hm(GITHUB.encode(), body).hexdigest(),
    }, body)


def shopify(body, wid, topic="orders/create"):
    return request("/hooks/shopify", {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(hm(SHOPIFY.encode(), body).digest()).decode(),
        "X-Shopify-Webhook-Id": wid,
        "X-Shopify-Topic": topic,
        "X-Shopify-Triggered-At": "2026-11-22T10:00:00Z",
    }, body)


def slack(body, ts=TS):
    sig = hm(SLACK.encode(), f"v0:{ts}:".encode() + body).hexdigest()
    return request("/hooks/slack", {"Content-Type": "application/x-www-form-urlencoded",
                                    "X-Slack-Request-Timestamp": ts,
                                    "X-Slack-Signature": "v0=" + sig}, body)


def chunked(body, n=7):
    out = b""
    for i in range(0, len(body), n):
        part = body[i:i + n]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def seeds():
    s = {}
    vectors = json.load(open(os.path.join(FIXTURES, "vectors.json")))["vectors"]
    routes = {"standard": "/hooks/standard", "github": "/hooks/github", "slack": "/hooks/slack",
              "shopify": "/hooks/shopify", "generic": "/hooks/generic", "iex": "/hooks/iex",
              "stripe": "/hooks/stripe"}
    for i, v in enumerate(vectors):
        body = v["body"].encode()
        ctype = "application/x-www-form-urlencoded" if v["profile"] == "slack" else "application/json"
        h = {"Content-Type": ctype}
        h.update(v["headers"])
        s[f"vector{i:02d}-{v['profile']}"] = request(routes[v["profile"]], h, body)
        if v["profile"] == "standard":  # the same under Svix's header names
            hs = {"Content-Type": ctype}
            hs.update({k.replace("webhook-", "svix-"): x for k, x in v["headers"].items()})
            s[f"vector{i:02d}-svix"] = request(routes["standard"], hs, body)

    ev = b'{"event_id": "evt_fuzz_0001", "event": "order.created", "created_at": "2026-11-22T10:00:00Z", "data": {"n": 1}}'
    s["generic-json"] = generic(ev)
    s["generic-bare-hex"] = generic(b'{"id": 42, "type": "num.id"}', prefix="")
    s["generic-text-headers"] = generic(b"plain text body \xc3\xa9", {
        "Content-Type": "text/plain; charset=utf-8",
        "X-Webhook-Event-Id": "hdr-id-1", "X-Webhook-Event": "text.event"})
    s["generic-binary"] = generic(b"\x00\x01\xfe\xff binary", {
        "Content-Type": "application/octet-stream", "X-Webhook-Delivery": "bin-1"})
    s["generic-noid"] = generic(b'{"event": "no.id"}')
    s["generic-badjson-id"] = generic(b'{"id": {"nested": true}, "type": "x"}')
    s["generic-empty"] = generic(b"", {"X-Webhook-Event-Id": "empty-1"})
    s["generic-badsig"] = request("/hooks/generic", {"X-Webhook-Signature": "sha256=" + "0" * 64},
                                  ev)
    s["generic-nosig"] = request("/hooks/generic", {"Content-Type": "application/json"}, ev)
    s["generic-chunked"] = request("/hooks/generic", {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked",
        "X-Webhook-Signature": "sha256=" + hm(GENERIC.encode(), ev).hexdigest()},
        chunked(ev), length=False)
    s["generic-expect"] = request("/hooks/generic", {
        "Expect": "100-continue",
        "X-Webhook-Signature": "sha256=" + hm(GENERIC.encode(), ev).hexdigest()}, ev)
    s["generic-http10"] = generic(ev).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    s["generic-query"] = generic(ev).replace(b"/hooks/generic", b"/hooks/generic?x=1&y", 1)
    s["pipelined-dup"] = generic(ev) + generic(ev) + request("/healthz", {}, None, "GET")
    s["pipelined-mixed"] = (iex(b'{"event_id": "evt_p1", "event": "order.created"}', "evt_p1",
                                "order.created") +
                            github(b'{"zen": "x"}', "gh-p1") +
                            request("/metrics", {}, None, "GET") +
                            request("/nowhere", {}, b"{}"))

    ib = b'{"event_id": "evt_fuzz_iex", "event": "order.status_changed", "created_at": "2026-06-23T10:00:00Z", "data": {"status": "paid"}}'
    s["iex-valid"] = iex(ib, "evt_fuzz_iex", "order.status_changed")
    s["iex-notjson"] = iex(b"not json", "evt_fuzz_iex2", "order.created")
    s["iex-stale"] = iex(ib, "evt_fuzz_iex3", "order.created", ts="1000000000")
    s["iex-future"] = iex(ib, "evt_fuzz_iex4", "order.created", ts="9999999999")
    s["iex-ctrl-id"] = iex(ib, "evt\x01bad", "order.created")

    sb = b'{"type": "invoice.paid", "timestamp": "2026-11-22T10:00:00Z", "data": {"id": "fz1"}}'
    s["standard-valid"] = standard(sb, "msg_fuzz_0001")
    s["standard-svix"] = standard(sb, "msg_fuzz_0002", prefix="svix-")
    s["standard-multi"] = standard(sb, "msg_fuzz_0003", extra_sigs="v1,AAAA v2,zzz v1a,bad=")
    s["standard-scalar"] = standard(b'"just a string"', "msg_fuzz_0004")

    tb = b'{"id": "evt_fuzz_stripe", "object": "event", "type": "charge.succeeded", "created": 1763846959, "data": {"object": {}}}'
    s["stripe-valid"] = stripe(tb)
    s["stripe-roll"] = stripe(tb, extra=",v1=" + "ab" * 32 + ",v0=00")
    s["stripe-stale"] = stripe(tb, ts="1")

    s["github-valid"] = github(b'{"action": "opened", "number": 1}', "gh-fuzz-1", "pull_request")
    s["github-text"] = github(b"Hello, World!", "gh-fuzz-2", "ping")  # labelled JSON: a 400
    s["github-text-plain"] = github(b"Hello, World!", "gh-fuzz-3", "ping").replace(
        b"Content-Type: application/json", b"Content-Type: text/plain", 1)
    # a repeated id/type key is a 400 naming it; a body labelled JSON must be JSON
    s["generic-dup-id"] = generic(b'{"event_id": "evt_dup_1", "event": "a", "event_id": "evt_dup_2"}')
    s["standard-dup-type"] = standard(b'{"type": "a.b", "data": {}, "type": "c.d"}', "msg_fuzz_dup")
    s["stripe-dup-id"] = stripe(b'{"id": "evt_dup_a", "type": "x", "id": "evt_dup_b"}')
    s["generic-json-label-not-json"] = generic(b'{"event_id": "x", oops', {
        "Content-Type": "application/vnd.example+json; charset=utf-8", "X-Webhook-Event-Id": "nj-1"})
    s["shopify-valid"] = shopify(b'{"id": 1, "total_price": "1.00"}', "shop-fuzz-1")
    s["slack-valid"] = slack(b"token=x&team_id=T1&command=%2Ffuzz&text=hi")

    hb = b'{"EventID": 40, "ObjectID": 128734, "CreatedAt": "2025-08-18T09:12:44+03:00"}'
    s["hubex-path-token"] = request("/hooks/hubex/" + HUBEX_TOKEN, {"Content-Type": "application/json"}, hb)
    s["hubex-header-token"] = request("/hooks/hubex", {"X-Hookgate-Token": HUBEX_TOKEN}, hb)
    s["hubex-bearer"] = request("/hooks/hubex", {"Authorization": "Bearer " + HUBEX_TOKEN},
                                b'{"EventID": 99}')
    s["hubex-wrong-token"] = request("/hooks/hubex/wrong-token", {}, hb)
    s["open-path-token"] = request("/hooks/open/" + OPEN_TOKEN, {"Content-Type": "text/plain"},
                                   b"New user signed up: fuzz")
    s["open-header-token"] = request("/hooks/open", {"X-Hookgate-Token": OPEN_TOKEN},
                                     b'{"event_id": "open-1", "event": "user.signup", "time": "2026-11-22T10:00:00Z"}')
    s["open-no-token"] = request("/hooks/open", {}, b'{"text": "hi"}')

    s["ops-healthz"] = request("/healthz", {}, None, "GET")
    s["ops-head-healthz"] = request("/healthz", {}, None, "HEAD")
    s["ops-readyz"] = request("/readyz", {}, None, "GET")
    s["ops-metrics"] = request("/metrics", {"Connection": "close"}, None, "GET")
    s["ops-post-healthz"] = request("/healthz", {}, b"{}")
    s["route-get"] = request("/hooks/generic", {}, None, "GET")
    s["route-404"] = request("/nope", {}, b"{}")
    s["too-big"] = request("/hooks/generic", {"Content-Length": "100000"}, b"{}", length=False)
    s["two-lengths"] = request("/hooks/generic", {"Content-Length": "2"}, b"{}")
    s["cl-and-te"] = request("/hooks/generic", {"Transfer-Encoding": "chunked", "Content-Length": "5"},
                             chunked(b"{}"), length=False)
    # request framing (gateway/http_frame.c): each a 400 that closes the
    # connection, the valid request pipelined behind it never read
    gj = generic(ev)
    smuggled = b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(gj)
    s["smuggle-cl-te"] = request("/hooks/generic", {
        "Content-Length": str(len(smuggled) + 5), "Transfer-Encoding": "chunked"},
        b"0\r\n\r\n" + smuggled, length=False) + gj
    for name, te in (("identity", "identity"), ("gzip-chunked", "gzip, chunked"),
                     ("xchunked", "xchunked"), ("trailing-space", "chunked ")):
        s["te-" + name] = request("/hooks/generic", {"Transfer-Encoding": te}, chunked(ev),
                                  length=False) + gj
    s["te-two"] = request("/hooks/generic", {"Transfer-Encoding": "chunked"}, chunked(ev),
                          length=False).replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: identity\r\n\r\n", 1)
    s["te-http10"] = request("/hooks/generic", {"Transfer-Encoding": "chunked"}, chunked(ev),
                             version="HTTP/1.0", length=False)
    s["te-space-colon"] = gj.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding : chunked\r\n\r\n", 1) + gj
    s["te-folded"] = gj.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 1) + gj
    s["fold-other"] = gj.replace(b"\r\n\r\n", b"\r\nX-Pad: 1\r\n Transfer-Encoding: chunked\r\n\r\n", 1)
    s["fold-one-token"] = gj.replace(b"\r\n\r\n", b"\r\nX-Pad: 1\r\n two\r\n\r\n", 1)
    s["bare-cr-value"] = gj.replace(b"\r\n\r\n", b"\r\nX-Pad: 1\rTransfer-Encoding: chunked\r\n\r\n", 1)
    s["chunked-bare-lf"] = s["generic-chunked"].split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + \
        b"%x\n" % len(ev) + ev + b"\n0\n\n" + gj
    for name, path in (("slash", "/hooks%2Fgeneric"), ("nul", "/hooks/generic%00"),
                       ("backslash", "/hooks/generic%5c"), ("bad-escape", "/hooks/gen%zzeric"),
                       ("unreserved", "/hooks/gen%65ric")):
        s["uri-" + name] = gj.replace(b"/hooks/generic", path.encode(), 1) + gj
    s["uri-raw-nul"] = gj.replace(b"/hooks/generic", b"/hooks/generic\x00/x", 1)
    s["cl-short"] = request("/hooks/generic", {"Content-Length": "50"}, b"{}", length=False)
    s["cl-long"] = request("/hooks/generic", {"Content-Length": "1"}, b'{"id": 1}', length=False)
    s["cl-garbage"] = request("/hooks/generic", {"Content-Length": "-1"}, b"{}", length=False)
    s["big-header"] = request("/hooks/generic", {"X-Pad": "a" * 9000}, b"{}")
    s["nul-header"] = request("/hooks/generic", {"X-Webhook-Event-Id": "a\x00b"}, b"{}")
    s["bad-utf8-header"] = generic(ev, {"X-Webhook-Event": "\xff\xfe"})
    s["absolute-uri"] = generic(ev).replace(b"/hooks/generic", b"http://127.0.0.1/hooks/generic", 1)
    s["lowercase-method"] = generic(ev).replace(b"POST", b"post", 1)
    s["bad-version"] = request("/hooks/generic", {}, b"{}", version="HTTP/9.9")
    s["http09"] = b"GET /healthz\r\n\r\n"
    s["no-crlf"] = b"POST /hooks/generic HTTP/1.1"
    s["bare-lf"] = generic(ev).replace(b"\r\n", b"\n")
    s["garbage"] = bytes(range(256))
    s["empty"] = b""
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("seed-"):
            os.remove(os.path.join(OUT, f))
    for name, data in seeds().items():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
