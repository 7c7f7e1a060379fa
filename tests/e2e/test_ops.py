"""Operations: /metrics (strictly parsed Prometheus text whose counters match
the requests sent), the admin listener, mutual TLS (tls.client_ca), the
source-address allow-list, per-address rate and connection limits, slowloris
connections, oversized request heads, refused world-readable secrets and
data_dir, "user" (privilege drop) and "shutdown_timeout" (contract sections 7
and 10).

Everything runs against the real binary with the real curl and openssl
clients; certificates are generated at test time.  Source addresses other
than 127.0.0.1 are other loopback addresses (127.0.0.2): Linux routes all of
127.0.0.0/8 to lo, so a client can bind one and reach a 127.0.0.1 listener.
"""
import json
import math
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

import hg

OTHER_ADDR = "127.0.0.2"  # a second source address on the loopback


# ---- a strict parser of the Prometheus text format (version 0.0.4) ---------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{((?:{_LABEL})(?:,{_LABEL})*,?)?\}})? (\S+)(?: (-?[0-9]+))?$")
_LABEL_RX = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(ValueError):
    pass


def _value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", s):
        raise PromError(f"bad value {s!r}")
    return float(s)


class Metrics:
    """Parsed /metrics text: .types {family: type}, .samples {(name, labels): value}
    where labels is a sorted tuple of (name, value) pairs."""

    def __init__(self, text):
        self.types, self.samples, self.help = {}, {}, {}
        if not text.endswith("\n"):
            raise PromError("the text does not end with a newline")
        family = None
        for n, line in enumerate(text[:-1].split("\n"), 1):
            where = f"line {n}: {line!r}"
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) < 3 or parts[0] != "#" or parts[1] not in ("HELP", "TYPE"):
                    raise PromError("a comment that is neither # HELP nor # TYPE, " + where)
                name = parts[2]
                if not re.fullmatch(_NAME, name):
                    raise PromError("bad metric name, " + where)
                if parts[1] == "HELP":
                    if name in self.help:
                        raise PromError("second HELP, " + where)
                    self.help[name] = parts[3] if len(parts) > 3 else ""
                    continue
                if len(parts) != 4 or parts[3] not in _TYPES:
                    raise PromError("bad TYPE, " + where)
                if name in self.types:
                    raise PromError("second TYPE for a family, " + where)
                family = name
                self.types[name] = parts[3]
                continue
            if not line:
                raise PromError("empty line, " + where)
            m = _SAMPLE.match(line)
            if not m:
                raise PromError("not a sample line `name{labels} value`, " + where)
            name, labels, value = m.group(1), m.group(2) or "", _value(m.group(3))
            if family is None:
                raise PromError("a sample before any # TYPE, " + where)
            kind = self.types[family]
            allowed = {family}
            if kind == "histogram":
                allowed = {family + "_bucket", family + "_sum", family + "_count"}
            elif kind == "summary":
                allowed = {family, family + "_sum", family + "_count"}
            if name not in allowed:
                raise PromError(f"sample {name} does not belong to the preceding TYPE {family}, " + where)
            pairs = _LABEL_RX.findall(labels)
            keys = [k for k, _ in pairs]
            if len(set(keys)) != len(keys):
                raise PromError("a label given twice, " + where)
            if kind == "histogram" and (name == family + "_bucket") != ("le" in keys):
                raise PromError("le is on every _bucket sample and only there, " + where)
            key = (name, tuple(sorted(pairs)))
            if key in self.samples:
                raise PromError("duplicate sample, " + where)
            if kind == "counter" and not value >= 0:
                raise PromError("a counter below 0, " + where)
            self.samples[key] = value
        for f in set(self.help) - set(self.types):
            raise PromError(f"HELP without TYPE for {f}")
        for f, kind in self.types.items():
            if kind == "histogram":
                self._check_histogram(f)

    def _check_histogram(self, f):
        groups = {}
        for (name, labels), v in self.samples.items():
            if name == f + "_bucket":
                rest = tuple(p for p in labels if p[0] != "le")
                le = dict(labels)["le"]
                groups.setdefault(rest, []).append((_value(le), le, v))
        if not groups:
            raise PromError(f"histogram {f} has no buckets")
        for rest, buckets in groups.items():
            buckets.sort()
            if buckets[-1][1] != "+Inf":
                raise PromError(f"histogram {f}{dict(rest)}: the last bucket is not le=\"+Inf\"")
            counts = [v for _, _, v in buckets]
            if counts != sorted(counts):
                raise PromError(f"histogram {f}{dict(rest)}: buckets are not cumulative: {counts}")
            count = self.samples.get((f + "_count", rest))
            if count is None or (f + "_sum", rest) not in self.samples:
                raise PromError(f"histogram {f}{dict(rest)}: _sum or _count missing")
            if count != counts[-1]:
                raise PromError(f"histogram {f}{dict(rest)}: +Inf bucket {counts[-1]} != _count {count}")

    def get(self, name, **labels):
        """The value of one sample (0 when a labelled sample is absent: zero
        counters may be left out)."""
        return self.samples.get((name, tuple(sorted(labels.items()))), 0)

    def all(self, name):
        """[(labels dict, value)] of every sample called name."""
        return [(dict(l), v) for (n, l), v in self.samples.items() if n == name]

    def total(self, name, **match):
        return sum(v for l, v in self.all(name) if all(l.get(k) == w for k, w in match.items()))


def metrics(g, i=0, scheme="http", source=None, **kw):
    """GET /metrics parsed; source: the client's address (default 127.0.0.1)."""
    if source:
        kw["extra"] = ["--interface", source]
    r = hg.curl(g.url("/metrics", i=i, scheme=scheme), **kw)
    if r.status != 200:
        raise AssertionError(f"/metrics answered {r.status}: {r.body[:200]}")
    if r.headers.get("content-type") != "text/plain; version=0.0.4":
        raise AssertionError("/metrics Content-Type: " + repr(r.headers.get("content-type")))
    return Metrics(r.body)


def signed(body, secret="generic-secret"):
    return {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic(secret, body)}


def run(*args, env=None, **kw):
    return subprocess.run([hg.BIN, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **hg.ENV, **(env or {})), **kw)


def openssl(*args, **kw):
    p = subprocess.run(["openssl", *args], capture_output=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p


def make_pki(d):
    """A CA, a client certificate it signed, a rogue self-signed client
    certificate with the same subject, and a localhost server certificate;
    all generated now.  Returns a dict of paths."""
    p = {k: os.path.join(d, k + ".pem") for k in ("ca", "ca_key", "client", "client_key", "client_csr",
                                                   "rogue", "rogue_key")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "1", "-subj", "/CN=hookgate test client CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", p["ca_key"], "-out", p["ca"])
    openssl("req", "-new", *ec, "-subj", "/CN=producer", "-keyout", p["client_key"], "-out", p["client_csr"])
    ext = os.path.join(d, "client.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", p["client_csr"], "-CA", p["ca"], "-CAkey", p["ca_key"], "-CAcreateserial",
            "-days", "1", "-extfile", ext, "-out", p["client"])
    openssl("req", "-x509", *ec, "-days", "1", "-subj", "/CN=producer",
            "-addext", "extendedKeyUsage=clientAuth", "-keyout", p["rogue_key"], "-out", p["rogue"])
    p["server"], p["server_key"] = hg.make_cert(d)
    # the client certificate really chains to the CA and the rogue one does not
    openssl("verify", "-CAfile", p["ca"], p["client"])
    bad = subprocess.run(["openssl", "verify", "-CAfile", p["ca"], p["rogue"]], capture_output=True)
    assert bad.returncode != 0
    return p


def raw_socket(port, source=None, timeout=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


PARTIAL = b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\n"  # a request head never finished


class MetricsParser(unittest.TestCase):
    """The parser used below is strict: it refuses what a Prometheus server
    would refuse (so a passing metrics test means something)."""

    GOOD = ("# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 3\na_total{x=\"2\"} 0\n"
            "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 0.5\nh_count 2\n# TYPE g gauge\ng 1.5e3\n")

    def test_good_text(self):
        m = Metrics(self.GOOD)
        self.assertEqual(m.get("a_total", x="1"), 3)
        self.assertEqual(m.get("h_count"), 2)
        self.assertEqual(m.get("g"), 1500)
        self.assertEqual(m.types, {"a_total": "counter", "h": "histogram", "g": "gauge"})

    def test_bad_texts(self):
        bad = {
            "no final newline": self.GOOD[:-1],
            "sample before TYPE": "a 1\n",
            "name of another family": "# TYPE a counter\nb 1\n",
            "family resumed": self.GOOD + "a_total{x=\"3\"} 1\n",
            "unquoted label": "# TYPE a counter\na{x=1} 1\n",
            "no value": "# TYPE a counter\na{x=\"1\"}\n",
            "bad value": "# TYPE a counter\na 1,5\n",
            "negative counter": "# TYPE a counter\na -1\n",
            "duplicate sample": "# TYPE a counter\na 1\na 2\n",
            "duplicate TYPE": "# TYPE a counter\n# TYPE a counter\n",
            "unknown type": "# TYPE a meter\n",
            "other comment": "# hello\n",
            "empty line": "# TYPE a counter\n\na 1\n",
            "not cumulative": "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "no +Inf": "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n",
            "+Inf != count": "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
            "no _sum": "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
            "bucket without le": "# TYPE h histogram\nh_bucket 2\nh_sum 1\nh_count 2\n",
        }
        for name, text in bad.items():
            with self.subTest(name):
                self.assertRaises(PromError, Metrics, text)


class Ops(hg.GatewayTest):
    def post(self, g, body, i=0, source=None, timeout=30, secret="generic-secret", path="/hooks/generic",
             headers=None):
        extra = ["--interface", source] if source else []
        h = signed(body, secret)
        h.update(headers or {})
        return hg.curl(g.url(path, i=i), body, h, extra=extra, timeout=timeout)

    def stored_ids(self, g):
        """Ids of the events in the store (hookgate events list, read-only)."""
        p = run("events", "list", "--data", os.path.join(self.tmp, "data"), "--limit", "1000")
        self.assertEqual(p.returncode, 0, p.stderr)
        return [l.split("\t")[3] for l in p.stdout.splitlines()[1:]]

    # ---- 1. metrics ------------------------------------------------------------

    def test_threads_are_named_for_top_and_perf(self):
        """Each thread says what it does (top -H, perf, /proc/PID/task/N/comm)."""
        g = self.gateway(hg.basic_config(self.tmp))
        task = "/proc/%d/task" % g.proc.pid
        names = set()
        for t in os.listdir(task):
            with open(os.path.join(task, t, "comm")) as f:
                names.add(f.read().strip())
        for want in ("hg-store-write", "hg-store-done", "hg-store-ckpt", "sink:out"):
            self.assertIn(want, names)

    def test_metrics_parse_and_count_the_requests_sent(self):
        g = self.gateway(hg.basic_config(self.tmp))
        t0 = time.time()
        N, M, K = 5, 2, 3
        for i in range(N):
            r = self.post(g, b'{"event_id":"m-%d","event":"order.created"}' % i)
            self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
        for i in range(M):
            r = self.post(g, b'{"event_id":"m-%d","event":"order.created"}' % i)
            self.assertEqual((r.status, r.json()["status"]), (200, "duplicate"), r.body)
        for i in range(K):
            r = self.post(g, b'{"event_id":"bad-%d"}' % i, secret="wrong-secret")
            self.assertEqual(r.status, 401, r.body)
        self.assertEqual(hg.curl(g.url("/no/such/path"), b"{}").status, 404)
        # delivery is asynchronous: wait for the lines on stdout, then for the counter
        self.assertEqual(len(g.wait_events(N)), N)
        hg.wait_for(lambda: metrics(g).get("hookgate_delivered_total", sink="out") >= N)
        m = metrics(g)

        for f, kind in (("hookgate_requests_total", "counter"), ("hookgate_duplicates_total", "counter"),
                        ("hookgate_verify_failures_total", "counter"), ("hookgate_commit_batch_size", "histogram"),
                        ("hookgate_commit_seconds", "histogram"), ("hookgate_ack_seconds", "histogram"),
                        ("hookgate_delivered_total", "counter"), ("hookgate_delivery_failures_total", "counter"),
                        ("hookgate_delivery_retries_total", "counter"), ("hookgate_dead_letters_total", "counter"),
                        ("hookgate_backlog_events", "gauge"), ("hookgate_oldest_undelivered_seconds", "gauge"),
                        ("hookgate_store_bytes", "gauge"), ("hookgate_dead_letters_stored", "gauge"),
                        ("hookgate_last_seq", "gauge"), ("hookgate_start_time_seconds", "gauge")):
            self.assertEqual(m.types.get(f), kind, f)
            self.assertTrue(m.help.get(f), f"{f} has no HELP")

        req = "hookgate_requests_total"
        self.assertEqual(m.get(req, route="generic", status="200"), N + M)
        self.assertEqual(m.get(req, route="generic", status="401"), K)
        self.assertEqual(m.get(req, route="", status="404"), 1)
        self.assertEqual(m.total(req), N + M + K + 1, m.all(req))  # /metrics itself is not counted
        self.assertEqual(m.total(req, route="iex"), 0)
        for labels, _ in m.all(req):
            self.assertIn(labels["route"], ("", "generic", "iex"))
            self.assertIn(labels["status"], ("200", "202", "204", "400", "401", "403", "404", "405", "413", "429", "503"))
        self.assertEqual(m.get("hookgate_duplicates_total", route="generic"), M)
        self.assertEqual(m.total("hookgate_duplicates_total"), M)
        vf = "hookgate_verify_failures_total"
        self.assertEqual(m.get(vf, route="generic", reason="signature mismatch"), K)
        self.assertEqual(m.total(vf), K, m.all(vf))

        self.assertGreaterEqual(m.get("hookgate_commit_batch_size_count"), 1)
        self.assertLessEqual(m.get("hookgate_commit_batch_size_count"), N + M)
        self.assertGreaterEqual(m.get("hookgate_commit_batch_size_sum"), N)  # events stored by the commits
        self.assertLessEqual(m.get("hookgate_commit_batch_size_sum"), N + M)
        self.assertEqual(m.get("hookgate_commit_seconds_count"), m.get("hookgate_commit_batch_size_count"))
        self.assertGreater(m.get("hookgate_commit_seconds_sum"), 0)
        # an answer is timed for every request whose body was read
        self.assertGreaterEqual(m.get("hookgate_ack_seconds_count"), N + M)
        self.assertLessEqual(m.get("hookgate_ack_seconds_count"), N + M + K)

        self.assertEqual(m.get("hookgate_delivered_total", sink="out"), N)
        self.assertEqual(m.get("hookgate_delivery_failures_total", sink="out"), 0)
        self.assertEqual(m.get("hookgate_dead_letters_total", sink="out"), 0)
        self.assertEqual(m.get("hookgate_backlog_events", sink="out"), 0)
        self.assertEqual(m.get("hookgate_oldest_undelivered_seconds", sink="out"), 0)
        self.assertEqual(m.get("hookgate_last_seq"), N)
        self.assertEqual(m.get("hookgate_dead_letters_stored"), 0)
        self.assertGreater(m.get("hookgate_store_bytes"), 0)
        self.assertLessEqual(m.get("hookgate_start_time_seconds"), time.time())
        self.assertGreater(m.get("hookgate_start_time_seconds"), t0 - 60)

    def test_metrics_backlog_while_a_sink_fails(self):
        """With stdout broken, accepted events stay in the backlog and every
        attempt is a counted failure; nothing is counted delivered."""
        g = self.gateway(hg.basic_config(self.tmp), broken_stdout=True)
        for i in range(3):
            self.assertEqual(self.post(g, b'{"event_id":"b-%d"}' % i).status, 200)
        m = hg.wait_for(lambda: (lambda m: m if m.get("hookgate_delivery_failures_total", sink="out") >= 1
                                 else None)(metrics(g)))
        self.assertIsNotNone(m)
        self.assertEqual(m.get("hookgate_backlog_events", sink="out"), 3)
        self.assertEqual(m.get("hookgate_delivered_total", sink="out"), 0)
        self.assertGreaterEqual(m.get("hookgate_oldest_undelivered_seconds", sink="out"), 0)
        self.assertEqual(m.get("hookgate_last_seq"), 3)

    # ---- 2. admin listener -------------------------------------------------------

    def test_admin_listener_separation(self):
        cfg = hg.basic_config(self.tmp, listen=[{"address": "127.0.0.1:0"},
                                                {"address": "127.0.0.1:0", "admin": True}])
        p = run("check", "-c", self.write_config(cfg))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [l for l in p.stdout.splitlines() if l.startswith("listen: ")]
        self.assertEqual(len(lines), 2, p.stdout)
        self.assertNotIn("admin", lines[0])
        self.assertTrue(lines[1].endswith(" admin"), lines[1])
        g = self.gateway(cfg)
        self.assertEqual(len(g.ports), 2)
        MAIN, ADMIN = 0, 1
        # the admin listener: operations only
        self.assertGreater(metrics(g, ADMIN).get("hookgate_start_time_seconds"), 0)
        self.assertEqual(hg.curl(g.url("/healthz", i=ADMIN)).status, 200)
        self.assertEqual(hg.curl(g.url("/readyz", i=ADMIN)).status, 200)
        body = b'{"event_id":"adm-1"}'
        self.assertEqual(self.post(g, body, i=ADMIN).status, 404)
        self.assertEqual(hg.curl(g.url("/anything", i=ADMIN)).status, 404)
        # the main listener: routes and liveness, but no readiness or metrics
        self.assertEqual(hg.curl(g.url("/metrics", i=MAIN)).status, 404)
        self.assertEqual(hg.curl(g.url("/readyz", i=MAIN)).status, 404)
        self.assertEqual(hg.curl(g.url("/healthz", i=MAIN)).status, 200)
        r = self.post(g, b'{"event_id":"adm-2"}', i=MAIN)
        self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["adm-2"])
        self.assertEqual(self.stored_ids(g), ["adm-2"])  # the POST to the admin port stored nothing
        self.assertEqual(metrics(g, ADMIN).get("hookgate_last_seq"), 1)

    def test_without_admin_listener_every_listener_serves_operations(self):
        """The control for the test above: with no admin listener, /readyz and
        /metrics are served on the ordinary listeners."""
        g = self.gateway(hg.basic_config(self.tmp, listen=[{"address": "127.0.0.1:0"}, {"address": "127.0.0.1:0"}]))
        for i in (0, 1):
            self.assertEqual(hg.curl(g.url("/readyz", i=i)).status, 200)
            self.assertEqual(hg.curl(g.url("/healthz", i=i)).status, 200)
            metrics(g, i)
        for method in ("POST", "DELETE"):
            r = hg.curl(g.url("/metrics"), method=method)
            self.assertEqual(r.status, 405, method)
            self.assertIn("GET", r.headers.get("allow", ""))

    def write_config(self, cfg, name="check.json"):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            json.dump(cfg, f)
        return p

    # ---- 3. mutual TLS ------------------------------------------------------------

    def test_client_certificate_required(self):
        pki = make_pki(self.tmp)
        cfg = hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": pki["server"], "key": pki["server_key"], "client_ca": pki["ca"]}},
            {"address": "127.0.0.1:0", "tls": {"cert": pki["server"], "key": pki["server_key"]}},
        ])
        p = run("check", "-c", self.write_config(cfg))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [l for l in p.stdout.splitlines() if l.startswith("listen: ")]
        self.assertIn("https client-cert-required", lines[0])
        self.assertNotIn("client-cert-required", lines[1])
        g = self.gateway(cfg)

        def post(eid, *cert):
            body = b'{"event_id":"%s","event":"order.created"}' % eid.encode()
            extra = ["--cert", cert[0], "--key", cert[1]] if cert else []
            return hg.curl(g.url("/hooks/generic", scheme="https"), body, signed(body), cacert=pki["server"],
                           extra=extra)

        r = post("no-cert")
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(json.loads(r.body), {"error": "forbidden"})
        r = post("rogue", pki["rogue"], pki["rogue_key"])
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(json.loads(r.body), {"error": "forbidden"})
        # refused before routing: any path, even an unknown one
        self.assertEqual(hg.curl(g.url("/no/such/path", scheme="https"), cacert=pki["server"]).status, 403)
        r = post("good", pki["client"], pki["client_key"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], "accepted")
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["good"])
        # the listener without client_ca asks for nothing
        body = b'{"event_id":"plain-tls"}'
        r = hg.curl(g.url("/hooks/generic", i=1, scheme="https"), body, signed(body), cacert=pki["server"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(sorted(e["id"] for e in g.wait_events(2)), ["good", "plain-tls"])
        self.assertEqual(sorted(self.stored_ids(g)), ["good", "plain-tls"])
        self.assertGreaterEqual(metrics(g, 1, scheme="https", cacert=pki["server"]).get("hookgate_requests_total", route="",
                                                                         status="403"), 3)

    def test_handshake_requests_a_client_certificate(self):
        pki = make_pki(self.tmp)
        g = self.gateway(hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0", "tls": {"cert": pki["server"], "key": pki["server_key"], "client_ca": pki["ca"]}},
            {"address": "127.0.0.1:0", "tls": {"cert": pki["server"], "key": pki["server_key"]}},
        ]))
        marks = ("Acceptable client certificate CA names", "Client Certificate Types")
        for i, asked in ((0, True), (1, False)):
            for flag in ("-tls1_2", "-tls1_3"):
                with self.subTest(listener=i, version=flag):
                    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{g.ports[i]}", flag,
                                        "-CAfile", pki["server"], "-servername", "localhost"],
                                       input=b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                                       capture_output=True, timeout=30)
                    out = (p.stdout + p.stderr).decode(errors="replace")
                    self.assertIn("Verify return code: 0 (ok)", out)
                    if asked:
                        self.assertTrue(any(m in out for m in marks), out)
                        self.assertIn("CN = hookgate test client CA", out.split(marks[0])[-1] if marks[0] in out else out)
                    else:
                        self.assertFalse(any(m in out for m in marks), out)

    # ---- 4. source address allow-list ---------------------------------------------

    def test_allow_list_refuses_other_source_addresses(self):
        routes = [{"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": ["out"],
                   "allow": ["127.0.0.1/32"]}]
        g = self.gateway(hg.basic_config(self.tmp, routes=routes))
        r = self.post(g, b'{"event_id":"from-other"}', source=OTHER_ADDR)
        self.assertEqual(r.status, 403, r.body)
        r = self.post(g, b'{"event_id":"from-allowed"}', source="127.0.0.1")
        self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["from-allowed"])
        self.assertEqual(self.stored_ids(g), ["from-allowed"])
        m = metrics(g)
        self.assertEqual(m.get("hookgate_requests_total", route="generic", status="403"), 1)
        self.assertEqual(m.get("hookgate_verify_failures_total", route="generic",
                               reason="source address not in allow"), 1)
        self.assertTrue(any(l.get("level") in ("warn", "info") and OTHER_ADDR in json.dumps(l) for l in g.logs()),
                        "the refused address is logged")

    # ---- 5. rate and connection limits --------------------------------------------

    def test_rate_limit_per_source_address(self):
        # 0.05/s: the bucket refills one token every 20 s, so however slowly
        # this machine runs the requests, the fourth one finds it empty
        g = self.gateway(hg.basic_config(self.tmp, limits={"rate_per_ip": 0.05, "rate_burst": 3}))
        for i in range(3):
            r = self.post(g, b'{"event_id":"rl-%d"}' % i)
            self.assertEqual(r.status, 200, f"request {i}: {r.body}")
        r = self.post(g, b'{"event_id":"rl-limited"}')
        self.assertEqual(r.status, 429, r.body)
        self.assertEqual(json.loads(r.body), {"error": "too many requests"})
        self.assertRegex(r.headers.get("retry-after", ""), r"^[1-9][0-9]*$")
        self.assertLessEqual(int(r.headers["retry-after"]), 20)
        # a wrong signature is limited too (the limit comes before any work)
        self.assertEqual(self.post(g, b'{"event_id":"rl-bad"}', secret="wrong").status, 429)
        # health probes are never limited; /metrics reads the store on every
        # scrape, so it draws on the same bucket as the address's requests
        for _ in range(5):
            self.assertEqual(hg.curl(g.url("/healthz")).status, 200)
            self.assertEqual(hg.curl(g.url("/readyz")).status, 200)
        self.assertEqual(hg.curl(g.url("/metrics")).status, 429)
        m = metrics(g, source=OTHER_ADDR)
        self.assertEqual(m.total("hookgate_requests_total", status="429"), 2, m.all("hookgate_requests_total"))
        self.assertEqual(m.total("hookgate_requests_total", status="200"), 3)
        self.assertEqual(m.total("hookgate_verify_failures_total"), 0)
        # another source address has its own bucket
        r = self.post(g, b'{"event_id":"rl-other"}', source=OTHER_ADDR)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(sorted(e["id"] for e in g.wait_events(4)), ["rl-0", "rl-1", "rl-2", "rl-other"])
        self.assertNotIn("rl-limited", self.stored_ids(g))

    def test_rate_burst_default_is_twice_the_rate(self):
        """rate_per_ip 0.05 and no rate_burst: the bucket holds max(1, 0.1) = 1."""
        g = self.gateway(hg.basic_config(self.tmp, limits={"rate_per_ip": 0.05}))
        self.assertEqual(self.post(g, b'{"event_id":"rb-0"}').status, 200)
        self.assertEqual(self.post(g, b'{"event_id":"rb-1"}').status, 429)

    def test_no_rate_limit_by_default(self):
        g = self.gateway(hg.basic_config(self.tmp))
        for i in range(30):
            self.assertEqual(self.post(g, b'{"event_id":"nl-%d"}' % i).status, 200)

    def test_max_connections_per_ip(self):
        g = self.gateway(hg.basic_config(self.tmp, limits={"max_connections_per_ip": 5, "request_timeout": "60s"}))
        held = []
        try:
            for _ in range(5):
                s = raw_socket(g.ports[0], "127.0.0.1")
                s.sendall(PARTIAL)
                held.append(s)
            # a sixth connection from the same address gets no 200
            r = self.post(g, b'{"event_id":"cx-6th"}', source="127.0.0.1", timeout=20)
            self.assertNotEqual(r.status, 200, r.body)
            self.assertIn(r.status, (429, 0), r.body)
            if r.status == 429:  # else the gateway closed the connection without an answer
                self.assertEqual(r.headers.get("retry-after"), "1")
                self.assertEqual(json.loads(r.body), {"error": "too many requests"})
                self.assertEqual(metrics(g, source=OTHER_ADDR).total("hookgate_requests_total", status="429"), 1)
            # another address is not affected
            r = self.post(g, b'{"event_id":"cx-other"}', source=OTHER_ADDR)
            self.assertEqual(r.status, 200, r.body)
        finally:
            for s in held:
                s.close()
        # once the held connections are closed, the address may connect again
        n = [0]

        def retry():
            n[0] += 1
            return self.post(g, b'{"event_id":"cx-after-%d"}' % n[0], source="127.0.0.1").status == 200
        self.assertTrue(hg.wait_for(retry))
        ids = self.stored_ids(g)
        self.assertNotIn("cx-6th", ids)
        self.assertIn("cx-other", ids)

    # ---- 6. slowloris ---------------------------------------------------------------

    def test_slowloris_connections_do_not_block_a_producer(self):
        # all 200 from one address: the per-address cap (64 by default) is
        # off here so that they are really held (test_lockout.py: with it on)
        g = self.gateway(hg.basic_config(self.tmp, limits={"max_connections": 1024, "request_timeout": "60s",
                                                           "max_connections_per_ip": 0}))
        socks, stop = [], threading.Event()
        try:
            for _ in range(200):
                s = raw_socket(g.ports[0], OTHER_ADDR)
                s.sendall(b"POST /hooks/generic HTTP/1.1\r\n")
                socks.append(s)

            def drip():  # one more header byte per connection every second
                while not stop.wait(1.0):
                    for s in socks:
                        try:
                            s.sendall(b"X")
                        except OSError:
                            pass
            t = threading.Thread(target=drip, daemon=True)
            t.start()
            r = self.post(g, b'{"event_id":"not-starved","event":"order.created"}', source="127.0.0.1", timeout=10)
            self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
            self.assertEqual(hg.curl(g.url("/healthz"), timeout=10).status, 200)
            # the slow connections were really held open, not refused
            alive = 0
            for s in socks:
                try:
                    s.sendall(b"Y")
                    alive += 1
                except OSError:
                    pass
            self.assertGreater(alive, 150)
        finally:
            stop.set()
            for s in socks:
                s.close()
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["not-starved"])

    # ---- 7. oversized request heads -------------------------------------------------

    def test_oversized_headers_refused_nothing_stored(self):
        g = self.gateway(hg.basic_config(self.tmp))
        body = b'{"event_id":"big-header"}'
        r = self.post(g, body, headers={"X-Pad": "a" * 65536})
        self.assertGreaterEqual(r.status, 400, r.body)
        self.assertLess(r.status, 500, r.body)
        # under the default 16KiB a large header is fine
        r = self.post(g, b'{"event_id":"ok-header"}', headers={"X-Pad": "a" * 8192})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["ok-header"])
        self.assertEqual(self.stored_ids(g), ["ok-header"])

    def test_max_header_size_configurable(self):
        g = self.gateway(hg.basic_config(self.tmp, limits={"max_header_size": "4KiB"}))
        r = self.post(g, b'{"event_id":"too-big"}', headers={"X-Pad": "a" * 8192})
        self.assertGreaterEqual(r.status, 400, r.body)
        self.assertLess(r.status, 500, r.body)
        r = self.post(g, b'{"event_id":"small"}', headers={"X-Pad": "a" * 1024})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.stored_ids(g), ["small"])

    # ---- 8. world-readable secrets and data_dir ------------------------------------

    def test_world_readable_secret_file_refused(self):
        secret = os.path.join(self.tmp, "secret")
        with open(secret, "w") as f:
            f.write("generic-secret\n")
        for key, mutate in (("$.routes[0].secrets[0]", lambda r: r.update(secrets=["file:" + secret])),
                            ("$.routes[0].token", lambda r: r.update(token="file:" + secret))):
            with self.subTest(key):
                cfg = hg.basic_config(self.tmp)
                mutate(cfg["routes"][0])
                path = self.write_config(cfg)
                os.chmod(secret, 0o644)
                p = run("check", "-c", path)
                self.assertEqual(p.returncode, 1, p.stdout)
                self.assertIn(key + ": ", p.stderr)
                self.assertIn("is readable by other users; chmod o-r", p.stderr)
                self.assertNotIn("generic-secret", p.stderr)
                p = run("serve", "-c", path)
                self.assertEqual(p.returncode, 1)
                self.assertIn("is readable by other users", p.stderr)
                for mode in (0o600, 0o640, 0o400):
                    os.chmod(secret, mode)
                    p = run("check", "-c", path)
                    self.assertEqual(p.returncode, 0, f"{mode:o}: {p.stderr}")

    def test_world_readable_data_dir_refused(self):
        data = os.path.join(self.tmp, "data")
        os.mkdir(data)
        os.chmod(data, 0o755)
        cfg = hg.basic_config(self.tmp)
        path = self.write_config(cfg)
        p = run("serve", "-c", path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(data, p.stderr)
        self.assertIn("data_dir is readable by other users", p.stderr)
        for f in ("data.mdb", "lock.mdb"):  # no store was created in it
            self.assertFalse(os.path.exists(os.path.join(data, f)), f)
        # the control: the same directory without o+r serves
        os.chmod(data, 0o700)
        g = self.gateway(cfg)
        self.assertEqual(self.post(g, b'{"event_id":"dd-ok"}').status, 200)

    # ---- 9. user --------------------------------------------------------------------

    def nobody(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (the gateway drops privileges only when started as root)")
        try:
            return pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user \"nobody\" on this machine")

    def test_user_drops_root_privileges(self):
        nb = self.nobody()
        os.chmod(self.tmp, 0o711)  # nobody may traverse to data_dir, not list the test's files
        g = self.gateway(hg.basic_config(self.tmp, user="nobody"))

        def ids():
            with open(f"/proc/{g.proc.pid}/status") as f:
                st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
            return [int(x) for x in st["Uid"].split()], [int(x) for x in st["Gid"].split()], st["Groups"].split()

        uids, gids, groups = hg.wait_for(lambda: ids()[0] == [nb.pw_uid] * 4 and ids()) or ids()
        self.assertEqual(uids, [nb.pw_uid] * 4)  # real, effective, saved, fs
        self.assertEqual(gids, [nb.pw_gid] * 4)
        self.assertNotIn("0", groups)
        r = self.post(g, b'{"event_id":"as-nobody","event":"order.created"}')
        self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["as-nobody"])
        data = os.path.join(self.tmp, "data")
        self.assertEqual(os.stat(data).st_uid, nb.pw_uid)
        for f in os.listdir(data):
            st = os.stat(os.path.join(data, f))
            self.assertEqual(st.st_uid, nb.pw_uid, f)
            self.assertEqual(st.st_mode & 0o077, 0, f)
        self.assertEqual(hg.curl(g.url("/readyz")).status, 200)  # the store is writable as nobody
        self.assertEqual(g.stop(), 0)

    def test_user_never_follows_links_as_root(self):
        """Root never opens a file inside data_dir: a symlink the service user
        planted there (lock.mdb -> a root-only file) is opened as that user,
        and the root-only file stays untouched."""
        nb = self.nobody()
        os.chmod(self.tmp, 0o711)
        victim = os.path.join(self.tmp, "victim")
        with open(os.open(victim, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("root-only content\n")
        data = os.path.join(self.tmp, "data")
        os.mkdir(data, 0o700)
        os.chown(data, nb.pw_uid, nb.pw_gid)
        os.symlink(victim, os.path.join(data, "lock.mdb"))
        os.symlink(victim, os.path.join(data, "writer.lock"))
        p = run("serve", "-c", self.write_config(hg.basic_config(self.tmp, user="nobody")))
        self.assertNotEqual(p.returncode, 0)  # the store cannot be opened through the links as nobody
        with open(victim) as f:
            self.assertEqual(f.read(), "root-only content\n")
        self.assertEqual(os.stat(victim).st_uid, 0)

    def test_user_existing_data_dir_of_root_refused(self):
        """An existing data_dir that does not belong to the user is refused
        (root does not chown a directory it did not create)."""
        self.nobody()
        os.chmod(self.tmp, 0o711)
        data = os.path.join(self.tmp, "data")
        os.mkdir(data, 0o700)
        p = run("serve", "-c", self.write_config(hg.basic_config(self.tmp, user="nobody")))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("data_dir must belong to the user", p.stderr)
        self.assertEqual(os.stat(data).st_uid, 0)

    def test_user_unknown_refused(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        cfg = hg.basic_config(self.tmp, user="hg-no-such-user")
        p = run("serve", "-c", self.write_config(cfg))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("hg-no-such-user", p.stderr)

    def test_user_must_be_the_current_one_when_not_root(self):
        nb = self.nobody()
        d = os.path.join(self.tmp, "nb")
        os.mkdir(d, 0o700)
        os.chown(d, nb.pw_uid, nb.pw_gid)
        os.chmod(self.tmp, 0o711)
        # a copy of the binary nobody can run: the checkout may sit in a
        # directory only root can enter (a clone in a mktemp -d folder)
        binary = os.path.join(self.tmp, "hookgate")
        shutil.copy(hg.BIN, binary)
        os.chmod(binary, 0o755)

        def serve_as_nobody(user):
            cfg = hg.basic_config(d, user=user)
            path = os.path.join(d, "c.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            os.chown(path, nb.pw_uid, nb.pw_gid)
            return subprocess.Popen([binary, "serve", "-c", path], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, cwd=d,
                                    env=dict(os.environ, **hg.ENV), user=nb.pw_uid, group=nb.pw_gid,
                                    extra_groups=[])

        p = serve_as_nobody("root")
        try:
            _, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("root", err)
        self.assertRegex(err, r"\buser\b")
        # naming the user it already runs as is fine
        p = serve_as_nobody("nobody")
        try:
            started = False
            for line in p.stderr:
                if '"hookgate started"' in line:
                    started = True
                    break
            self.assertTrue(started)
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stderr.close()

    # ---- shutdown_timeout -------------------------------------------------------------

    def test_shutdown_timeout_and_clean_exit(self):
        """SIGTERM with a request stuck mid-body (and a request_timeout of 1h
        that would keep it open): the gateway gives up on it after
        shutdown_timeout and exits 0; what it acknowledged is in the store."""
        cfg = hg.basic_config(self.tmp, shutdown_timeout="1s", limits={"request_timeout": "1h"})
        g = self.gateway(cfg)
        self.assertEqual(self.post(g, b'{"event_id":"sd-1"}').status, 200)
        g.wait_events(1)
        stuck = raw_socket(g.ports[0])
        body = b'{"event_id":"sd-stuck"}'
        stuck.sendall(b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"X-Webhook-Signature: " + hg.sign_generic("generic-secret", body).encode() +
                      b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
        try:
            self.assertEqual(hg.curl(g.url("/healthz")).status, 200)  # the stuck request was accepted in
            self.assertEqual(g.stop(), 0)  # not killed after hg's 20 s wait, not a crash
        finally:
            stuck.close()
        self.assertEqual(g.logs()[-1].get("msg"), "stopped")
        g2 = self.gateway(cfg)
        r = self.post(g2, b'{"event_id":"sd-1"}')
        self.assertEqual(r.json()["status"], "duplicate")  # the store survived the clean stop
        self.assertNotIn("sd-stuck", self.stored_ids(g2))

if __name__ == "__main__":
    hg.main()
