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
        self.assertTrue(any(l.get("msg") == "store: reopened after a failed commit" for l in logs))
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


if __name__ == "__main__":
    hg.main()
