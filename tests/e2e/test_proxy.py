"""Behind a proxy or load balancer (issue 16, item 5): a listener's
"trusted_proxies".  Only when the TCP peer is one of them is the client
address taken from X-Forwarded-For (the rightmost address that is not a
trusted proxy) or Forwarded (RFC 7239 for=); that address is what "allow",
the per-address rate limit and the logs use.  From any other peer the
headers change nothing: a forged X-Forwarded-For is ignored.

The tests talk to the gateway from 127.0.0.1, which plays the proxy."""
import json
import os
import socket
import subprocess

import hg

ALLOWED, OTHER = "203.0.113.9", "198.51.100.1"


def proxy_config(tmp, listen=None, allow=("203.0.113.0/24", "2001:db8::/32"), **top):
    routes = [
        {"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"],
         "allow": list(allow)},
        {"path": "/hooks/open", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"]},
    ]
    listen = listen or [
        {"address": "127.0.0.1:0", "trusted_proxies": ["127.0.0.1/32"]},  # 0: behind our proxy
        {"address": "127.0.0.1:0"},  # 1: no trusted proxies
        {"address": "127.0.0.1:0", "trusted_proxies": ["10.0.0.0/8"]},  # 2: trusts others
    ]
    return hg.basic_config(tmp, routes=routes, listen=listen, **top)


class Proxy(hg.GatewayTest):
    def post(self, g, headers=None, i=0, path="/hooks/generic", body=None, extra=(), secret="generic-secret"):
        body = body or json.dumps({"id": os.urandom(6).hex()}).encode()
        return self.post_generic(g, body, secret=secret, headers=headers, path=path, i=i, extra=extra)

    def rejected(self, g, status):
        return [l for l in g.logs() if l.get("msg") == "request rejected" and l.get("status") == status]

    def test_allow_uses_the_forwarded_client(self):
        g = self.gateway(proxy_config(self.tmp))
        # no forwarding header: the peer 127.0.0.1 itself, not allowed
        self.assertEqual(self.post(g).status, 403)
        r = self.post(g, {"X-Forwarded-For": ALLOWED})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.post(g, {"X-Forwarded-For": OTHER}).status, 403)
        # the rightmost address that is not a trusted proxy is the client
        self.assertEqual(self.post(g, {"X-Forwarded-For": f"{ALLOWED}, 127.0.0.1"}).status, 200)
        self.assertEqual(self.post(g, {"X-Forwarded-For": f"{ALLOWED}, 198.51.100.7"}).status, 403)
        self.assertEqual(self.post(g, {"X-Forwarded-For": f"{OTHER}, {ALLOWED}"}).status, 200)
        self.assertEqual(self.post(g, {"X-Forwarded-For": f"garbage, \"x;, {ALLOWED}:4711"}).status, 200)
        self.assertEqual(len(g.wait_events(4)), 4)
        logs = self.rejected(g, 403)
        self.assertTrue(any(l.get("client") == OTHER and l.get("via") == "127.0.0.1" for l in logs), logs)
        self.assertTrue(any(l.get("client") == "198.51.100.7" for l in logs), logs)

    def test_several_header_lines_are_one_list(self):
        g = self.gateway(proxy_config(self.tmp))
        two = lambda a, b: self.post(g, {"X-Forwarded-For": a}, extra=["-H", f"X-Forwarded-For: {b}"])
        self.assertEqual(two(ALLOWED, "127.0.0.1").status, 200)
        self.assertEqual(two(OTHER, ALLOWED).status, 200)
        self.assertEqual(two(ALLOWED, "198.51.100.7").status, 403)

    def test_forwarded_header(self):
        g = self.gateway(proxy_config(self.tmp))
        ok = [f"for={ALLOWED}", "for=\"[2001:db8::1]\"", "For=\"[2001:db8:cafe::17]:4711\";proto=https",
              f"for={OTHER}, for={ALLOWED};by=127.0.0.1", f"for={ALLOWED}, for=127.0.0.1"]
        for v in ok:
            self.assertEqual(self.post(g, {"Forwarded": v}).status, 200, v)
        for v in [f"for={OTHER}", "for=\"[2001:db9::1]\"", f"for={ALLOWED}, for={OTHER}"]:
            self.assertEqual(self.post(g, {"Forwarded": v}).status, 403, v)
        # X-Forwarded-For and Forwarded that disagree: neither is believed (a proxy that writes
        # one may pass the other on from the client), whichever names the allowed address
        self.assertEqual(self.post(g, {"X-Forwarded-For": OTHER, "Forwarded": f"for={ALLOWED}"}).status, 403)
        self.assertEqual(self.post(g, {"Forwarded": f"for={OTHER}", "X-Forwarded-For": ALLOWED}).status, 403)
        self.assertEqual(self.post(g, {"X-Forwarded-For": ALLOWED, "Forwarded": f"for={ALLOWED}"}).status, 200)
        self.assertTrue(any(l.get("client") == "2001:db9::1" for l in self.rejected(g, 403)))

    def test_unusable_headers_leave_the_proxy_as_client(self):
        g = self.gateway(proxy_config(self.tmp))
        for h in [{"Forwarded": "for=unknown"}, {"Forwarded": "for=_hidden"},
                  {"Forwarded": f"for=\"{ALLOWED}"}, {"X-Forwarded-For": f"{ALLOWED}, not-an-address"},
                  {"X-Forwarded-For": "unknown"}]:
            self.assertEqual(self.post(g, h).status, 403, h)
        self.assertTrue(all(l.get("client") == "127.0.0.1" for l in self.rejected(g, 403)))
        warned = [l for l in g.logs() if l.get("msg", "").startswith("forwarding headers not usable")]
        self.assertTrue(warned)
        self.assertTrue(all(l.get("peer") == "127.0.0.1" and l.get("reason") for l in warned), warned)

    def test_forged_header_from_an_untrusted_peer_changes_nothing(self):
        g = self.gateway(proxy_config(self.tmp))
        for i in (1, 2):  # no trusted_proxies; trusted_proxies without 127.0.0.1
            for h in [{"X-Forwarded-For": ALLOWED}, {"Forwarded": f"for={ALLOWED}"},
                      {"X-Forwarded-For": f"{ALLOWED}, 127.0.0.1"}]:
                self.assertEqual(self.post(g, h, i=i).status, 403, (i, h))
        logs = self.rejected(g, 403)
        self.assertEqual(len(logs), 6)
        self.assertTrue(all(l.get("client") == "127.0.0.1" and "via" not in l for l in logs), logs)
        self.assertEqual(g.events(), [])

    def test_logs_name_the_forwarded_client(self):
        g = self.gateway(proxy_config(self.tmp))
        # a bad signature from the forwarded client: 401, logged with its address
        r = self.post(g, {"X-Forwarded-For": ALLOWED}, secret="wrong-secret")
        self.assertEqual(r.status, 401)
        logs = self.rejected(g, 401)
        self.assertEqual([(l["client"], l["via"]) for l in logs], [(ALLOWED, "127.0.0.1")])

    def test_rate_limit_per_forwarded_client(self):
        g = self.gateway(proxy_config(self.tmp, limits={"rate_per_ip": 0.01, "rate_burst": 2}))
        for client in ("203.0.113.1", "203.0.113.2"):
            h = {"X-Forwarded-For": client}
            got = [self.post(g, h, path="/hooks/open").status for _ in range(3)]
            self.assertEqual(got, [200, 200, 429], client)
        # the proxy's own budget (no header) is its own too
        self.assertEqual([self.post(g, path="/hooks/open").status for _ in range(3)], [200, 200, 429])
        # on the untrusted listener a forged header does not buy a new budget
        self.assertEqual(self.post(g, {"X-Forwarded-For": "203.0.113.3"}, i=1, path="/hooks/open").status,
                         429)
        limited = self.rejected(g, 429)
        self.assertEqual(sorted({l["client"] for l in limited}), ["127.0.0.1", "203.0.113.1", "203.0.113.2"])

    def test_ipv6_proxy(self):
        try:
            s = socket.socket(socket.AF_INET6)
            s.bind(("::1", 0))
            s.close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        g = self.gateway(proxy_config(self.tmp, listen=[{"address": "[::1]:0", "trusted_proxies": ["::1/128"]}]))
        url = f"http://[::1]:{g.ports[0]}/hooks/generic"
        body = b'{"id":"v6"}'
        h = {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic("generic-secret", body)}
        self.assertEqual(hg.curl(url, body, dict(h, **{"X-Forwarded-For": ALLOWED})).status, 200)
        self.assertEqual(hg.curl(url, body, dict(h, **{"X-Forwarded-For": OTHER})).status, 403)
        self.assertEqual(hg.curl(url, body, h).status, 403)

    def test_check_validates_trusted_proxies(self):
        cases = [
            (["10.0.0.0/8", "::1/128", "bogus"], "$.listen[0].trusted_proxies[2]: not an address or CIDR"),
            (["10.0.0.1/8"], "$.listen[0].trusted_proxies[0]: host bits set after the prefix length"),
            ([7], "$.listen[0].trusted_proxies[0]: not an address or CIDR"),
            ("10.0.0.0/8", "$.listen[0].trusted_proxies: must be a list"),
            (["10.0.0.%d/32" % i for i in range(65)], "$.listen[0].trusted_proxies: must be a list"),
        ]
        for value, want in cases:
            cfg = proxy_config(self.tmp, listen=[{"address": "127.0.0.1:0", "trusted_proxies": value}])
            path = os.path.join(self.tmp, "c.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            p = subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, **hg.ENV))
            self.assertNotEqual(p.returncode, 0, value)
            self.assertIn(want, p.stdout + p.stderr, value)
        cfg = proxy_config(self.tmp, listen=[{"address": "127.0.0.1:0",
                                              "trusted_proxies": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]}])
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, **hg.ENV))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("trusted_proxies: 127.0.0.1:0 10.0.0.0/8 2001:db8::/32 192.0.2.1/32", p.stdout)
        # schemas/config.schema.json agrees (when jsonschema is installed)
        try:
            from jsonschema import Draft202012Validator
        except ImportError:
            return
        with open(os.path.join(os.path.dirname(__file__), "../../schemas/config.schema.json")) as f:
            v = Draft202012Validator(json.load(f))
        self.assertEqual(list(v.iter_errors(cfg)), [])
        for value, _ in cases:
            bad = proxy_config(self.tmp, listen=[{"address": "127.0.0.1:0", "trusted_proxies": value}])
            if value != ["10.0.0.1/8"]:  # host bits: the loader's own check
                self.assertNotEqual(list(v.iter_errors(bad)), [], value)

    def test_reload_changes_trusted_proxies(self):
        g = self.gateway(proxy_config(self.tmp, listen=[{"address": "127.0.0.1:0"}]))
        self.assertEqual(self.post(g, {"X-Forwarded-For": ALLOWED}).status, 403)
        with open(g.cfg_path, "w") as f:
            json.dump(proxy_config(self.tmp, listen=[{"address": "127.0.0.1:0",
                                                      "trusted_proxies": ["127.0.0.0/8"]}]), f)
        n = len(g.logs())
        g.proc.send_signal(1)  # SIGHUP
        self.assertTrue(hg.wait_for(lambda: any(l.get("msg") == "reload: applied" for l in g.logs()[n:])))
        self.assertEqual(self.post(g, {"X-Forwarded-For": ALLOWED}).status, 200)


if __name__ == "__main__":
    hg.main()
