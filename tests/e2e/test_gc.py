"""Retention: dedupe keys and delivered events older than dedupe_window are
pruned by `hookgate gc` and by the background sweep; dead letters and
undelivered events are kept."""
import json
import os
import subprocess
import time

import hg


def gc(*args):
    return subprocess.run([hg.BIN, "gc", *args], capture_output=True, text=True, timeout=60)


class Gc(hg.GatewayTest):
    def test_gc_command_prunes_old_delivered_events_and_keys(self):
        cfg = hg.basic_config(self.tmp, dedupe_window="1s")
        g = self.gateway(cfg)
        for i in range(3):
            self.assertEqual(self.post_generic(g, b'{"event_id":"old-%d"}' % i).status, 200)
        g.wait_events(3)
        time.sleep(2.5)  # past the window, and the cursor (written within 1 s) is on disk
        p = gc("-c", g.cfg_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        # the newest event stays: the next seq is counted from it, so that no
        # seq is ever handed out twice (test_faults: seq_never_reused)
        self.assertIn("removed 3 dedupe key(s) and 2 delivered event(s)", p.stdout)
        data = os.path.join(self.tmp, "data")
        listed = subprocess.run([hg.BIN, "events", "list", "--data", data], capture_output=True, text=True)
        self.assertEqual([l.split("\t")[3] for l in listed.stdout.splitlines()[1:]], ["old-2"])
        # a pruned event is gone, by seq and by id: never the next one shown
        for ref in ("1", "old-0"):
            p = subprocess.run([hg.BIN, "events", "show", ref, "--data", data], capture_output=True,
                               text=True)
            self.assertEqual((p.returncode, p.stdout), (1, ""), ref)
            self.assertIn("no event " + ref, p.stderr)
        # the id is forgotten: the same event is new again, with a new seq
        r = self.post_generic(g, b'{"event_id":"old-1"}')
        self.assertEqual(r.json(), {"status": "accepted", "id": "old-1", "seq": 4})
        self.assertEqual(gc("--data", data, "--window", "1h").stdout.split()[1], "0")

    def test_gc_keeps_keys_for_the_gateways_longer_window(self):
        """A shorter --window prunes delivered events at that window, but the
        dedupe keys stay for the window the gateway runs with (serve records
        it in the store), so an id it still dedupes cannot come through
        twice.  Before, the keys went at the command line's window."""
        cfg = hg.basic_config(self.tmp, dedupe_window="1h")
        g = self.gateway(cfg)
        for i in range(3):
            self.assertEqual(self.post_generic(g, b'{"event_id":"long-%d"}' % i).status, 200)
        g.wait_events(3)
        time.sleep(2.5)  # past 1 s, and the keys and the cursor are checkpointed
        p = gc("--data", os.path.join(self.tmp, "data"), "--window", "1s")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("removed 0 dedupe key(s) and 2 delivered event(s)", p.stdout)
        self.assertIn("dedupe keys kept for the gateway's dedupe_window of 3600 s", p.stdout)
        r = self.post_generic(g, b'{"event_id":"long-0"}')
        self.assertEqual(r.json()["status"], "duplicate")

    def test_gc_refuses_a_window_the_config_parser_would_refuse(self):
        """A negative integer dedupe_window was multiplied into a huge
        unsigned window (regression, found by clang-tidy)."""
        for w in (-5, "soon", [1]):
            cfg = hg.basic_config(self.tmp, dedupe_window=w)
            path = os.path.join(self.tmp, "bad.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            p = gc("-c", path)
            self.assertEqual(p.returncode, 2, (w, p.stdout, p.stderr))
            self.assertIn("dedupe_window is not a valid duration", p.stderr)

    def test_undelivered_and_dead_letters_are_kept(self):
        cfg = hg.basic_config(self.tmp, dedupe_window="1s", retry={"initial": "100ms", "max": "100ms",
                                                                   "max_attempts": 1})
        cfg["sinks"]["fail"] = {"type": "exec", "command": ["/bin/false"]}
        cfg["routes"][0]["sinks"] = ["out", "fail"]
        g = self.gateway(cfg, broken_stdout=True)  # stdout never delivers
        self.assertEqual(self.post_generic(g, b'{"event_id":"keep"}').status, 200)
        data = os.path.join(self.tmp, "data")
        deadline = time.time() + 20
        while time.time() < deadline:
            p = subprocess.run([hg.BIN, "events", "dead", "--data", data], capture_output=True, text=True)
            if len(p.stdout.splitlines()) > 1:
                break
            time.sleep(0.1)
        time.sleep(2.5)
        p = gc("-c", g.cfg_path)
        self.assertIn("removed 1 dedupe key(s) and 0 delivered event(s)", p.stdout)
        self.assertEqual(subprocess.run([hg.BIN, "events", "show", "1", "--data", data],
                                        capture_output=True).returncode, 0)

    def test_background_sweep(self):
        cfg = hg.basic_config(self.tmp, dedupe_window="1s", gc_interval="1s")
        g = self.gateway(cfg)
        self.assertEqual(self.post_generic(g, b'{"event_id":"sweep"}').status, 200)
        g.wait_events(1)
        deadline = time.time() + 30
        swept = []
        while time.time() < deadline and not swept:
            swept = [l for l in g.logs() if l.get("msg") == "store: retention sweep"]
            time.sleep(0.2)
        self.assertTrue(swept, "no retention sweep ran")
        self.assertEqual(sum(l["dedupe_keys"] for l in swept), 1)
        r = self.post_generic(g, b'{"event_id":"sweep"}')
        self.assertEqual(r.json()["status"], "accepted")


if __name__ == "__main__":
    hg.main()
