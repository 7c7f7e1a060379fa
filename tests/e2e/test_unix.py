"""The unix sink: NDJSON to a listening UNIX socket, reconnects after the
consumer comes (back), and with "ack" re-sends what was not acknowledged."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import hg

CONSUMER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../handlers/unix-consumer.py")




def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f.read().split("\n")[:-1]]


class Unix(hg.GatewayTest):
    def unix_config(self, **sink):
        cfg = self.config(retry={"initial": "100ms", "max": "300ms", "max_attempts": 3})
        self.sock = os.path.join(self.tmp, "app.sock")
        cfg["routes"][0]["sinks"] = ["app"]
        cfg["sinks"] = {"app": dict({"type": "unix", "path": self.sock}, **sink), "out": {"type": "stdout"}}
        return cfg

    def post(self, g, i):
        r = self.post_generic(g, b'{"event_id":"u-%d","event":"order.created"}' % i)
        self.assertEqual(r.status, 200, r.body)

    def test_consumer_down_then_up_gets_everything_in_order(self):
        g = self.gateway(self.unix_config())
        for i in range(20):
            self.post(g, i)
        time.sleep(0.5)  # no consumer yet: delivery fails and backs off
        out = os.path.join(self.tmp, "got.ndjson")
        consumer = subprocess.Popen([sys.executable, CONSUMER, self.sock, out])
        try:
            got = hg.wait_for(lambda: len(lines(out)) >= 20 and lines(out))
            self.assertEqual([e["id"] for e in got], ["u-%d" % i for i in range(20)])
            self.assertEqual([e["hookgateseq"] for e in got], list(range(1, 21)))
            self.post(g, 20)  # and later events flow on the same connection
            self.assertTrue(hg.wait_for(lambda: len(lines(out)) == 21))
        finally:
            consumer.kill()
            consumer.wait()

    def test_dead_consumer_does_not_hold_up_other_sinks(self):
        cfg = self.unix_config()
        got = os.path.join(self.tmp, "exec.txt")
        h = os.path.join(self.tmp, "h.sh")
        with open(h, "w") as f:
            f.write('#!/bin/sh\necho "$HOOKGATE_EVENT_ID" >> "%s"\n' % got)
        os.chmod(h, 0o755)
        cfg["sinks"]["run"] = {"type": "exec", "command": [h]}
        cfg["routes"][0]["sinks"] = ["app", "run", "out"]
        g = self.gateway(cfg)  # nobody listens on the unix socket
        for i in range(5):
            self.post(g, i)
        self.assertTrue(hg.wait_for(lambda: os.path.exists(got) and len(open(got).read().split()) == 5))
        self.assertEqual([e["id"] for e in g.wait_events(5)], ["u-%d" % i for i in range(5)])
        listed = subprocess.run([hg.BIN, "events", "list", "-c", g.cfg_path],
                                capture_output=True, text=True).stdout
        self.assertIn("app:pending", listed)

    def test_ack_mode_resends_unacked_after_consumer_crash(self):
        g = self.gateway(self.unix_config(ack=True, ack_timeout="1s"))
        received = []
        state = {"crash": True}
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.sock)
        srv.listen(1)

        def consumer():
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn, conn.makefile("rb") as f:
                    for raw in f:
                        e = json.loads(raw)
                        received.append(e["id"])
                        if state["crash"] and e["id"] == "u-3":
                            state["crash"] = False
                            break  # dies before acking u-3: hookgate must send it again
                        conn.sendall(e["id"].encode() + b"\n")
        t = threading.Thread(target=consumer, daemon=True)
        t.start()
        for i in range(6):
            self.post(g, i)
        self.assertTrue(hg.wait_for(lambda: received.count("u-5") >= 1 and received[-1] == "u-5"))
        time.sleep(0.5)
        srv.close()
        self.assertGreaterEqual(received.count("u-3"), 2, received)  # re-sent after the crash
        for i in range(6):
            self.assertIn("u-%d" % i, received)
        # order is kept within each connection
        last = [x for x in received if x in ("u-3", "u-4", "u-5")][-3:]
        self.assertEqual(last, ["u-3", "u-4", "u-5"])
        self.assertIn("sink unix: connection closed", [l.get("msg") for l in g.logs()])

    def test_handler_example_with_acks(self):
        out = os.path.join(self.tmp, "got.ndjson")
        cfg = self.unix_config(ack=True)
        consumer = subprocess.Popen([sys.executable, CONSUMER, os.path.join(self.tmp, "app.sock"), out, "--ack"])
        try:
            hg.wait_for(lambda: os.path.exists(os.path.join(self.tmp, "app.sock")))
            g = self.gateway(cfg)
            for i in range(5):
                self.post(g, i)
            got = hg.wait_for(lambda: len(lines(out)) >= 5 and lines(out))
            self.assertEqual([e["id"] for e in got], ["u-%d" % i for i in range(5)])
            data = os.path.join(self.tmp, "data")
            p = hg.wait_for(lambda: "app:pending" not in subprocess.run(
                [hg.BIN, "events", "list", "--data", data], capture_output=True, text=True).stdout, timeout=10)
            self.assertTrue(p)
        finally:
            consumer.kill()
            consumer.wait()


if __name__ == "__main__":
    hg.main()
