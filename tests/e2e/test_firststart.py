"""A power cut during the very first start (tests/e2e/test_powercut.py found
it): LMDB's data.mdb exists but neither meta page ever reached the disk, so
LMDB refuses it (MDB_INVALID) for ever.  No event can have been
acknowledged from such a store (an acknowledgement needs a synced log
record), so hookgate sets the file aside (data.mdb.invalid-<time>) and
starts empty.  A new store makes its log directory before data.mdb, so
a first start's data dir has one.  The same file next to a log that holds
any byte, without a log directory (a store from before the log), or
bigger than a first start makes, is refused as before and left untouched:
that may be a store with acknowledged events (docs/reliability.md, 1b)."""
import hashlib
import os
import subprocess

import hg


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class FirstStart(hg.GatewayTest):
    def data_dir(self, mdb_bytes, log_bytes=None, log_dir=True):
        """A data dir as a cut during the first start leaves it: the log
        directory (made before data.mdb), data.mdb without a valid meta page
        (MDB_INVALID), and, with log_bytes, a first segment."""
        d = os.path.join(self.tmp, "data")
        os.makedirs(d, mode=0o700)
        with open(os.path.join(d, "data.mdb"), "wb") as f:
            f.write(b"\0" * mdb_bytes)
        if log_dir:
            os.makedirs(os.path.join(d, "log"), mode=0o700)
        if log_bytes is not None:
            with open(os.path.join(d, "log", "0000000000000001.log"), "wb") as f:
                f.write(log_bytes)
        return d

    def refused(self, d):
        before = sha(os.path.join(d, "data.mdb"))
        p = subprocess.run([hg.BIN, "serve", "-c", self.cfg_path()], capture_output=True,
                           text=True, timeout=30, env=dict(os.environ, **hg.ENV))
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn("store: cannot open", p.stderr)
        self.assertEqual(sha(os.path.join(d, "data.mdb")), before, "a refused store was changed")
        self.assertEqual([f for f in os.listdir(d) if f.startswith("data.mdb.invalid")], [])

    def cfg_path(self):
        import json
        p = os.path.join(self.tmp, "refused.json")
        with open(p, "w") as f:
            json.dump(self.config(), f)
        return p

    def test_unfinished_first_start_is_set_aside(self):
        d = self.data_dir(8192)
        g = self.gateway(self.config())
        msgs = [l for l in g.logs() if "never completed" in l.get("msg", "")]
        self.assertEqual(len(msgs), 1, g.stderr())
        self.assertEqual(msgs[0]["level"], "warn")
        aside = [f for f in os.listdir(d) if f.startswith("data.mdb.invalid-")]
        self.assertEqual(len(aside), 1)
        self.assertEqual(os.path.getsize(os.path.join(d, aside[0])), 8192)  # kept as it was
        r = self.post_generic(g, b'{"event_id":"after-cut","event":"x"}')
        self.assertEqual(r.json(), {"status": "accepted", "id": "after-cut", "seq": 1})
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["after-cut"])
        g.stop()
        g2 = self.gateway(self.config())  # and the new store opens normally after that
        self.assertFalse([l for l in g2.logs(since_start=True) if "never completed" in l.get("msg", "")])
        r = self.post_generic(g2, b'{"event_id":"after-cut","event":"x"}')
        self.assertEqual(r.json()["status"], "duplicate")

    def test_empty_log_segment_is_still_a_first_start(self):
        d = self.data_dir(4096, b"")
        g = self.gateway(self.config())
        self.assertTrue([l for l in g.logs() if "never completed" in l.get("msg", "")])
        self.assertEqual(len([f for f in os.listdir(d) if f.startswith("data.mdb.invalid-")]), 1)

    def test_log_with_data_is_refused_and_untouched(self):
        self.refused(self.data_dir(8192, b"HGL1" + b"\1" * 60))

    def test_big_invalid_file_is_refused_and_untouched(self):
        self.refused(self.data_dir(256 << 10))

    def test_store_from_before_the_log_is_refused_and_untouched(self):
        # no log directory: a store older than the log, whose events live
        # in data.mdb, however small; never taken for a first start
        self.refused(self.data_dir(8192, log_dir=False))


if __name__ == "__main__":
    hg.main()
