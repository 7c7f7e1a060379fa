"""shared_dedupe against NATS servers that require authentication or TLS.

A route's shared_dedupe borrows the servers of its jetstream sink, and with
them the sink's credentials and TLS settings (gateway/natsconn.c sets up
both connections the same way).  Each case starts one real nats-server
(natsctl.py) that requires one kind of login, then two gateways, A and B,
each with its own store, publishing to it and sharing one dedupe bucket:
events accepted by A must be answered "duplicate" by B, which stores none
of them, with no fallback to local dedupe counted.

Cases: user and password in the server URL; a .creds file (an operator's
JWT accounts, generated at test time); mutual TLS with a CA, server and
client certificates generated at test time with openssl.  With wrong
credentials (or a server certificate it cannot verify) the gateway still starts and accepts events (its store is the
outbox), says why in its log ("Authorization Violation", from the sink and
from the route), counts the fallback, and stops cleanly on SIGTERM.

Before natsconn.c, shared dedupe connected without the sink's creds and
TLS settings, and libnats retried that first connect inside the call, on
the main thread, forever: the creds and mTLS cases never reached the bucket
and the gateway ignored SIGTERM; with wrong credentials it never started.

Skipped, saying why, when nats-server or libnats is missing.
"""
import os
import signal
import unittest

import hg
import natsctl
import test_ops

MISSING = natsctl.missing()


def body_of(eid):
    return ('{"event_id": "%s", "event": "order.created"}' % eid).encode()


@unittest.skipIf(MISSING, MISSING)
class SharedDedupeAuth(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.clusters = []

    def tearDown(self):
        for g in self.gws:  # the gateways first, so none is publishing while the servers go
            if g.proc:
                g.stop(signal.SIGKILL)
        for c in self.clusters:
            c.stop_all(signal.SIGKILL)
        super().tearDown()

    # ---- helpers -------------------------------------------------------------

    def cluster(self, extra):
        c = natsctl.Cluster(self.tmp, 1, extra=extra)
        self.clusters.append(c)
        return c.start()

    def gw(self, name, sink):
        """A gateway with its own store whose routes feed the jetstream sink
        and share dedupe through the bucket (servers: the sink's)."""
        d = os.path.join(self.tmp, name)
        os.makedirs(d, mode=0o700)
        cfg = hg.basic_config(d)
        cfg["sinks"] = {"js": dict({"type": "jetstream", "subject": "hooks.{route}.{type}",
                                    "stream": {"name": "HOOKS", "create": True, "duplicate_window": "2m"},
                                    "timeout": "2s"}, **sink)}
        for r in cfg["routes"]:
            r["sinks"] = ["js"]
            r["shared_dedupe"] = {"jetstream_kv": {"bucket": "hookgate-seen"}}
        cfg["retry"] = {"max_attempts": 1000, "initial": "50ms", "max": "1s"}
        g = hg.Gateway(d, cfg, hg.ENV)
        self.gws.append(g)
        return g.start()

    def post(self, g, eid):
        b = body_of(eid)
        return hg.curl(g.url("/hooks/generic"), b, {"Content-Type": "application/json",
                                                     "X-Webhook-Signature": hg.sign_generic("generic-secret", b)})

    def metric(self, g, name, **kw):
        return test_ops.metrics(g).get(name, **kw)

    def attached(self, c, g, name):
        """Post warm-up events to g until one of its keys reaches the bucket:
        shared dedupe is attached just after "hookgate started"."""
        kv = lambda: c.nodes[0].stream_msgs("KV_hookgate-seen")
        before, n = kv(), [0]

        def warm():
            n[0] += 1
            self.assertEqual(self.post(g, "warm-%s-%d" % (name, n[0])).json()["status"], "accepted")
            return hg.wait_for(lambda: kv() > before, 1)
        self.assertTrue(hg.wait_for(warm, 30), f"{name}'s shared dedupe never wrote a key: " + g.stderr()[-2000:])
        return n[0]

    def assert_shared(self, c, sink):
        """A accepts and publishes five events; B answers each duplicate."""
        ga, gb = self.gw("a", sink), self.gw("b", sink)
        warm_a, warm_b = self.attached(c, ga, "a"), self.attached(c, gb, "b")
        ids = ["auth-%d" % i for i in range(5)]
        for eid in ids:
            r = self.post(ga, eid)
            self.assertEqual(r.json()["status"], "accepted", r.body)
        # the sink reached the server with these settings: all published
        self.assertTrue(hg.wait_for(lambda: self.metric(ga, "hookgate_delivered_total", sink="js") >= 5 + warm_a, 60),
                        "A's jetstream sink did not publish: " + ga.stderr()[-2000:])
        # and A's shared dedupe did: its keys are in the bucket (written after each commit)
        self.assertTrue(hg.wait_for(lambda: c.nodes[0].stream_msgs("KV_hookgate-seen") >= 5 + warm_a + warm_b, 30),
                        "A's keys never reached the bucket: " + ga.stderr()[-2000:])
        for eid in ids:  # the first answer B gives: it never stored them itself
            r = self.post(gb, eid)
            self.assertEqual(r.json()["status"], "duplicate", r.body + gb.stderr()[-2000:])
        self.assertTrue(hg.wait_for(lambda: self.metric(gb, "hookgate_delivered_total", sink="js") >= warm_b, 30))
        self.assertEqual(self.metric(gb, "hookgate_delivered_total", sink="js"), warm_b)  # none of A's
        for g in (ga, gb):
            self.assertEqual(self.metric(g, "hookgate_shared_dedupe_fallbacks_total", route="generic"), 0)
            self.assertFalse([l for l in g.logs() if l.get("msg", "").startswith("shared dedupe unavailable")])

    def assert_refused(self, sink, why="authorization violation", secrets=()):
        """Wrong credentials: the gateway starts, accepts (local dedupe),
        counts the fallback and logs the reason (why, in the "error" field)
        without ever writing one of secrets (the wrong password) out."""
        g = self.gw("a", sink)
        n = [0]

        def post_and_count():
            # shared dedupe is attached just after "hookgate started": post until it is asked
            n[0] += 1
            r = self.post(g, "refused-%d" % n[0])
            self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
            return self.metric(g, "hookgate_shared_dedupe_fallbacks_total", route="generic") >= 1
        self.assertTrue(hg.wait_for(post_and_count, 10))
        self.assertEqual(self.post(g, "refused-1").json()["status"], "duplicate")  # local dedupe still works

        def reason(**who):
            return [l for l in g.logs() if why in str(l.get("error", "")).lower()
                    and all(l.get(k) == v for k, v in who.items())]
        # the sink says why it does not publish, and the route why it falls back
        self.assertTrue(reason(sink="js"), "the sink does not say why: " + g.stderr()[-3000:])
        self.assertTrue(reason(route="generic", msg="shared dedupe unavailable; local dedupe and Nats-Msg-Id only"),
                        "shared dedupe does not say why: " + g.stderr()[-3000:])
        self.assertEqual(self.metric(g, "hookgate_delivered_total", sink="js"), 0)
        self.assertEqual(g.stop(), 0)  # and nothing hangs: SIGTERM stops it cleanly
        out = g.stderr()
        for secret in secrets:
            self.assertNotIn(secret, out, "a password in the gateway's log")

    # ---- cases ---------------------------------------------------------------

    def test_user_and_password_in_the_url(self):
        c = self.cluster(natsctl.user_pass("hookgate", "nats-pw-1"))
        self.assert_shared(c, {"servers": [f"nats://hookgate:nats-pw-1@127.0.0.1:{c.nodes[0].port}"]})

    def test_wrong_password_fails_cleanly(self):
        c = self.cluster(natsctl.user_pass("hookgate", "nats-pw-1"))
        self.assert_refused({"servers": [f"nats://hookgate:wrong-pw@127.0.0.1:{c.nodes[0].port}"]},
                            secrets=("wrong-pw", "nats-pw-1"))

    def test_reloads_reuse_the_shared_dedupe_connection(self):
        """Reloads that leave a route's bucket, servers and credentials as
        they were reuse its shared dedupe connection: before the fix each
        reload opened another one (and a writer thread) for good, and after
        256 of them routes silently lost shared dedupe."""
        import test_reload
        c = self.cluster(natsctl.user_pass("hookgate", "nats-pw-1"))
        nd = c.nodes[0]
        g = self.gw("a", {"servers": [f"nats://hookgate:nats-pw-1@127.0.0.1:{nd.port}"]})
        self.attached(c, g, "a")
        conns = lambda: natsctl._get_json(f"http://127.0.0.1:{nd.mport}/connz")[1]["num_connections"]
        before = conns()
        for _ in range(5):
            self.assertEqual(test_reload.sighup(g)["msg"], "reload: applied")
        self.assertEqual(conns(), before)
        # still shared after the reloads
        self.attached(c, g, "a2")
        self.assertEqual(self.metric(g, "hookgate_shared_dedupe_fallbacks_total", route="generic"), 0)
        self.assertEqual(g.stop(), 0)

    def test_creds_file(self):
        op = natsctl.Operator(os.path.join(self.tmp, "operator"))
        c = self.cluster(op.args())
        self.assert_shared(c, {"servers": c.urls(), "creds": "file:" + op.creds})

    def test_creds_of_another_operator_fail_cleanly(self):
        op = natsctl.Operator(os.path.join(self.tmp, "operator"))
        c = self.cluster(op.args())
        self.assert_refused({"servers": c.urls(), "creds": op.wrong_creds})

    def test_tls_server_not_trusted_fails_cleanly(self):
        d = os.path.join(self.tmp, "pki")
        os.makedirs(d)
        f = natsctl.tls_files(d)
        c = self.cluster(natsctl.tls_args(f, verify=False))
        # a client certificate but no tls.ca: the server's certificate cannot be verified
        self.assert_refused({"servers": [f"tls://127.0.0.1:{c.nodes[0].port}"],
                             "tls": {"cert": f["client_cert"], "key": f["client_key"]}},
                            why="ssl handshake error")

    def test_mutual_tls(self):
        d = os.path.join(self.tmp, "pki")
        os.makedirs(d)
        f = natsctl.tls_files(d)
        c = self.cluster(natsctl.tls_args(f, verify=True))
        self.assert_shared(c, {"servers": [f"tls://127.0.0.1:{c.nodes[0].port}"],
                            "tls": {"ca": f["ca"], "cert": f["client_cert"], "key": f["client_key"]}})


if __name__ == "__main__":
    hg.main()
