"""Ids and types (issue 15, items 6 and 8).

Item 6, control characters: an event id or type holding a C0 or C1 control,
DEL, a line or paragraph separator (U+2028, U+2029) or a bidirectional
control (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) is a 400
whose answer names the field and the character, taken from the body (as a
JSON escape and as raw UTF-8) or from a header, and nothing is stored.
`events show` and `events list` never write such characters raw: not those
a producer's body carries inside its strings (accepted: the body is the
producer's), nor those an older version stored in ids and types (the test
writes such a record into the store with mdb_load).

Item 8, dedupe namespaces: an id hookgate derives from the body
(`sha256:<hex>`) and an id a producer sends live apart, so a producer id
`sha256:<hex of X>` never makes body X a duplicate, in either order, on a
route whose profile falls back to the body hash and on generic's unsigned
header ids; both kinds still deduplicate themselves.
"""
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess

import hg

FORBIDDEN = ([0x00, 0x01, 0x09, 0x0A, 0x1B, 0x1F, 0x7F, 0x80, 0x85, 0x9B, 0x9F, 0x2028, 0x2029, 0x061C,
              0x200E, 0x200F] + list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A)))
# raw bytes that can stand in a header value (CR, LF and NUL end or cut it before hookgate sees it)
HEADER_FORBIDDEN = [c for c in FORBIDDEN if c not in (0x00, 0x0A)]
RAW_FORBIDDEN = [c.encode() for c in ("\x1b", "\x7f", "\u0085", "\u009b", "\u2028", "\u2029", "\u061c",
                                      "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069")]
SECRET = "generic-secret"


def raw_post(port, path, body, headers):
    """POST with raw header bytes on a connection of its own: (status, body)."""
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n" % (path.encode(), len(body))
    for k, v in headers.items():
        head += k.encode() + b": " + (v if isinstance(v, bytes) else v.encode()) + b"\r\n"
    data = hg.raw_exchange(port, head + b"\r\n" + body)
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1]


def signed(body, **headers):
    h = {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic(SECRET, body)}
    h.update(headers)
    return h


def raw_forbidden(out):
    """the forbidden characters (as UTF-8, or a raw C0/DEL byte but tab and
    newline) in the bytes out"""
    found = [c for c in RAW_FORBIDDEN if c in out]
    found += [bytes([b]) for b in out if (b < 0x20 and b not in (9, 10)) or b == 0x7F]
    return found


class IdsTest(hg.GatewayTest):
    def cli(self, g, *args):
        p = subprocess.run([hg.BIN, "events", *args, "-c", g.cfg_path], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def stored_ids(self, g):
        return [l.split(b"\t")[3] for l in self.cli(g, "list", "--limit", "1000").splitlines()[1:]]

    def test_forbidden_characters_refused_naming_the_field(self):
        g = self.gateway(hg.basic_config(self.tmp))
        port = g.ports[0]
        cases = []
        for cp in FORBIDDEN:
            esc = "\\u%04x" % cp
            for field, key in (("id", "event_id"), ("type", "event")):
                other = ("event", "t") if field == "id" else ("event_id", "e-%x" % cp)
                # as a JSON escape inside the body
                cases.append((field, cp, ('{"%s":"a%sb","%s":"%s"}' % (key, esc, *other)).encode(), {}))
                # raw in the body (a raw C0 is no valid JSON string: that is a JSON error, tested apart)
                if cp >= 0x7F:
                    cases.append((field, cp, ('{"%s":"a%sb","%s":"%s"}' % (key, chr(cp), *other)).encode(), {}))
        for cp in HEADER_FORBIDDEN:
            v = b"a" + chr(cp).encode() + b"b"
            cases.append(("id", cp, b'{"n":1}', {"X-Webhook-Event-Id": v}))
            cases.append(("type", cp, b'{"n":1}', {"X-Webhook-Event-Id": "h-%x" % cp, "X-Webhook-Event-Type": v}))
        for field, cp, body, hdrs in cases:
            with self.subTest(field=field, cp="U+%04X" % cp, body=body, headers=hdrs):
                status, answer = raw_post(port, "/hooks/generic", body, signed(body, **hdrs))
                self.assertEqual(status, 400, answer)
                err = json.loads(answer)["error"]
                self.assertTrue(err.startswith(f"invalid event {field}: "), err)
                self.assertIn("U+%04X" % cp, err)
        # a refusal is logged with the field's reason (one per field: a rate-limit key)
        reasons = {l.get("reason") for l in g.logs() if l.get("status") == 400}
        self.assertEqual(reasons, {"event id too long or not printable", "event type too long or not printable"})
        # nothing stored; the gateway still takes a good event, with the characters
        # that remain allowed (other non-ASCII, U+200B, U+FEFF)
        body = '{"event_id":"ok-\u00e9\u4e2d\u200b","event":"t.\u00a0\ufeff"}'.encode()
        status, answer = raw_post(port, "/hooks/generic", body, signed(body))
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.stored_ids(g), ["ok-\u00e9\u4e2d\u200b".encode()])
        self.assertEqual(len(g.wait_events(1)), 1)

    def test_over_long_and_not_utf8_named(self):
        g = self.gateway(hg.basic_config(self.tmp))
        for field, body, hdrs, why in (
                ("id", b'{"event_id":"' + b"x" * 257 + b'"}', {}, "longer than 256 bytes"),
                ("type", b'{"event_id":"a","event":"' + b"x" * 257 + b'"}', {}, "longer than 256 bytes"),
                ("id", b'{"event_id":{"a":1}}', {}, "not a string or number"),
                ("id", b'{"n":1}', {"X-Webhook-Event-Id": b"a\xff\xfeb"}, "not valid UTF-8"),
                ("type", b'{"n":1}', {"X-Webhook-Event-Id": "u1", "X-Webhook-Event-Type": b"a\xc3\x28"},
                 "not valid UTF-8")):
            with self.subTest(field=field, why=why):
                status, answer = raw_post(g.ports[0], "/hooks/generic", body, signed(body, **hdrs))
                self.assertEqual((status, json.loads(answer)), (400, {"error": f"invalid event {field}: {why}"}))
        self.assertEqual(self.stored_ids(g), [])

    def test_show_and_list_never_print_raw_controls(self):
        """A body's strings may hold C1 and bidirectional controls (the body
        is the producer's): `events show` escapes them in the JSON it prints
        (same meaning: it parses to the delivered envelope). A record an older
        version stored, whose id and type hold controls, is shown with '?' by
        `list` and escaped by `show`."""
        g = self.gateway(hg.basic_config(self.tmp))
        payload = "x\u009b[31m\u202egnp.exe\u2028\u0085\x7f"
        body = json.dumps({"event_id": "body-ctl", "event": "t", "note": payload}, ensure_ascii=False).encode()
        self.assertEqual(raw_post(g.ports[0], "/hooks/generic", body, signed(body))[0], 200)
        delivered = g.wait_events(1)[0]
        out = self.cli(g, "show", "body-ctl")
        self.assertEqual(raw_forbidden(out), [], out)
        self.assertEqual(json.loads(out), delivered)
        self.assertEqual(json.loads(out)["data"]["note"], payload)
        self.assertIn(b"\\u009b", out)
        g.stop()

        # an older version's record: seq 2, with controls in id, type and route
        rec_id = "old\x1b[2J\u009b1m\u202eid".encode()
        rec_type = "t\u2028ype\u0085".encode()
        rec_route = "generic\x07".encode()
        rec_body = '{"v":"\u009b"}'.encode()
        strs = [rec_route, b"/hooks/generic", rec_id, rec_type, b"", b"application/json"]
        rec = struct.pack("<IB3xq6HI", 0x31454748, 0, 1767225600000, *map(len, strs), len(rec_body))
        rec += b"".join(strs) + rec_body
        dump = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n" % (
            struct.pack(">Q", 2).hex(), rec.hex())
        p = subprocess.run(["mdb_load", "-s", "events", os.path.join(self.tmp, "data")], input=dump.encode(),
                           capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = self.cli(g, "list")
        self.assertEqual(raw_forbidden(out), [], out)
        row = out.splitlines()[-1].split(b"\t")
        self.assertEqual(row[0], b"2")
        self.assertEqual(row[2:5], [b"generic?", "old?[2J?1m?id".encode(), b"t?ype?"])
        out = self.cli(g, "show", "2")
        self.assertEqual(raw_forbidden(out), [], out)
        env = json.loads(out)
        self.assertEqual((env["id"], env["type"], env["data"]),
                         (rec_id.decode(), rec_type.decode(), {"v": "\u009b"}))
        self.assertIn(b"\\u001b[2J\\u009b1m\\u202eid", out)

    def test_producer_id_cannot_preclaim_a_body_hash(self):
        """The dedupe pre-claim: a signed body whose id is sha256:<hex of
        body X> is stored, and so is X afterwards (and the other way round);
        each is a duplicate of itself only."""
        pdir = os.path.join(self.tmp, "profiles")
        os.mkdir(pdir)
        with open(os.path.join(os.path.dirname(__file__), "../../schemas/profiles/generic.json")) as f:
            prof = json.load(f)
        prof.update(name="generic-fallback", id_fallback="body_sha256")
        with open(os.path.join(pdir, "generic-fallback.json"), "w") as f:
            json.dump(prof, f)
        routes = [{"path": "/hooks/fb", "profile": "generic-fallback", "secrets": ["env:T_SECRET"], "sinks": ["out"]},
                  {"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"]}]
        g = self.gateway(hg.basic_config(self.tmp, routes=routes, profile_dirs=[pdir]))

        def post(path, body, **hdrs):
            status, answer = raw_post(g.ports[0], path, body, signed(body, **hdrs))
            self.assertEqual(status, 200, answer)
            return json.loads(answer)

        def claim(body):
            return json.dumps({"event_id": "sha256:" + hashlib.sha256(body).hexdigest(), "event": "evil"}).encode()

        n = 0
        # id_fallback: claim first, then the body without an id; then the other order
        for first_claim, body in ((True, b'{"event":"order.created","n":1}'), (False, b'{"event":"order.created","n":2}')):
            derived = "sha256:" + hashlib.sha256(body).hexdigest()
            order = [claim(body), body] if first_claim else [body, claim(body)]
            for b in order:
                a = post("/hooks/fb", b)
                self.assertEqual((a["status"], a["id"]), ("accepted", derived), (first_claim, b))
            for b in order:
                self.assertEqual(post("/hooks/fb", b)["status"], "duplicate")
            n += 2
        # generic: an id from an unsigned header is deduplicated by the body's hash
        body = b'{"event":"order.created","n":3}'
        self.assertEqual(post("/hooks/generic", claim(body))["status"], "accepted")
        a = post("/hooks/generic", body, **{"X-Webhook-Event-Id": "hdr-1"})
        self.assertEqual((a["status"], a["id"]), ("accepted", "hdr-1"))
        self.assertEqual(post("/hooks/generic", body, **{"X-Webhook-Event-Id": "hdr-2"})["status"], "duplicate")
        n += 2
        evs = g.wait_events(n)
        self.assertEqual(len(evs), n)
        self.assertEqual(sum(1 for e in evs if e["type"] == "order.created"), n // 2)


if __name__ == "__main__":
    hg.main()
