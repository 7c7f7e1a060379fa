"""A real full disk: the data directory on a 4 MiB tmpfs (needs root, as CI
has).  Every request from the first failure on answers 503 + Retry-After,
never 200, and every event that got a 200 is still there after a restart."""
import os
import subprocess

import hg


class DiskFull(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.mnt = os.path.join(self.tmp, "small")
        os.mkdir(self.mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", self.mnt],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + p.stderr.strip())

    def tearDown(self):
        for g in self.gws:
            g.stop()
        subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        super().tearDown()

    def test_enospc_is_503_and_no_200_is_lost(self):
        cfg = self.config(limits={"max_store_size": "64MiB"})
        cfg["data_dir"] = os.path.join(self.mnt, "data")
        g = self.gateway(cfg)
        pad = "x" * 8000
        codes, accepted = [], []
        for i in range(1200):  # ~9.6 MB of events into 4 MiB
            body = ('{"event_id":"df-%d","pad":"%s"}' % (i, pad)).encode()
            r = self.post_generic(g, body)
            codes.append(r.status)
            if r.status == 200:
                accepted.append("df-%d" % i)
            else:
                self.assertEqual(r.status, 503, r.body)
                self.assertIn(r.headers.get("retry-after"), ("1", "5"))
            if codes[-20:] == [503] * 20:
                break
        self.assertIn(503, codes, "the 4 MiB disk never filled up")
        first = codes.index(503)
        self.assertNotIn(200, codes[first:], "a 200 after the disk filled up")
        self.assertGreater(len(accepted), 100)
        # not ready (the store cannot take a write) but alive: a restart would not help
        self.assertEqual(hg.curl(self.u(g, "/readyz"), cacert=self.cert).status, 503)
        self.assertEqual(hg.curl(self.u(g, "/healthz"), cacert=self.cert).status, 200)
        errors = [l for l in g.logs() if l.get("msg") == "store: commit failed; answering 503"]
        self.assertTrue(errors)
        g.stop()
        # restart on the same full disk: everything acknowledged is delivered
        g2 = self.gateway(cfg)
        ids = [e["id"] for e in g2.wait_events(len(accepted), timeout=60)]
        self.assertEqual(set(accepted) - set(ids), set(), "acknowledged events lost")
        self.assertNotIn("df-%d" % first, ids, "an event answered 503 was stored")


if __name__ == "__main__":
    hg.main()
