"""Storage faults injected with tests/faults/faultfs.c (LD_PRELOAD): the
store's fdatasync/pwrite/writev/... fail with EIO or ENOSPC, from the Nth
call on or while a flag file exists.

Checked: every request from the first failure on answers 503 with
Retry-After (never 2xx); the gateway stays up, reopens the LMDB
environment after each failed commit and takes events again once the disk
is healthy; after a restart on a healthy disk every id that got a 2xx is in
the store and delivered, and no id that got a 503 is stored until it is
sent again."""
import http.client
import json
import os
import subprocess
import sys
import threading
import time

import hg

FAULTFS = os.environ.get("HG_FAULTFS", os.path.join(os.path.dirname(__file__), "../../build/libfaultfs.so"))


def body_for(eid):
    return json.dumps({"event_id": eid, "pad": "p" * 200}).encode()


class Faults(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        if not os.path.exists(FAULTFS):
            self.fail("the fault shim is not built: " + FAULTFS)
        self.flag = os.path.join(self.tmp, "fault.on")
        self.flog = os.path.join(self.tmp, "faults.log")

    def fault_env(self, **kw):
        env = {"LD_PRELOAD": os.path.abspath(FAULTFS), "HG_FAULT_PATH": os.path.join(self.tmp, "data"),
               "HG_FAULT_LOG": self.flog,
               # the sanitizer runtime wants to be first; the shim only forwards
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        env.update({"HG_FAULT_" + k.upper(): str(v) for k, v in kw.items()})
        return env

    def post(self, g, eid):
        return self.post_generic(g, body_for(eid), headers={"X-Webhook-Event-Id": eid})

    def stored_ids(self, g):
        """ids in the store, read by the CLI while nothing runs on it."""
        p = subprocess.run([hg.BIN, "events", "list", "--limit", "100000", "--data", os.path.join(self.tmp, "data")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [l.split("\t") for l in p.stdout.splitlines()[1:] if l.strip()]  # SEQ RECEIVED ROUTE ID ...
        return {r[3] for r in rows}

    def assert_503(self, r):
        self.assertEqual(r.status, 503, r.body)
        self.assertTrue(r.headers.get("retry-after", "").isdigit(), r.headers)
        self.assertNotIn("accepted", r.body)

    def window(self, ops, errno, **kw):
        """Open and close a fault window while the gateway runs."""
        g = self.gateway(self.config(), env=self.fault_env(ops=ops, errno=errno, flag=self.flag, **kw))
        ok, failed = [], []
        r = self.post(g, "before-1")
        self.assertEqual(r.status, 200, r.body)
        ok.append("before-1")
        open(self.flag, "w").close()
        for i in range(4):
            r = self.post(g, "during-%d" % i)
            self.assert_503(r)
            failed.append("during-%d" % i)
        self.assertEqual(self.req(g, "/readyz").status, 503)
        # liveness holds: the store reopened and can recover by itself
        self.assertEqual(self.req(g, "/healthz").status, 200)
        os.unlink(self.flag)
        for i in range(3):
            r = self.post(g, "after-%d" % i)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["status"], "accepted")
            ok.append("after-%d" % i)
        self.assertEqual(self.req(g, "/readyz").status, 200)
        logs = g.logs()
        self.assertTrue(any(l.get("msg") == "store: commit failed; answering 503" for l in logs))
        with open(self.flog) as f:
            injected = f.read().splitlines()
        self.assertTrue(injected, "the shim injected no fault")
        self.assertTrue(all(l.split()[1] == errno for l in injected), injected[:3])
        got = {e["id"] for e in g.wait_events(len(ok))}
        self.assertEqual(got, set(ok))
        self.assertEqual(g.stop(), 0, g.stderr()[-2000:])
        # a restart on a healthy disk: exactly the acknowledged ids are stored
        self.assertEqual(self.stored_ids(g), set(ok))
        g2 = self.gateway(self.config())
        for eid in failed:  # never stored, so not a duplicate when resent
            r = self.post(g2, eid)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["status"], "accepted", eid)
        for eid in ok:
            r = self.post(g2, eid)
            self.assertEqual(r.json()["status"], "duplicate", eid)

    def test_fdatasync_eio_window(self):
        self.window("fdatasync", "EIO")

    def test_page_writes_eio_window(self):
        self.window("pwrite,writev", "EIO")

    def test_meta_page_write_eio_window(self):
        # a failed write of the meta page makes LMDB refuse every later
        # transaction (MDB_PANIC) until the environment is reopened
        self.window("pwrite", "EIO", maxoff=8192)

    def test_every_write_enospc_window(self):
        self.window("all", "ENOSPC")

    def test_nth_sync_fails_under_load(self):
        """From the 40th fdatasync on every sync fails: 16 connections keep
        posting; nothing answered after the first 503 is a 2xx, and a
        restart on a healthy disk has every 2xx and no 503."""
        g = self.gateway(self.config(), env=self.fault_env(ops="fdatasync,fsync", errno="EIO", after=40))
        results, lock = [], threading.Lock()
        first_503 = []

        def client(t):
            c = http.client.HTTPConnection("127.0.0.1", g.ports[0], timeout=30)
            for i in range(60):
                eid = "load-%d-%d" % (t, i)
                body = body_for(eid)
                sent = time.monotonic()
                c.request("POST", "/hooks/generic", body, {
                    "Content-Type": "application/json", "X-Webhook-Event-Id": eid,
                    "X-Webhook-Signature": hg.sign_generic("generic-secret", body)})
                resp = c.getresponse()
                data = resp.read()
                got = time.monotonic()
                with lock:
                    if resp.status == 503 and not first_503:
                        first_503.append(got)
                    results.append((eid, sent, resp.status, resp.getheader("Retry-After"), data))
            c.close()

        threads = [threading.Thread(target=client, args=(t,)) for t in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(len(results), 16 * 60)
        ok = {r[0] for r in results if r[2] == 200}
        failed = {r[0] for r in results if r[2] == 503}
        self.assertTrue(ok and failed, "the fault was not reached under load: %d ok" % len(ok))
        print("\n  fault injection under load: %d requests, %d 2xx, %d 503" % (len(results), len(ok), len(failed)),
              file=sys.stderr)
        for eid, sent, status, retry, data in results:
            self.assertIn(status, (200, 503), data)
            if status == 503:
                self.assertTrue(retry and retry.isdigit(), (eid, retry))
            else:
                self.assertEqual(json.loads(data)["status"], "accepted")
            if sent > first_503[0]:
                self.assertEqual(status, 503, "a 2xx after the first failure: %s" % eid)
        self.assertEqual(g.stop(), 0, g.stderr()[-2000:])
        self.assertEqual(self.stored_ids(g), ok)
        g2 = self.gateway(self.config())
        delivered = {e["id"] for e in g2.wait_events(len(ok))}
        self.assertTrue(ok <= delivered, sorted(ok - delivered)[:5])
        for eid in sorted(failed)[:50]:
            r = self.post(g2, eid)
            self.assertEqual(r.json()["status"], "accepted", eid)

    # -- regressions from the review of the reopen (each failed before its fix) --

    def pruned(self, g, n):
        """n events delivered and retention has deleted them all."""
        self.assertEqual(len(g.wait_events(n)), n)
        self.assertTrue(hg.wait_for(lambda: sum(l.get("events", 0) for l in g.logs()
                                                if l.get("msg") == "store: retention sweep") >= n - 1, 30))

    def test_seq_never_reused_after_retention_and_reopen(self):
        """Retention deleted every delivered event, then a commit failed and
        the store reopened: new events must get new seqs and be delivered
        (they got old seqs, at or below the sink's cursor, and were never
        delivered)."""
        g = self.gateway(self.config(dedupe_window="1s", gc_interval="1s"),
                         env=self.fault_env(ops="fdatasync", flag=self.flag))
        seqs = [self.post(g, "a-%d" % i).json()["seq"] for i in range(3)]
        self.pruned(g, 3)
        open(self.flag, "w").close()
        self.assert_503(self.post(g, "during"))
        os.unlink(self.flag)
        for i in range(3):
            r = self.post(g, "b-%d" % i)
            self.assertEqual(r.json()["status"], "accepted")
            self.assertGreater(r.json()["seq"], max(seqs), "a seq handed out twice")
            seqs.append(r.json()["seq"])
        got = {e["id"] for e in g.wait_events(6)}
        self.assertTrue({"b-0", "b-1", "b-2"} <= got, sorted(got))

    def test_seq_never_reused_after_retention_and_restart(self):
        g = self.gateway(self.config(dedupe_window="1s", gc_interval="1s"))
        seqs = [self.post(g, "a-%d" % i).json()["seq"] for i in range(3)]
        self.pruned(g, 3)
        self.assertEqual(g.stop(), 0)
        g2 = self.gateway(self.config(dedupe_window="1s", gc_interval="1s"))
        r = self.post(g2, "b-0")
        self.assertGreater(r.json()["seq"], max(seqs), "a seq handed out twice")
        # g2 appends to the same stdout file: a-0..a-2 are already there
        self.assertIn("b-0", {e["id"] for e in g2.wait_events(4)})

    def test_failed_sweep_commit_reopens(self):
        """A retention sweep whose meta page write fails leaves LMDB refusing
        every transaction: the writer reopens the store at once, so the
        first event after the disk recovers is accepted and delivery goes
        on (it got 503 and delivery stalled until some commit failed)."""
        g = self.gateway(self.config(dedupe_window="2s", gc_interval="1s"),
                         env=self.fault_env(ops="pwrite", maxoff=8192, flag=self.flag))
        for i in range(3):
            self.assertEqual(self.post(g, "a-%d" % i).status, 200)
        g.wait_events(3)
        # the checkpointer writes LMDB too: let it write the events and the
        # sink's cursor (within a second each) so the sweep is what fails
        time.sleep(2.5)
        open(self.flag, "w").close()
        self.assertTrue(hg.wait_for(lambda: any(
            l.get("msg") == "store: retention sweep failed; will retry" for l in g.logs()), 30))
        os.unlink(self.flag)

        def count(msg):
            return sum(1 for l in g.logs() if l.get("msg") == msg)
        self.assertTrue(hg.wait_for(lambda: count("store: reopened after a failed commit") >=
                                    count("store: retention sweep failed; will retry"), 30))
        r = self.post(g, "b-0")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("b-0", {e["id"] for e in g.wait_events(4)})

    def test_handlers_never_inherit_the_store(self):
        """Reopens while an exec sink spawns handlers: no handler may hold a
        descriptor of data.mdb (LMDB opens it without O_CLOEXEC, and the
        gateway marks it close-on-exec only after the open) or of the log.
        The handler fails, so it is spawned again every 10 ms, and the shim
        sleeps 30 ms after each open of a store file: every reopen leaves
        that gap open while handlers start (without closefrom they inherited
        it).  A reopen follows a failed checkpoint: each round stores an
        event and then fails every sync for longer than the checkpoints'
        one-second period."""
        seen = os.path.join(self.tmp, "seen.txt")
        script = "ls -l /proc/$$/fd 2>/dev/null | grep -c -e data.mdb -e '/log/' >> %s; exit 1" % seen
        cfg = self.config(sinks={"ex": {"type": "exec", "command": ["/bin/sh", "-c", script]}},
                          routes=[{"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"],
                                   "sinks": ["ex"]}],
                          retry={"initial": "10ms", "max": "10ms", "max_attempts": 1000})
        g = self.gateway(cfg, env=self.fault_env(ops="fdatasync", flag=self.flag, open_delay_ms=30))
        self.assertEqual(self.post(g, "retried").status, 200)
        self.assertTrue(hg.wait_for(lambda: os.path.exists(seen), 30))
        def reopens():
            return sum(1 for l in g.logs() if l.get("msg") == "store: reopened after a failed commit")
        for i in range(5):
            self.assertEqual(self.post(g, "kept-%d" % i).status, 200)
            n = reopens()
            open(self.flag, "w").close()
            self.assert_503(self.post(g, "fails-%d" % i))
            self.assertTrue(hg.wait_for(lambda: reopens() > n, 30), "no checkpoint failed")
            os.unlink(self.flag)
            time.sleep(0.3)
        self.assertGreaterEqual(reopens(), 5)
        counts = open(seen).read().split()
        self.assertGreater(len(counts), 20)
        self.assertEqual([c for c in counts if c != "0"], [], "a handler held data.mdb open")

if __name__ == "__main__":
    hg.main()
