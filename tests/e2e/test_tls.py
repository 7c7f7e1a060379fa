"""HTTPS listeners: a certificate generated now, curl verifying it, TLS >= 1.2,
and an HTTP and an HTTPS listener in one process."""
import subprocess

import hg


class Tls(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.cert, self.key = hg.make_cert(self.tmp)
        cfg = hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": self.cert, "key": self.key}},
            {"address": "127.0.0.1:0"},
        ])
        self.g = self.gateway(cfg)

    def test_https_accept_and_duplicate(self):
        body = b'{"event_id":"tls-1","event":"order.created"}'
        r = self.post_generic(self.g, body, scheme="https", cacert=self.cert)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], "accepted")
        # the same id on the plain listener is the same route: duplicate
        r = self.post_generic(self.g, body, i=1)
        self.assertEqual(r.json()["status"], "duplicate")
        self.assertEqual([e["id"] for e in self.g.wait_events(1)], ["tls-1"])

    def test_https_errors_and_health(self):
        r = hg.curl(self.g.url("/healthz", scheme="https"), cacert=self.cert)
        self.assertEqual(r.status, 200)
        r = self.post_generic(self.g, b'{"event_id":"x"}', secret="wrong", scheme="https", cacert=self.cert)
        self.assertEqual(r.status, 401)

    def test_plain_http_on_tls_port_gets_no_answer(self):
        r = hg.curl(self.g.url("/healthz", scheme="http"), timeout=5)
        self.assertNotEqual(r.status, 200)

    def test_tls_1_1_refused_1_2_and_1_3_accepted(self):
        port = str(self.g.ports[0])
        for flag, ok in (("-tls1_2", True), ("-tls1_3", True), ("-tls1_1", False)):
            p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, flag,
                                "-CAfile", self.cert, "-verify_return_error", "-brief"],
                               input=b"", capture_output=True, timeout=20)
            out = (p.stdout + p.stderr).decode(errors="replace")
            if ok:
                self.assertEqual(p.returncode, 0, flag + out)
                self.assertIn("Verification: OK", out, flag)
            else:
                self.assertNotEqual(p.returncode, 0, flag + out)


if __name__ == "__main__":
    hg.main()
