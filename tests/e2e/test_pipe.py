"""The pipe sink: one long-lived worker fed NDJSON on stdin, acking ids on
stdout; restarted when it dies, with nothing lost."""
import json
import os
import signal
import stat
import subprocess
import sys
import time

import hg

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../handlers/pipe-worker.py")




def ids(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l)["id"] for l in f.read().split("\n")[:-1]]


class Pipe(hg.GatewayTest):
    def pipe_config(self, command, **sink):
        cfg = self.config(retry={"initial": "100ms", "max": "300ms", "max_attempts": 3})
        cfg["routes"][0]["sinks"] = ["worker"]
        cfg["sinks"] = {"worker": dict({"type": "pipe", "command": command}, **sink),
                        "out": {"type": "stdout"}}
        return cfg

    def post(self, g, i):
        r = self.post_generic(g, b'{"event_id":"p-%d","event":"order.created"}' % i)
        self.assertEqual(r.status, 200, r.body)

    def test_worker_gets_everything(self):
        out = os.path.join(self.tmp, "got.ndjson")
        g = self.gateway(self.pipe_config([sys.executable, WORKER, out]))
        started = [l for l in g.logs() if l.get("msg") == "sink pipe: worker started"]
        self.assertEqual(len(started), 1)  # at boot, before any event
        for i in range(10):
            self.post(g, i)
        self.assertTrue(hg.wait_for(lambda: len(ids(out)) >= 10))
        self.assertEqual(ids(out), ["p-%d" % i for i in range(10)])
        self.assertEqual(len([l for l in g.logs() if l.get("msg") == "sink pipe: worker started"]), 1)

    def test_worker_killed_mid_stream_is_restarted_and_loses_nothing(self):
        out = os.path.join(self.tmp, "got.ndjson")
        flag = os.path.join(self.tmp, "die")
        worker = os.path.join(self.tmp, "w.py")
        with open(worker, "w") as f:
            f.write('''import json, os, sys
for raw in sys.stdin.buffer:
    e = json.loads(raw)
    if e["id"] == "p-5" and not os.path.exists(%r):
        open(%r, "w").close()
        print("dying on p-5", file=sys.stderr, flush=True)
        os.kill(os.getpid(), 9)
    with open(%r, "a") as o:
        o.write(raw.decode())
    print(e["id"], flush=True)
''' % (flag, flag, out))
        g = self.gateway(self.pipe_config([sys.executable, worker]))
        for i in range(10):
            self.post(g, i)
        self.assertTrue(hg.wait_for(lambda: "p-9" in ids(out)))
        got = ids(out)
        for i in range(10):
            self.assertIn("p-%d" % i, got)  # nothing lost; duplicates allowed
        msgs = [l.get("msg") for l in g.logs()]
        self.assertGreaterEqual(msgs.count("sink pipe: worker started"), 2)
        self.assertIn("sink pipe: worker stopped", msgs)
        self.assertIn("dying on p-5", [l.get("line") for l in g.logs() if l.get("msg") == "sink pipe: worker stderr"])

    def test_poison_event_goes_to_dead_letters(self):
        """A worker that dies on one particular event every time: the batch is
        narrowed to single events and that one becomes a dead letter; every
        other event is delivered."""
        out = os.path.join(self.tmp, "got.ndjson")
        worker = os.path.join(self.tmp, "w.py")
        with open(worker, "w") as f:
            f.write('''import json, os, sys
for raw in sys.stdin.buffer:
    e = json.loads(raw)
    if e["id"] == "p-3":
        os.kill(os.getpid(), 9)
    with open(%r, "a") as o:
        o.write(raw.decode())
    print(e["id"], flush=True)
''' % out)
        cfg = self.pipe_config([sys.executable, worker])
        cfg["retry"]["max_attempts"] = 2
        g = self.gateway(cfg)
        for i in range(8):
            self.post(g, i)
        self.assertTrue(hg.wait_for(lambda: "p-7" in ids(out)))
        got = set(ids(out))
        self.assertEqual(got, {"p-%d" % i for i in range(8)} - {"p-3"})
        data = os.path.join(self.tmp, "data")
        dead = subprocess.run([hg.BIN, "events", "dead", "--data", data], capture_output=True, text=True)
        rows = [l.split("\t") for l in dead.stdout.splitlines()[1:]]
        self.assertEqual([(r[0], r[1], r[4]) for r in rows], [("worker", "4", "not acknowledged by the consumer")])
        self.assertIn("deliver: batch keeps failing; sending events one at a time",
                      [l.get("msg") for l in g.logs()])

    def test_worker_that_cannot_start_is_retried(self):
        g = self.gateway(self.pipe_config(["/nonexistent/worker"]))
        self.post(g, 1)
        time.sleep(1)
        self.assertTrue([l for l in g.logs() if l.get("msg") == "sink pipe: cannot start worker"])
        self.assertEqual(g.stop(), 0)


if __name__ == "__main__":
    hg.main()
