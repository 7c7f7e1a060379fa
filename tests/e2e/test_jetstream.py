"""The jetstream sink: hookgate publishes each stored event to real NATS
JetStream servers (nats-server processes started by natsctl.py on free
ports, one node or a 3-node cluster), and the stream is read back with
tests/tools/js_read.c (libnats), compiled when the module runs.

Covered: events arrive once each with the subject (route and type filled
in, sanitised so that no event can publish to a wildcard), the Nats-Msg-Id
ROUTE:ID, the Hookgate-Seq and Hookgate-Attempt headers and the envelope
as payload; the stream is
created with subjects "hooks.>", the replicas and the duplicate window; a
node of a replicas=3 cluster killed in the middle of a 2,000-event burst
loses and duplicates nothing; with the whole cluster down the gateway keeps
answering 200 (the store is the outbox), the backlog gauges rise, and
everything arrives once after the cluster comes back; a gateway killed with
SIGKILL mid-burst and restarted on its data dir leaves each event once in
the stream (Msg-Id dedupe), and so does a replay of events already
published; an existing stream with other settings stops the start with an
error naming the setting; with no NATS server up at all the gateway still
starts, and publishes once one is.  Outages: an outage longer than all
retries, and a connection libnats closed for good (the server refused the
password for a while), dead-letter nothing and lose nothing; a deferred
stream check that fails logs once, not every 100 ms; a black-holed server
delays the start by about 1 s per connection, not 4 s.

The whole module is skipped, saying why, when nats-server or libnats
(pkg-config libnats) is missing.  Harness checks the harness itself
(natsctl + js_read against real servers, without hookgate), so a broken
tool is not mistaken for a broken sink.
"""
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

import hg
import natsctl
import test_ops

MISSING = natsctl.missing()
_BUILD = {}


def js_read():
    """A natsctl.JsRead on js_read compiled once for this run."""
    if "js" not in _BUILD:
        d = tempfile.mkdtemp(prefix="hg-jsread-")
        _BUILD["dir"] = d
        _BUILD["js"] = natsctl.JsRead(natsctl.build_js_read(d))
    return _BUILD["js"]


def tearDownModule():
    if "dir" in _BUILD:
        shutil.rmtree(_BUILD["dir"], ignore_errors=True)


def body_of(eid, typ, n=1):
    return json.dumps({"event_id": eid, "event": typ, "n": n}).encode()


class Poster:
    """Posts generic-profile events over kept-alive HTTP/1.1 connections
    from several threads; .status[id] is the answer (0: no answer)."""

    def __init__(self, port, threads=8):
        self.port, self.threads = port, threads
        self.status = {}
        self.lock = threading.Lock()
        self.ok = 0
        self.ok_cond = threading.Condition(self.lock)

    def _one(self, conn, eid, typ):
        body = body_of(eid, typ)
        h = {"Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic("generic-secret", body)}
        for attempt in range(2):  # a kept-alive connection the server closed: once more on a new one
            try:
                if conn[0] is None:
                    conn[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn[0].request("POST", "/hooks/generic", body, h)
                r = conn[0].getresponse()
                r.read()
                if r.getheader("Connection", "").lower() == "close":
                    conn[0].close()
                    conn[0] = None
                return r.status
            except (OSError, http.client.HTTPException):
                if conn[0] is not None:
                    conn[0].close()
                conn[0] = None
        return 0

    def run(self, ids, typ="order.created"):
        """Post every id (blocking); returns {id: status}."""
        chunks = [ids[i::self.threads] for i in range(self.threads)]

        def worker(chunk):
            conn = [None]
            for eid in chunk:
                st = self._one(conn, eid, typ)
                with self.lock:
                    self.status[eid] = st
                    if st == 200:
                        self.ok += 1
                        self.ok_cond.notify_all()
            if conn[0] is not None:
                conn[0].close()

        ts = [threading.Thread(target=worker, args=(c,), daemon=True) for c in chunks]
        for t in ts:
            t.start()
        self._threads = ts
        return self

    def wait_ok(self, n):
        """Block until n posts were answered 200 or every post is answered."""
        with self.lock:
            self.ok_cond.wait_for(lambda: self.ok >= n or not any(t.is_alive() for t in self._threads), 600)
            return self.ok

    def join(self):
        for t in self._threads:
            t.join(600)
        return self.status


@unittest.skipIf(MISSING, MISSING)
class Harness(unittest.TestCase):
    """natsctl and js_read on their own, against real nats-servers."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hg-nats-")
        self.js = js_read()
        self.clusters = []

    def tearDown(self):
        for c in self.clusters:
            c.stop_all(signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cluster(self, n):
        c = natsctl.Cluster(self.tmp, n)
        self.clusters.append(c)
        return c.start()

    def test_single_node_roundtrip_and_dedupe(self):
        c = self.cluster(1)
        u = c.url_list()
        self.assertIsNone(self.js.info(u, "T"))  # exit 3: no such stream
        self.js.add(u, "T", ["t.>"], 1, 60000)
        info = self.js.info(u, "T")
        self.assertEqual((info["subjects"], info["replicas"], info["duplicates_ns"]), ("t.>", "1", "60000000000"))
        tricky = '{"a":"tab\there","nl":"x\ny","bs":"\\\\n"}'
        self.assertEqual(self.js.pub(u, "t.one", "m1", tricky), (1, False))
        self.assertEqual(self.js.pub(u, "t.one", "m1", "other"), (1, True))  # same Msg-Id: dropped
        self.assertEqual(self.js.pub(u, "t.two.x", "-", "no id"), (2, False))
        self.assertEqual(self.js.messages(u, "T"),
                         [(1, "t.one", "m1", tricky), (2, "t.two.x", "-", "no id")])
        self.assertEqual(self.js.headers(u, "T", 1), {"Nats-Msg-Id": ["m1"]})

    def test_cluster_survives_a_killed_leader_and_restarts(self):
        c = self.cluster(3)
        self.assertEqual(len({nd.meta_leader() for nd in c.nodes}), 1)
        self.js.add(c.url_list(), "R", ["r.>"], 3, 60000)
        self.js.pub(c.url_list(), "r.a", "x1", "one")
        leader = self.js.info(c.url_list(), "R")["leader"]
        self.assertIn(leader, {"n1", "n2", "n3"})
        c.node(leader).kill()
        self.assertFalse(c.node(leader).running())
        self.assertEqual(self.js.messages_when_readable(c.url_list(), "R"), [(1, "r.a", "x1", "one")])
        c.restart()
        self.assertTrue(all(nd.running() for nd in c.nodes))
        c.stop_all()
        c.start()  # same store dirs: the stream and its message are back
        self.assertEqual(self.js.messages_when_readable(c.url_list(), "R"), [(1, "r.a", "x1", "one")])


@unittest.skipIf(MISSING, MISSING)
class JetStreamSink(hg.GatewayTest):
    SUBJECT = "hooks.{route}.{type}"

    def setUp(self):
        super().setUp()
        self.js = js_read()
        self.clusters = []

    def tearDown(self):
        for g in self.gws:  # the gateways first, so none is publishing while the servers go
            if g.proc:
                g.stop(signal.SIGKILL)
        for c in self.clusters:
            c.stop_all(signal.SIGKILL)
        super().tearDown()

    # ---- helpers -------------------------------------------------------------

    def cluster(self, n=1):
        c = natsctl.Cluster(self.tmp, n)
        self.clusters.append(c)
        return c.start()

    def sink(self, c, replicas=1, stream="HOOKS", subject=None, **kw):
        s = {"type": "jetstream", "servers": c.urls(), "subject": subject or self.SUBJECT,
             "stream": {"name": stream, "create": True, "replicas": replicas, "duplicate_window": "2m"},
             "window": 256, "timeout": "2s"}
        s.update(kw)
        return s

    def config(self, sink, tmp=None):
        cfg = hg.basic_config(tmp or self.tmp)
        cfg["sinks"] = {"js": sink}
        for r in cfg["routes"]:
            r["sinks"] = ["js"]
        cfg["retry"] = {"max_attempts": 1000, "initial": "50ms", "max": "1s"}
        return cfg

    def start(self, c, **kw):
        return self.gateway(self.config(self.sink(c, **kw)))

    def post(self, g, eid, typ="order.created"):
        r = hg.curl(g.url("/hooks/generic"), body_of(eid, typ),
                    {"Content-Type": "application/json",
                     "X-Webhook-Signature": hg.sign_generic("generic-secret", body_of(eid, typ))})
        self.assertEqual(r.status, 200, r.body)

    def count(self, c, stream="HOOKS"):
        """Messages in the stream, or -1 while it cannot be asked."""
        try:
            info = self.js.info(c.url_list(), stream)
        except (RuntimeError, subprocess.TimeoutExpired):
            return -1
        return int(info["msgs"]) if info else -1

    def wait_count(self, c, n, timeout=180, stream="HOOKS"):
        """Wait until the stream holds at least n messages; returns the count
        (so an assertion shows how many there were when it never got there)."""
        hg.wait_for(lambda: self.count(c, stream) >= n, timeout)
        return self.count(c, stream)

    def metric(self, g, name):
        return test_ops.metrics(g).get(name, sink="js")

    def assert_each_once(self, msgs, ids, route="generic", typ="order.created"):
        """msgs (from js_read) hold exactly one message per id in ids, each
        with its subject, Nats-Msg-Id and envelope."""
        got = {}
        for seq, subject, mid, payload in msgs:
            got.setdefault(mid, []).append((seq, subject, payload))
        want = {f"{route}:{i}" for i in ids}
        dups = {k: len(v) for k, v in got.items() if len(v) > 1}
        self.assertEqual(dups, {}, "Msg-Ids stored more than once")
        missing, extra = want - set(got), set(got) - want
        self.assertEqual((sorted(missing)[:20], len(missing)), ([], 0), "acknowledged events not in the stream")
        self.assertEqual(sorted(extra)[:20], [], "messages nobody posted")
        for mid, [(seq, subject, payload)] in got.items():
            self.assertEqual(subject, f"hooks.{route}.{typ}", mid)
            self.assertNotIn("\n", payload)
            ev = json.loads(payload)
            self.assertEqual(f"{ev['hookgateroute']}:{ev['id']}", mid)
            self.assertEqual(ev["type"], typ)

    # ---- (a) single node ---------------------------------------------------

    def test_producer_id_cannot_preclaim_a_body_hash_in_the_stream(self):
        """Issue 15 item 8 through the stream: on an id_fallback route, a
        signed body whose id is sha256:<hex of body X>, then X itself (whose
        derived id is that same text). The store keeps both (separate dedupe
        namespaces); the stream must keep both too, so their Nats-Msg-Ids
        differ, and a retry of either is still one message."""
        pdir = os.path.join(self.tmp, "profiles")
        os.mkdir(pdir)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas",
                               "profiles", "generic.json")) as f:
            prof = json.load(f)
        prof.update(name="generic-fallback", id_fallback="body_sha256")
        with open(os.path.join(pdir, "generic-fallback.json"), "w") as f:
            json.dump(prof, f)
        c = self.cluster(1)
        cfg = self.config(self.sink(c))
        cfg["profile_dirs"] = [pdir]
        cfg["routes"] = [{"path": "/hooks/fb", "profile": "generic-fallback",
                          "secrets": ["env:T_SECRET"], "sinks": ["js"]}]
        g = self.gateway(cfg, env={"T_SECRET": "fallback-secret-0123456789"})
        body = b'{"event":"order.created","n":1}'
        derived = "sha256:" + hashlib.sha256(body).hexdigest()
        claim = json.dumps({"event_id": derived, "event": "evil"}).encode()
        for b in (claim, body, claim, body):  # the second pair: producer retries
            r = hg.curl(g.url("/hooks/fb"), b, {"Content-Type": "application/json",
                                                "X-Webhook-Signature": hg.sign_generic(
                                                    "fallback-secret-0123456789", b)})
            self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.wait_count(c, 2), 2)
        m = hg.wait_for(lambda: (lambda m: m if m.get("hookgate_backlog_events", sink="js") == 0 else None)(
            test_ops.metrics(g)))
        self.assertIsNotNone(m, "the backlog never drained")
        msgs = self.js.messages(c.url_list(), "HOOKS")
        self.assertEqual(sorted(json.loads(x[3])["type"] for x in msgs), ["evil", "order.created"])
        self.assertEqual(len({x[2] for x in msgs}), 2, msgs)
        self.assertTrue(all(x[2].startswith("fb:" + derived + ":") for x in msgs), msgs)

    def test_single_node_each_event_once_with_subject_id_and_envelope(self):
        c = self.cluster(1)
        g = self.start(c)
        info = self.js.info(c.url_list(), "HOOKS")  # created at start
        self.assertIsNotNone(info, "the stream was not created at start")
        self.assertEqual((info["subjects"], info["replicas"], info["duplicates_ns"], info["storage"]),
                         ("hooks.>", "1", str(120 * 10**9), "file"))
        ids = [f"evt_a{i}" for i in range(20)]
        for i in ids:
            self.post(g, i)
        self.post(g, ids[0])  # the producer retries: hookgate stores it once
        iex = json.dumps({"order": 7}).encode()
        r = hg.curl(g.url("/hooks/iex"), iex, hg.iex_headers("iex-new-secret", iex, "iex_1", "invoice.paid"))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.wait_count(c, 21), 21)
        msgs = self.js.messages(c.url_list(), "HOOKS")
        self.assertEqual(len(msgs), 21)
        self.assert_each_once([m for m in msgs if m[2].startswith("generic:")], ids)
        self.assertEqual([(m[1], m[2]) for m in msgs if not m[2].startswith("generic:")],
                         [("hooks.iex.invoice.paid", "iex:iex_1")])
        by_id = {m[2]: m for m in msgs}
        seq, subject, mid, payload = by_id["generic:evt_a3"]
        self.assertFalse(payload.endswith("\n"))
        ev = json.loads(payload)
        v = hg.event_validator()
        if v is not None:
            self.assertEqual([e.message for e in v.iter_errors(ev)], [])
        self.assertEqual((ev["specversion"], ev["id"], ev["type"], ev["source"], ev["hookgateroute"]),
                         ("1.0", "evt_a3", "order.created", "/hooks/generic", "generic"))
        self.assertEqual(ev["data"], {"event_id": "evt_a3", "event": "order.created", "n": 1})
        hdrs = self.js.headers(c.url_list(), "HOOKS", seq)
        self.assertEqual(hdrs.get("Nats-Msg-Id"), ["generic:evt_a3"])
        self.assertEqual(hdrs.get("Hookgate-Seq"), [str(ev["hookgateseq"])])
        # "SEQ.GEN": a PubAck (or its timeout) is matched to one attempt, never the next
        att = hdrs.get("Hookgate-Attempt", [""])[0]
        self.assertRegex(att, r"^%d\.[1-9][0-9]*$" % ev["hookgateseq"])
        # the metrics agree once the cursor has moved over every PubAck
        m = hg.wait_for(lambda: (lambda m: m if m.get("hookgate_backlog_events", sink="js") == 0 else None)(
            test_ops.metrics(g)))
        self.assertIsNotNone(m, "the backlog never drained")
        self.assertEqual(m.get("hookgate_delivered_total", sink="js"), 21)
        self.assertEqual(m.get("hookgate_oldest_undelivered_seconds", sink="js"), 0)

    # ---- (b) a node of a replicas=3 cluster dies mid-burst ---------------------

    def test_cluster_node_killed_mid_burst_loses_and_duplicates_nothing(self):
        c = self.cluster(3)
        g = self.start(c, replicas=3)
        info = self.js.info(c.url_list(), "HOOKS")
        self.assertEqual(info["replicas"], "3")
        leader = info["leader"]  # the stream's leader: the node whose loss hurts most
        self.assertIn(leader, {nd.name for nd in c.nodes})
        ids = [f"evt_b{i:04d}" for i in range(2000)]
        p = Poster(g.ports[0], threads=8).run(ids)
        self.assertGreaterEqual(p.wait_ok(500), 500, "fewer than 500 posts answered 200")
        c.node(leader).kill()
        status = p.join()
        ok = [i for i in ids if status.get(i) == 200]
        self.assertEqual(len(ok), 2000, {s: sum(1 for v in status.values() if v == s) for s in set(status.values())})
        n = self.wait_count(c, len(ok), timeout=300)
        self.assertEqual(n, len(ok), "stream count after the burst\n" + c.diagnostics())
        msgs = self.js.messages_when_readable(c.url_list(), "HOOKS")
        self.assert_each_once(msgs, ok)
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0, 60))
        self.assertEqual(self.metric(g, "hookgate_delivered_total"), 2000)

    # ---- (c) the whole cluster down: the store is the outbox ----------------------

    def test_cluster_down_events_accepted_backlog_rises_then_all_arrive_once(self):
        c = self.cluster(3)
        g = self.start(c, replicas=3)
        before = [f"evt_c{i}" for i in range(10)]
        for i in before:
            self.post(g, i)
        self.assertEqual(self.wait_count(c, 10), 10)
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0))
        c.stop_all()
        during = [f"evt_c{i}" for i in range(10, 60)]
        for i in during[:25]:
            self.post(g, i)  # 200 while no NATS server runs
        m = hg.wait_for(lambda: (lambda m: m if m.get("hookgate_oldest_undelivered_seconds", sink="js") > 0
                                 and m.get("hookgate_backlog_events", sink="js") >= 25 else None)(test_ops.metrics(g)))
        self.assertIsNotNone(m, "the backlog gauges did not rise: " + str(test_ops.metrics(g).samples))
        self.assertEqual(m.get("hookgate_backlog_events", sink="js"), 25)
        for i in during[25:]:
            self.post(g, i)  # still accepted
        self.assertEqual(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") >= 50
                                     and self.metric(g, "hookgate_backlog_events")), 50)
        self.assertEqual(self.metric(g, "hookgate_delivered_total"), 10)
        c.start()  # same ports and store dirs
        self.assertEqual(self.wait_count(c, 60, timeout=300), 60, c.diagnostics())
        self.assert_each_once(self.js.messages_when_readable(c.url_list(), "HOOKS"), before + during)
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0, 60))
        self.assertEqual(self.metric(g, "hookgate_oldest_undelivered_seconds"), 0)
        self.assertEqual(self.metric(g, "hookgate_delivered_total"), 60)

    def test_nats_down_at_start_the_gateway_starts_then_publishes(self):
        """No NATS server runs when hookgate starts: it starts anyway (the
        connection is retried in the background, never inside the start),
        accepts events into its store, says why it cannot publish, and
        publishes everything once NATS is up.  The route's shared dedupe
        connects the same way and must not hold up the start either."""
        c = natsctl.Cluster(self.tmp, 1)  # not started yet
        self.clusters.append(c)
        cfg = self.config(self.sink(c))
        for r in cfg["routes"]:
            r["shared_dedupe"] = {"jetstream_kv": {"bucket": "hookgate-seen"}}
        g = self.gateway(cfg)  # raises unless "hookgate started" comes within 20 s
        ids = [f"evt_down{i}" for i in range(5)]
        for i in ids:
            self.post(g, i)
        self.assertTrue([l for l in g.logs() if l.get("sink") == "js" and "NATS not" in l.get("msg", "")])
        c.start()
        self.assertEqual(self.wait_count(c, 5, timeout=120), 5, c.diagnostics())
        self.assert_each_once(self.js.messages_when_readable(c.url_list(), "HOOKS"), ids)
        self.assertEqual(g.stop(), 0, g.stderr()[-3000:])

    # ---- outages longer than the retries: nothing becomes a dead letter ----------

    def dead(self, g):
        p = subprocess.run([hg.BIN, "events", "dead", "--data", os.path.join(self.tmp, "data")],
                           capture_output=True, text=True)
        return p.stdout.splitlines()[1:]

    def small_retry(self, sink, tmp=None):
        """retry.max_attempts 2 with 100-200 ms backoffs: an outage of a few
        seconds is many times what the retries would cover."""
        cfg = self.config(sink, tmp)
        cfg["retry"] = {"max_attempts": 2, "initial": "100ms", "max": "200ms"}
        return cfg

    def test_outage_longer_than_the_retries_dead_letters_nothing(self):
        """Before the fix: the sink published into a link that was down, each
        attempt failed, and after max_attempts the events were dead letters
        while the log said they wait in the store."""
        c = self.cluster(1)
        g = self.gateway(self.small_retry(self.sink(c, timeout="1s")))
        first = [f"evt_o{i}" for i in range(5)]
        for i in first:
            self.post(g, i)
        self.assertEqual(self.wait_count(c, 5), 5)
        c.stop_all(signal.SIGKILL)
        during = [f"evt_o{i}" for i in range(5, 25)]
        for i in during:
            self.post(g, i)
        # 40 backoffs of the longest kind, and PubAck timeouts too
        self.assertIsNone(hg.wait_for(lambda: self.dead(g) or None, 8), self.dead(g))
        c.start()
        self.assertEqual(self.wait_count(c, 25, timeout=120), 25, c.diagnostics())
        self.assert_each_once(self.js.messages_when_readable(c.url_list(), "HOOKS"), first + during)
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0, 60))
        self.assertEqual(self.dead(g), [])
        self.assertEqual(self.metric(g, "hookgate_dead_letters_total"), 0)
        self.assertEqual(g.stop(), 0, g.stderr()[-3000:])

    def test_closed_connection_is_opened_again(self):
        """The server comes back refusing the password (libnats then closes
        the connection for good), later accepting it again: the sink opens a
        new connection by itself, publishes the backlog, dead-letters nothing
        and never logs the password."""
        c = natsctl.Cluster(self.tmp, 1, extra=natsctl.user_pass("hg", "pw-one-1"))
        self.clusters.append(c)
        c.start()
        nd = c.nodes[0]
        sink = self.sink(c, timeout="1s", servers=[f"nats://hg:pw-one-1@127.0.0.1:{nd.port}"])
        g = self.gateway(self.small_retry(sink))
        self.post(g, "evt_k0")
        hg.wait_for(lambda: nd.stream_msgs("HOOKS") == 1, 60)
        nd.kill()
        nd.extra = natsctl.user_pass("hg", "pw-two-2")
        nd.start()
        c.wait_ready(60)
        refused = lambda: [l for l in g.logs() if "NATS not connected" in l.get("msg", "")
                           and "Authorization Violation" in str(l.get("error"))]
        ids = [f"evt_k{i}" for i in range(1, 6)]
        for i in ids:
            self.post(g, i)
        self.assertTrue(hg.wait_for(refused, 30), g.stderr()[-3000:])
        self.assertIsNone(hg.wait_for(lambda: self.dead(g) or None, 4), self.dead(g))
        self.assertEqual(nd.stream_msgs("HOOKS"), 1)
        nd.kill()
        nd.extra = natsctl.user_pass("hg", "pw-one-1")
        nd.start()
        c.wait_ready(60)
        self.assertTrue(hg.wait_for(lambda: nd.stream_msgs("HOOKS") == 6, 60), g.stderr()[-3000:])
        self.assertTrue([l for l in g.logs() if l.get("msg") == "deliver: NATS connection opened again"])
        self.assertEqual(self.dead(g), [])
        self.assertEqual(g.stop(), 0)
        self.assertNotIn("pw-one-1", g.stderr())
        self.assertNotIn("pw-two-2", g.stderr())

    def test_deferred_stream_check_does_not_flood_the_log(self):
        """NATS down at start, then up without the stream (create: false):
        the missing stream is logged once, not every 100 ms per slot (592
        lines in 3 s before the fix); once the stream exists, it is used."""
        c = natsctl.Cluster(self.tmp, 1)  # not started yet
        self.clusters.append(c)
        sink = self.sink(c)
        sink["stream"]["create"] = False
        g = self.gateway(self.config(sink))
        for i in range(20):
            self.post(g, f"evt_f{i}")
        c.start()
        missing = lambda: [l for l in g.logs() if "stream does not exist" in l.get("msg", "")]
        self.assertTrue(hg.wait_for(missing, 30))
        hg.wait_for(lambda: len(missing()) > 1, 4)  # it must not come again
        self.assertEqual(len(missing()), 1, len(missing()))

    def test_black_holed_server_does_not_hold_up_the_start(self):
        """A server that accepts TCP and never speaks: the sink's and shared
        dedupe's connections each give up their first passes after 500 ms
        (12 s to start before the fix, with libnats' 2 s per pass)."""
        import socket
        import time
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(64)
        held = []
        threading.Thread(target=lambda: [held.append(ls.accept()) for _ in iter(int, 1)],
                         daemon=True).start()
        c = natsctl.Cluster(self.tmp, 1)
        sink = self.sink(c, servers=[f"nats://127.0.0.1:{ls.getsockname()[1]}"])
        cfg = self.config(sink)
        for r in cfg["routes"]:
            r["shared_dedupe"] = {"jetstream_kv": {"bucket": "seen"}}
        t0 = time.monotonic()
        g = self.gateway(cfg)
        took = time.monotonic() - t0
        self.assertLess(took, 6, f"start took {took:.1f} s")
        self.post(g, "evt_b1")
        g.stop(signal.SIGKILL)
        ls.close()

    # ---- (d) hookgate killed mid-burst, restarted on its data dir ----------------

    def test_gateway_sigkill_mid_burst_then_restart_each_event_once(self):
        c = self.cluster(1)
        g = self.start(c)
        ids = [f"evt_d{i:04d}" for i in range(3000)]
        p = Poster(g.ports[0], threads=8).run(ids)
        # kill -9 once part of the burst is in the stream (PubAcks on their way,
        # the cursor possibly not yet moved over them)
        self.assertGreater(self.wait_count(c, 100), 0)
        g.stop(signal.SIGKILL)
        status = p.join()
        ok = [i for i in ids if status.get(i) == 200]
        self.assertGreater(len(ok), 0)
        g.start()  # same config, same data_dir
        self.assertGreaterEqual(self.wait_count(c, len(ok)), len(ok))
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0, 60))
        msgs = self.js.messages(c.url_list(), "HOOKS")
        # a request whose answer died with the gateway may still have been
        # stored (then it is in the stream, once); every 200 must be there
        stored = {m[2].split(":", 1)[1] for m in msgs}
        self.assertEqual(set(ok) - stored, set(), "events answered 200 but not in the stream")
        self.assertLessEqual(stored, set(ids))
        self.assert_each_once(msgs, sorted(stored))
        self.post(g, "evt_d_after")  # and the restarted gateway carries on
        self.assertEqual(self.wait_count(c, len(msgs) + 1), len(msgs) + 1)

    def test_node_hangs_then_dies_then_returns_everything_arrives_once(self):
        """The server hangs (SIGSTOP) with a full window of publishes in
        flight, so none of their PubAcks ever comes; then it is killed and
        started again.  The lost publishes must not keep occupying the
        sink's window: everything arrives, once."""
        c = self.cluster(1)
        g = self.start(c)
        ids = [f"evt_h{i:03d}" for i in range(300)]
        for i in ids[:10]:
            self.post(g, i)
        self.assertEqual(self.wait_count(c, 10), 10)
        c.nodes[0].freeze()
        for i in ids[10:]:
            self.post(g, i)  # accepted: the store is the outbox
        # the publishes went out and their PubAcks are overdue
        self.assertTrue(hg.wait_for(lambda: any(l.get("error") == "jetstream: no PubAck within the timeout"
                                                for l in g.logs()), 60))
        c.nodes[0].kill()
        c.start()  # the same store dir: the 10 are still there
        n = self.wait_count(c, 300, timeout=120)
        errs = {}
        for l in g.logs():
            if l.get("error"):
                errs[l["error"]] = errs.get(l["error"], 0) + 1
        self.assertEqual(n, 300, f"stream count; the gateway's errors: {errs}")
        self.assert_each_once(self.js.messages(c.url_list(), "HOOKS"), ids)
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0, 60))

    def test_replay_of_published_events_is_deduplicated_by_msg_id(self):
        """events replay --seq 1 publishes everything again: within the
        duplicate window JetStream drops every copy, and hookgate counts the
        duplicate PubAcks as delivered."""
        c = self.cluster(1)
        g = self.start(c)
        ids = [f"evt_r{i}" for i in range(30)]
        for i in ids:
            self.post(g, i)
        self.assertEqual(self.wait_count(c, 30), 30)
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0))
        self.assertEqual(self.metric(g, "hookgate_publish_duplicates_total"), 0)
        p = subprocess.run([hg.BIN, "events", "replay", "--sink", "js", "--seq", "1", "-c", g.cfg_path],
                           capture_output=True, text=True, env=dict(os.environ, **hg.ENV))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(hg.wait_for(lambda: self.metric(g, "hookgate_publish_duplicates_total") >= 30 and
                                     self.metric(g, "hookgate_publish_duplicates_total")), 30)
        self.assertTrue(hg.wait_for(lambda: self.metric(g, "hookgate_backlog_events") == 0))
        self.assertEqual(self.count(c), 30)
        self.assert_each_once(self.js.messages(c.url_list(), "HOOKS"), ids)

    # ---- (e) an existing stream with other settings -------------------------------

    def start_error(self, g):
        """Start g, which must fail; returns its error-level log lines (JSON text)."""
        with self.assertRaises(RuntimeError):
            g.start()
        self.assertNotEqual(g.stop(), 0)
        return "\n".join(json.dumps(l) for l in g.logs() if l.get("level") == "error")

    def second_gateway(self, sink):
        d = os.path.join(self.tmp, f"g{len(self.gws)}")
        os.makedirs(d, mode=0o700)
        g = hg.Gateway(d, self.config(sink, d), hg.ENV)
        self.gws.append(g)
        return g

    def test_mismatched_replicas_stops_the_start(self):
        c = self.cluster(1)
        g1 = self.start(c, replicas=1)
        self.assertEqual(self.js.info(c.url_list(), "HOOKS")["replicas"], "1")
        g1.stop()
        # the same settings again: accepted
        g1.start()
        g1.stop()
        err = self.start_error(self.second_gateway(self.sink(c, replicas=3)))
        self.assertIn("replicas", err)
        # the stream is left as it was
        info = self.js.info(c.url_list(), "HOOKS")
        self.assertEqual((info["replicas"], info["subjects"]), ("1", "hooks.>"))

    def test_mismatched_duplicate_window_and_subjects_stop_the_start(self):
        c = self.cluster(1)
        self.start(c).stop()
        s = self.sink(c)
        s["stream"]["duplicate_window"] = "5m"
        err = self.start_error(self.second_gateway(s))
        self.assertIn("duplicate_window", err)
        self.assertNotIn("replicas", err)
        err = self.start_error(self.second_gateway(self.sink(c, subject="events.{route}.{type}")))
        self.assertIn("subjects", err)
        self.assertNotIn("duplicate_window", err)
        info = self.js.info(c.url_list(), "HOOKS")
        self.assertEqual((info["subjects"], info["duplicates_ns"]), ("hooks.>", str(120 * 10**9)))

    # ---- (f) subject sanitising ------------------------------------------------

    def test_two_instances_one_stream_each_event_once(self):
        """Two gateways, each with its own store, publishing to one stream: the
        same signed event posted to A then to B (a producer retry that the
        proxy sent elsewhere) is accepted by both and held once by the stream."""
        c = self.cluster(1)
        ga = self.start(c)
        db = os.path.join(self.tmp, "b")
        os.makedirs(db, mode=0o700)
        gb = hg.Gateway(db, self.config(self.sink(c), tmp=db), hg.ENV)
        self.gws.append(gb)
        gb.start()
        ids = ["two-%d" % i for i in range(20)]
        for eid in ids:
            self.post(ga, eid)
            self.post(gb, eid)  # B has not seen it: accepted, stored, published
        for eid in ids[:3]:  # a retry on the same instance is a local duplicate
            r = hg.curl(ga.url("/hooks/generic"), body_of(eid, "order.created"),
                        {"Content-Type": "application/json",
                         "X-Webhook-Signature": hg.sign_generic("generic-secret", body_of(eid, "order.created"))})
            self.assertEqual(r.json()["status"], "duplicate")
        self.assertTrue(hg.wait_for(lambda: self.metric(ga, "hookgate_delivered_total") >= 20 and
                                    self.metric(gb, "hookgate_delivered_total") >= 20, 60))
        self.assertEqual(self.wait_count(c, 20), 20)
        self.assert_each_once(self.js.messages_when_readable(c.url_list(), "HOOKS"), ids)
        dup = (test_ops.metrics(ga).get("hookgate_publish_duplicates_total", sink="js") +
               test_ops.metrics(gb).get("hookgate_publish_duplicates_total", sink="js"))
        self.assertEqual(dup, 20)  # the second copy of each was dropped by Msg-Id

    def test_shared_dedupe_answers_duplicate_across_instances(self):
        """With shared_dedupe, an event committed by instance A is answered
        duplicate by instance B (and not stored there); with the bucket
        unreachable, B falls back to local dedupe: accepted, logged, counted."""
        c = self.cluster(1)

        def gw(name):
            d = os.path.join(self.tmp, name)
            os.makedirs(d, mode=0o700)
            cfg = self.config(self.sink(c), tmp=d)
            for r in cfg["routes"]:
                r["shared_dedupe"] = {"jetstream_kv": {"bucket": "hookgate-seen"}}
            g = hg.Gateway(d, cfg, hg.ENV)
            self.gws.append(g)
            return g.start()
        ga, gb = gw("a"), gw("b")

        def post(g, eid):
            b = body_of(eid, "order.created")
            return hg.curl(g.url("/hooks/generic"), b, {"Content-Type": "application/json",
                                                         "X-Webhook-Signature": hg.sign_generic("generic-secret", b)})
        for i in range(5):
            r = post(ga, "sh-%d" % i)
            self.assertEqual(r.json()["status"], "accepted", r.body)
        # A records each key after its commit (a background write): wait for B to see them
        for i in range(5):
            r = hg.wait_for(lambda: (lambda x: x if x.json()["status"] == "duplicate" else None)(
                post(gb, "sh-%d" % i)), 30)
            self.assertTrue(r, "B never answered duplicate for sh-%d" % i)
        self.assertEqual(self.metric(gb, "hookgate_delivered_total"), 0)  # B stored none of them
        self.assertEqual(self.wait_count(c, 5), 5)
        self.assertEqual(test_ops.metrics(gb).get("hookgate_shared_dedupe_fallbacks_total", route="generic"), 0)
        # the bucket goes away: B accepts (its own store), says so, and counts it
        c.stop_all(signal.SIGKILL)
        r = post(gb, "sh-down")
        self.assertEqual((r.status, r.json()["status"]), (200, "accepted"), r.body)
        self.assertGreaterEqual(test_ops.metrics(gb).get("hookgate_shared_dedupe_fallbacks_total", route="generic"), 1)
        self.assertTrue([l for l in gb.logs() if l.get("msg", "").startswith("shared dedupe unavailable")])

    def test_shared_dedupe_config_errors(self):
        def check(route_extra):
            cfg = hg.basic_config(self.tmp)
            for r in cfg["routes"]:
                r.update(route_extra)
            path = os.path.join(self.tmp, "c.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            return subprocess.run([hg.BIN, "check", "-c", path], capture_output=True, text=True,
                                  env=dict(os.environ, **hg.ENV))
        # no jetstream sink on the route and no servers given
        p = check({"shared_dedupe": {"jetstream_kv": {"bucket": "seen"}}})
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.routes[0].shared_dedupe.jetstream_kv.servers: is required when the route has no jetstream sink", p.stderr)
        p = check({"shared_dedupe": {"jetstream_kv": {"bucket": "bad.name", "servers": ["nats://h:1"]}}})
        self.assertIn("$.routes[0].shared_dedupe.jetstream_kv.bucket: a bucket name is 1-64 of [A-Za-z0-9_-]", p.stderr)
        p = check({"shared_dedupe": {"redis": {}}})
        self.assertIn("$.routes[0].shared_dedupe.redis: unknown key", p.stderr)
        p = check({"shared_dedupe": {"jetstream_kv": {"bucket": "seen", "servers": ["nats://h:1"]}}})
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_subject_tokens_are_sanitised(self):
        c = self.cluster(1)
        g = self.start(c)
        cases = [("s1", "a b*c", "hooks.generic.a_b_c"),
                 ("s2", "order.created", "hooks.generic.order.created"),
                 ("s3", ">", "hooks.generic._"),
                 ("s4", "x..y", "hooks.generic.x._.y"),
                 ("s5", "a.>", "hooks.generic.a._"),
                 ("s6", " lead", "hooks.generic._lead"),  # control characters are refused at receive
                 ("s7", "*", "hooks.generic._")]
        for eid, typ, _ in cases:
            self.post(g, eid, typ)
        self.assertEqual(self.wait_count(c, len(cases)), len(cases))
        got = {m[2]: m[1] for m in self.js.messages(c.url_list(), "HOOKS")}
        self.assertEqual(got, {f"generic:{eid}": subj for eid, _, subj in cases})
        # the envelope keeps the type as the producer sent it
        msgs = {m[2]: json.loads(m[3]) for m in self.js.messages(c.url_list(), "HOOKS")}
        self.assertEqual(msgs["generic:s1"]["type"], "a b*c")

    def test_id_placeholder(self):
        c = self.cluster(1)
        g = self.start(c, subject="ev.{route}.{id}")
        self.post(g, "plain")
        self.post(g, "with space")
        self.assertEqual(self.wait_count(c, 2), 2)
        got = {m[2]: m[1] for m in self.js.messages(c.url_list(), "HOOKS")}
        self.assertEqual(got, {"generic:plain": "ev.generic.plain", "generic:with space": "ev.generic.with_space"})
        self.assertEqual(self.js.info(c.url_list(), "HOOKS")["subjects"], "ev.>")


if __name__ == "__main__":
    hg.main()
