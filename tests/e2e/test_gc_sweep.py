"""Retention sweep (gateway/gc.c): with many events inside the window and
a few past it, the background sweep prunes exactly the expired delivered
events and keeps the rest; an id inside the window stays a duplicate, an
expired one is new again; dedupe keys go a whole generation at a time
(gateway/seengen.h), each exactly once, within about two windows."""
import os
import re
import subprocess
import time

import hg

WINDOW_S = 5


def listed_ids(data):
    p = subprocess.run([hg.BIN, "events", "list", "--data", data, "--limit", "1000"],
                       capture_output=True, text=True, timeout=60)
    return [l.split("\t")[3] for l in p.stdout.splitlines()[1:]]


class GcSweep(hg.GatewayTest):
    def test_sweep_prunes_expired_among_many_live_keys(self):
        cfg = hg.basic_config(self.tmp, dedupe_window="%ds" % WINDOW_S, gc_interval="1s")
        g = self.gateway(cfg)
        data = os.path.join(self.tmp, "data")
        for i in range(20):
            self.assertEqual(self.post_generic(g, b'{"event_id":"old-%d"}' % i).status, 200)
        old_done = time.time()
        g.wait_events(20)
        time.sleep(max(0.0, old_done + WINDOW_S + 0.2 - time.time()))
        # the old ones are past the window now; these are inside it
        for i in range(80):
            self.assertEqual(self.post_generic(g, b'{"event_id":"new-%d"}' % i).status, 200)
        new_done = time.time()
        g.wait_events(100)
        self.assertTrue(hg.wait_for(lambda: not any(x.startswith("old-") for x in listed_ids(data)),
                                    timeout=WINDOW_S), listed_ids(data))
        # resent inside the window (checked before it can end): a duplicate
        r = self.post_generic(g, b'{"event_id":"new-79"}')
        self.assertLess(time.time(), new_done + WINDOW_S, "too slow to check the window")
        self.assertEqual(r.json()["status"], "duplicate")
        ids = listed_ids(data)
        self.assertEqual(sorted(ids), sorted("new-%d" % i for i in range(80)))
        swept = [l for l in g.logs() if l.get("msg") == "store: retention sweep"]
        self.assertEqual(sum(l["events"] for l in swept), 20, swept)
        # each sweep says how long its transaction took
        self.assertTrue(all(isinstance(l.get("ms"), int) and l["ms"] >= 0 for l in swept), swept)
        # an expired id is new again, with the next seq
        r = self.post_generic(g, b'{"event_id":"old-3"}')
        self.assertEqual(r.json(), {"status": "accepted", "id": "old-3", "seq": 101})
        # the CLI beside it: no event left to prune (the old generation of
        # keys may or may not have gone yet)
        p = subprocess.run([hg.BIN, "gc", "-c", g.cfg_path], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        m = re.search(r"removed (\d+) dedupe key\(s\) and 0 delivered event\(s\)", p.stdout)
        self.assertTrue(m, p.stdout)
        # every key goes in the end, each once: 20 + 80 + old-3 again
        def keys_dropped():
            sw = [l for l in g.logs() if l.get("msg") == "store: retention sweep"]
            return int(m.group(1)) + sum(l["dedupe_keys"] for l in sw)
        self.assertTrue(hg.wait_for(lambda: keys_dropped() >= 101, timeout=4 * WINDOW_S),
                        keys_dropped())
        time.sleep(1.5)  # one more sweep: nothing more
        self.assertEqual(keys_dropped(), 101)

    def test_sweep_resumes_after_restart(self):
        """The generations' state is kept in the store: across a restart
        every key and event expires, each once."""
        cfg = hg.basic_config(self.tmp, dedupe_window="2s", gc_interval="1s")
        g = self.gateway(cfg)
        data = os.path.join(self.tmp, "data")
        for i in range(10):
            self.assertEqual(self.post_generic(g, b'{"event_id":"a-%d"}' % i).status, 200)
        g.wait_events(10)
        self.assertTrue(hg.wait_for(lambda: listed_ids(data) == ["a-9"], timeout=15),
                        listed_ids(data))
        g.stop()
        g = self.gateway(cfg)
        for i in range(10):
            self.assertEqual(self.post_generic(g, b'{"event_id":"b-%d"}' % i).status, 200)
        self.assertTrue(hg.wait_for(lambda: listed_ids(data) == ["b-9"], timeout=15),
                        listed_ids(data))
        def swept():
            return [l for l in g.logs() if l.get("msg") == "store: retention sweep"]
        self.assertTrue(hg.wait_for(lambda: sum(l["dedupe_keys"] for l in swept()) >= 20,
                                    timeout=15), swept())
        self.assertEqual(sum(l["dedupe_keys"] for l in swept()), 20, swept())
        self.assertEqual(sum(l["events"] for l in swept()), 19, swept())  # all but b-9
        for ident in ("a-1", "b-1"):
            r = self.post_generic(g, b'{"event_id":"%s"}' % ident.encode())
            self.assertEqual(r.json()["status"], "accepted")


if __name__ == "__main__":
    hg.main()
