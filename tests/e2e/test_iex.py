"""The iEX profile: canonical v1 string, timestamp window, nonce, secret rotation."""
import json
import time

import hg


class Iex(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        v = hg.vectors("iex")[0]
        self.v = v
        cfg = self.config()
        cfg["routes"].append({"path": "/hooks/iex-wide", "profile": "iex", "secrets": [v["secret"]],
                              "tolerance": "3650d" if False else "1d", "sinks": ["out"]})
        self.g = self.gateway(cfg)

    def post(self, body, headers, path="/hooks/iex"):
        return self.req(self.g, path, body, headers)

    def test_accepts_both_rotated_secrets(self):
        for i, secret in enumerate(["iex-old-secret", "iex-new-secret"]):
            body = json.dumps({"event_id": f"evt_r{i}", "data": {"i": i}}).encode()
            r = self.post(body, hg.iex_headers(secret, body, f"evt_r{i}", "order.created"))
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["status"], "accepted")
        body = b'{"x":1}'
        r = self.post(body, hg.iex_headers("retired-secret", body, "evt_r9", "order.created"))
        self.assertEqual(r.status, 401)
        ev = self.g.wait_events(2)
        self.assertEqual([e["id"] for e in ev], ["evt_r0", "evt_r1"])
        self.assertEqual(ev[0]["type"], "order.created")
        self.assertEqual(ev[0]["source"], "/hooks/iex")

    def test_stale_and_future_timestamps_rejected(self):
        body = b'{"event_id":"evt_old"}'
        now = int(time.time())
        for ts in (now - 330, now + 330, now - 86400):  # well past the 300 s window: no clock edge
            r = self.post(body, hg.iex_headers("iex-new-secret", body, "evt_old", "order.created", ts=ts))
            self.assertEqual(r.status, 401, ts)
            self.assertEqual(r.json(), {"error": "invalid signature"})
        r = self.post(body, hg.iex_headers("iex-new-secret", body, "evt_old", "order.created", ts=now - 200))
        self.assertEqual(r.status, 200)
        reasons = [l.get("reason") for l in self.g.logs() if l.get("msg") == "request rejected"]
        self.assertIn("timestamp outside tolerance", reasons)

    def test_tampered_headers_rejected(self):
        body = b'{"a":1}'
        good = hg.iex_headers("iex-new-secret", body, "evt_t", "order.created")
        for k, v in [("X-Webhook-Event-Id", "evt_other"), ("X-Webhook-Event-Type", "order.deleted"),
                     ("X-Webhook-Nonce", "n2")]:
            r = self.post(body, dict(good, **{k: v}))
            self.assertEqual(r.status, 401, k)
        r = self.post(b'{"a":2}', good)
        self.assertEqual(r.status, 401)
        no_ts = {k: v for k, v in good.items() if k != "X-Webhook-Timestamp"}
        self.assertEqual(self.post(body, no_ts).status, 401)
        self.assertEqual(self.post(body, good).status, 200)

    def test_published_vector_with_route_tolerance(self):
        """The fixture was signed at its own timestamp; a 1-day route window
        accepts it only if that is within a day of now, so shift nothing and
        check the outcome both ways."""
        v = self.v
        h = dict(v["headers"], **{"Content-Type": "application/json"})
        r = self.post(v["body"].encode(), h, path="/hooks/iex-wide")
        if abs(time.time() - v["timestamp"]) <= 86400:
            self.assertEqual(r.status, 200, r.body)
        else:
            self.assertEqual(r.status, 401)
            self.assertIn("timestamp outside tolerance",
                          [l.get("reason") for l in self.g.logs() if l.get("msg") == "request rejected"])

    def test_non_json_body_is_400(self):
        body = b"not json"
        r = self.post(body, hg.iex_headers("iex-new-secret", body, "evt_nj", "order.created"))
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"error": "body is not valid JSON"})

    def test_time_from_created_at(self):
        body = b'{"event_id":"evt_time","created_at":"2026-06-23T10:00:00Z"}'
        r = self.post(body, hg.iex_headers("iex-new-secret", body, "evt_time", "order.status_changed"))
        self.assertEqual(r.status, 200)
        e = self.g.wait_events(1)[0]
        self.assertEqual(e["time"], "2026-06-23T10:00:00Z")
        self.assertEqual(e["type"], "order.status_changed")


class IexTLS(Iex):
    scheme = "https"


if __name__ == "__main__":
    hg.main()
