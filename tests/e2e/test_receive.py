"""Receive path over plain HTTP: every answer of contract section 7 that the
core issue names, checked against what reached stdout and the LMDB store."""
import json
import os
import socket
import subprocess
import threading
import time

import hg


def mdb_entries(data_dir, db):
    """Entries in a sub-database, read with lmdb-utils' mdb_stat (a real reader)."""
    p = subprocess.run(["mdb_stat", "-s", db, data_dir], capture_output=True, text=True, check=True)
    for line in p.stdout.splitlines():
        if line.strip().startswith("Entries:"):
            return int(line.split(":")[1])
    raise AssertionError(p.stdout)


class Receive(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        cfg = self.config(limits={"max_body": "64KiB"})
        cfg["routes"].append({"path": "/hooks/vector", "profile": "generic",
                              "secrets": [hg.vectors("generic")[0]["secret"]], "sinks": ["out"]})
        self.g = self.gateway(cfg)
        self.data = os.path.join(self.tmp, "data")

    def test_accepted_then_duplicate(self):
        body = b'{"event_id":"evt_a1","event":"order.created","data":{"n":1}}'
        r = self.post_generic(self.g, body)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "accepted", "id": "evt_a1", "seq": 1})
        self.assertEqual(r.headers["content-type"], "application/json")
        r = self.post_generic(self.g, body)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "duplicate", "id": "evt_a1"})
        ev = self.g.wait_events(1)
        time.sleep(0.3)  # a duplicate must not produce a second line
        ev = self.g.events()
        self.assertEqual(len(ev), 1)
        e = ev[0]
        self.assertEqual(e["specversion"], "1.0")
        self.assertEqual(e["id"], "evt_a1")
        self.assertEqual(e["type"], "order.created")
        self.assertEqual(e["source"], "/hooks/generic")
        self.assertEqual(e["hookgateroute"], "generic")
        self.assertEqual(e["hookgateseq"], 1)
        self.assertEqual(e["data"], json.loads(body))
        self.assertEqual(e["datacontenttype"], "application/json")
        # the index entry reaches LMDB with the next checkpoint (about a second)
        self.assertTrue(hg.wait_for(lambda: mdb_entries(self.data, "events") == 1, 10),
                        mdb_entries(self.data, "events"))

    def test_fixture_vector_generic(self):
        v = hg.vectors("generic")[0]
        h = dict(v["headers"], **{"Content-Type": "application/json"})
        r = self.req(self.g, "/hooks/generic", v["body"].encode(), h)
        self.assertEqual(r.status, 401)  # that route's secret is not the vector's
        r = self.req(self.g, "/hooks/vector", v["body"].encode(), h)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["id"], json.loads(v["body"])["event_id"])
        e = self.g.wait_events(1)[0]
        self.assertEqual(e["type"], json.loads(v["body"])["event"])

    def test_bad_signature_is_401_and_nothing_stored(self):
        body = b'{"event_id":"evt_bad","event":"x"}'
        cases = [
            {"X-Webhook-Signature": "sha256=" + "0" * 64},
            {"X-Webhook-Signature": hg.sign_generic("other-secret", body)},
            {"X-Webhook-Signature": "sha256=zz"},
            {},
        ]
        for h in cases:
            r = self.req(self.g, "/hooks/generic", body, dict(h, **{"Content-Type": "application/json"}))
            self.assertEqual(r.status, 401, h)
            self.assertEqual(r.json(), {"error": "invalid signature"})
        # a body signed, then altered by one byte
        sig = hg.sign_generic("generic-secret", body)
        r = self.req(self.g, "/hooks/generic", body.replace(b"bad", b"bae"), {"X-Webhook-Signature": sig})
        self.assertEqual(r.status, 401)
        self.assertEqual(mdb_entries(self.data, "events"), 0)
        self.assertEqual(mdb_entries(self.data, "seen"), 0)
        self.assertEqual(mdb_entries(self.data, "seen2"), 0)
        # the next good event is seq 1: nothing consumed a sequence number
        r = self.post_generic(self.g, b'{"event_id":"evt_good"}')
        self.assertEqual(r.json()["seq"], 1)
        reasons = [l.get("reason") for l in self.g.logs() if l.get("msg") == "request rejected"]
        self.assertIn("signature mismatch", reasons)
        self.assertIn("missing signature", reasons)
        self.assertNotIn("generic-secret", self.g.stderr())

    def test_bare_hex_and_header_id(self):
        body = b"plain text, not json"
        sig = hg.sign_generic("generic-secret", body)[len("sha256="):]
        r = self.req(self.g, "/hooks/generic", body,
                    {"X-Webhook-Signature": sig, "Content-Type": "text/plain",
                     "X-Webhook-Event-Id": "hdr-1", "X-Webhook-Event": "note.posted"})
        self.assertEqual(r.status, 200, r.body)
        e = self.g.wait_events(1)[0]
        self.assertEqual(e["id"], "hdr-1")
        self.assertEqual(e["type"], "note.posted")
        self.assertEqual(e["data"], "plain text, not json")
        self.assertEqual(e["datacontenttype"], "text/plain")

    def test_binary_body_goes_to_data_base64(self):
        body = bytes(range(256))
        r = self.post_generic(self.g, body, headers={"X-Webhook-Event-Id": "bin-1",
                                                      "Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 200, r.body)
        e = self.g.wait_events(1)[0]
        import base64
        self.assertEqual(base64.b64decode(e["data_base64"]), body)
        self.assertNotIn("data", e)

    def test_missing_id_is_400(self):
        r = self.post_generic(self.g, b'{"event":"order.created"}')
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"error": "missing event id"})
        r = self.post_generic(self.g, b'{"event_id":"a\\u0001b"}')
        self.assertEqual(r.status, 400)
        self.assertEqual(mdb_entries(self.data, "events"), 0)

    def test_not_found_and_method(self):
        r = self.req(self.g, "/nope", b"{}")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"error": "not found"})
        r = self.req(self.g, "/hooks/generic")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers.get("allow"), "POST")
        self.assertEqual(r.json(), {"error": "method not allowed"})
        r = self.req(self.g, "/hooks/generic", b"{}", method="PUT")
        self.assertEqual(r.status, 405)

    def test_healthz(self):
        r = self.req(self.g, "/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "ok"})

    def test_413_with_curl(self):
        # Expect: 100-continue makes curl wait for the answer before it sends
        # the body: without it, the 413 (sent as soon as the headers are in)
        # and the close can cross the body still being sent, and the client
        # may see a reset instead of the answer (README, max_body)
        body = b'{"event_id":"big","pad":"' + b"x" * (70 * 1024) + b'"}'
        r = self.post_generic(self.g, body, headers={"Expect": "100-continue"})
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json(), {"error": "body too large"})
        ok = b'{"event_id":"fits","pad":"' + b"x" * (60 * 1024) + b'"}'
        self.assertEqual(self.post_generic(self.g, ok).status, 200)

    def test_413_answered_before_the_body(self):
        """Announce 100 MiB, send none of it: the answer must come anyway."""
        s = self.connect(self.g)
        s.sendall(b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"X-Webhook-Signature: sha256=00\r\nContent-Length: 104857600\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:100])

    def test_concurrent_copies_one_accepted(self):
        body = b'{"event_id":"evt_storm","event":"order.created"}'
        results = []
        lock = threading.Lock()

        def one():
            r = self.post_generic(self.g, body)
            with lock:
                results.append((r.status, r.json().get("status")))

        ts = [threading.Thread(target=one) for _ in range(50)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(len(results), 50)
        self.assertTrue(all(s == 200 for s, _ in results), results)
        self.assertEqual(sum(1 for _, st in results if st == "accepted"), 1)
        self.assertEqual(sum(1 for _, st in results if st == "duplicate"), 49)
        # a second, distinct event proves delivery caught up past the storm
        self.assertEqual(self.post_generic(self.g, b'{"event_id":"after"}').status, 200)
        ev = self.g.wait_events(2)
        time.sleep(0.2)
        ids = [e["id"] for e in self.g.events()]
        self.assertEqual(ids.count("evt_storm"), 1)
        self.assertIn("after", ids)

    def test_same_id_on_two_routes_is_two_events(self):
        body = b'{"x":1}'
        r1 = self.post_generic(self.g, body, headers={"X-Webhook-Event-Id": "shared"})
        r2 = self.req(self.g, "/hooks/iex", body, hg.iex_headers("iex-new-secret", body, "shared", "t"))
        self.assertEqual(r1.json()["status"], "accepted")
        self.assertEqual(r2.json()["status"], "accepted")


class ReceiveTLS(Receive):
    """The same cases over HTTPS, with a certificate generated for the test."""
    scheme = "https"


if __name__ == "__main__":
    hg.main()
