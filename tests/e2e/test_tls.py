"""HTTPS listeners: a certificate generated now, curl verifying it, TLS >= 1.2,
and an HTTP and an HTTPS listener in one process.

The suites offered (issue 15, item 7): TLS 1.2 only with ECDHE key exchange
and AEAD ciphers, TLS 1.3 as GnuTLS has it, checked with `openssl s_client
-cipher` for accepted and refused suites on an RSA and an ECDSA certificate;
tls.priorities replaces the default string, and a string GnuTLS refuses is
a config error naming the key."""
import json
import os
import subprocess

import hg

# (suite, accepted) for TLS 1.2 on an RSA certificate and on an ECDSA one
RSA_SUITES = [
    ("ECDHE-RSA-AES128-GCM-SHA256", True),
    ("ECDHE-RSA-AES256-GCM-SHA384", True),
    ("ECDHE-RSA-CHACHA20-POLY1305", True),
    ("AES128-SHA", False),                 # static RSA key exchange, CBC, SHA-1
    ("AES128-GCM-SHA256", False),          # static RSA key exchange: no forward secrecy
    ("AES256-SHA256", False),              # static RSA, CBC
    ("ECDHE-RSA-AES128-SHA", False),       # CBC, SHA-1
    ("ECDHE-RSA-AES128-SHA256", False),    # CBC
    ("DHE-RSA-AES128-GCM-SHA256", False),  # finite-field DHE: not offered
]
ECDSA_SUITES = [
    ("ECDHE-ECDSA-AES128-GCM-SHA256", True),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", True),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", True),
    ("ECDHE-ECDSA-AES128-SHA", False),     # CBC, SHA-1
    ("ECDHE-ECDSA-AES256-SHA384", False),  # CBC
    ("ECDHE-ECDSA-AES128-CCM", False),     # AEAD, but not one of the three
]


def make_rsa_cert(d):
    """A self-signed RSA localhost certificate (static-RSA suites need one)."""
    cert, key = os.path.join(d, "rsa-cert.pem"), os.path.join(d, "rsa-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    return cert, key


def s_client(port, cafile, *flags):
    """openssl s_client against 127.0.0.1:port: (handshake done and verified, output)."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", cafile,
                        "-verify_return_error", "-brief", *flags],
                       input=b"", capture_output=True, timeout=20)
    out = (p.stdout + p.stderr).decode(errors="replace")
    return p.returncode == 0 and "Verification: OK" in out, out


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


class TlsSuites(hg.GatewayTest):
    """The default priority string on an RSA and an ECDSA certificate."""

    def setUp(self):
        super().setUp()
        self.rsa, rsa_key = make_rsa_cert(self.tmp)
        self.ec, ec_key = hg.make_cert(self.tmp)
        self.g = self.gateway(hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": self.rsa, "key": rsa_key}},
            {"address": "127.0.0.1:0", "tls": {"cert": self.ec, "key": ec_key}},
        ]))

    def check_suites(self, port, cafile, suites):
        for suite, ok in suites:
            with self.subTest(suite=suite):
                done, out = s_client(port, cafile, "-tls1_2", "-cipher", suite)
                if ok:
                    self.assertTrue(done, out)
                    self.assertIn("Ciphersuite: " + suite, out)
                    self.assertIn("Protocol version: TLSv1.2", out)
                else:
                    self.assertFalse(done, f"{suite} was accepted:\n{out}")

    def test_tls12_rsa_certificate_ecdhe_aead_only(self):
        self.check_suites(self.g.ports[0], self.rsa, RSA_SUITES)

    def test_tls12_ecdsa_certificate_ecdhe_aead_only(self):
        self.check_suites(self.g.ports[1], self.ec, ECDSA_SUITES)

    def test_tls13_as_before(self):
        for port, ca in ((self.g.ports[0], self.rsa), (self.g.ports[1], self.ec)):
            for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"):
                with self.subTest(port=port, suite=suite):
                    done, out = s_client(port, ca, "-tls1_3", "-ciphersuites", suite)
                    self.assertTrue(done, out)
                    self.assertIn("Protocol version: TLSv1.3", out)
                    self.assertIn("Ciphersuite: " + suite, out)

    def test_signed_event_over_tls12_ecdhe_rsa(self):
        body = b'{"event_id":"tls12-rsa","event":"order.created"}'
        r = self.post_generic(self.g, body, scheme="https", cacert=self.rsa,
                              extra=("--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"))
        self.assertEqual(r.status, 200, r.body)


class TlsPriorities(hg.GatewayTest):
    """tls.priorities: one listener's own string, checked at load."""

    def config(self, priorities):
        cert, key = hg.make_cert(self.tmp)
        self.cert = cert
        return hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": cert, "key": key, "priorities": priorities}},
            {"address": "127.0.0.1:0", "tls": {"cert": cert, "key": key}},
        ])

    def check(self, cfg):
        path = os.path.join(self.tmp, "check.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True,
                              env=dict(os.environ, **hg.ENV), timeout=30)

    def test_a_listener_with_tls13_only(self):
        cfg = self.config("NORMAL:-VERS-ALL:+VERS-TLS1.3")
        p = self.check(cfg)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("tls: 127.0.0.1:0 priorities=NORMAL:-VERS-ALL:+VERS-TLS1.3", p.stdout.splitlines())
        self.assertIn("tls: 127.0.0.1:0 priorities=NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:"
                      "+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"
                      "-MAC-ALL:+AEAD", p.stdout.splitlines())
        g = self.gateway(cfg)
        self.assertFalse(s_client(g.ports[0], self.cert, "-tls1_2")[0], "TLS 1.2 on a TLS 1.3-only listener")
        self.assertTrue(s_client(g.ports[0], self.cert, "-tls1_3")[0])
        self.assertTrue(s_client(g.ports[1], self.cert, "-tls1_2")[0], "the other listener keeps the default")

    def test_a_typo_is_a_config_error_naming_the_key(self):
        for bad in ("NORMAL:+VERS-TLS1.7", "SECURE999", "NORMAL:-CIPHER-ALL:+AES-128-GCN", ""):
            with self.subTest(priorities=bad):
                p = self.check(self.config(bad))
                self.assertEqual(p.returncode, 1, p.stdout)
                self.assertIn("$.listen[0].tls.priorities: ", p.stderr)
                self.assertNotIn("$.listen[1]", p.stderr)

    def test_not_a_string(self):
        p = self.check(self.config(["NORMAL"]))
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.listen[0].tls.priorities: must be a non-empty string", p.stderr)


if __name__ == "__main__":
    hg.main()
