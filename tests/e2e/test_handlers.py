"""The example consumer in handlers/ driven by the real gateway's stdout."""
import os
import subprocess
import time

import hg

HANDLER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../handlers/ndjson-to-files.sh")


class Handlers(hg.GatewayTest):
    def test_ndjson_to_files(self):
        out_dir = os.path.join(self.tmp, "events")
        rfd, wfd = os.pipe()
        handler = subprocess.Popen([HANDLER, out_dir], stdin=rfd)
        os.close(rfd)
        try:
            g = self.gateway(self.config(), start=False)
            g.start(stdout_fd=wfd)
            for i in range(3):
                self.assertEqual(self.post_generic(g, b'{"event_id":"h%d","event":"x"}' % i).status, 200)
            path = None
            deadline = time.time() + 20
            while time.time() < deadline:
                day_files = []
                for root, _, files in os.walk(out_dir):
                    day_files += [os.path.join(root, f) for f in files]
                if day_files:
                    path = day_files[0]
                    with open(path) as f:
                        if f.read().count("\n") >= 3:
                            break
                time.sleep(0.05)
            self.assertIsNotNone(path)
            self.assertEqual(os.path.basename(os.path.dirname(path)), "generic")
            with open(path) as f:
                ids = [__import__("json").loads(l)["id"] for l in f]
            self.assertEqual(ids, ["h0", "h1", "h2"])
            g.stop()
        finally:
            handler.wait(10)


class ExecAppend(hg.GatewayTest):
    def test_exec_append_handler(self):
        script = os.path.join(os.path.dirname(HANDLER), "exec-append.sh")
        out = os.path.join(self.tmp, "archive")
        cfg = self.config()
        cfg["sinks"] = {"archive": {"type": "exec", "command": [script, out], "timeout": "10s"}}
        cfg["routes"] = [{"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"],
                          "sinks": ["archive"]}]
        g = self.gateway(cfg)
        for i, typ in enumerate(["order.created", "../../escape", "order.created"]):
            body = ('{"event_id":"a%d","event":"%s"}' % (i, typ)).encode()
            self.assertEqual(self.post_generic(g, body).status, 200)
        deadline = time.time() + 20
        files = {}
        while time.time() < deadline:
            files = {}
            for root, _, names in os.walk(out):
                for n in names:
                    with open(os.path.join(root, n)) as f:
                        files[os.path.relpath(os.path.join(root, n), out)] = f.read().splitlines()
            if sum(len(v) for v in files.values()) >= 3:
                break
            time.sleep(0.05)
        day = sorted(files)[0].split("/")[0]
        self.assertEqual(sorted(files), [day + "/.._.._escape.ndjson", day + "/order.created.ndjson"])
        self.assertEqual([__import__("json").loads(l)["id"] for l in files[day + "/order.created.ndjson"]],
                         ["a0", "a2"])


if __name__ == "__main__":
    hg.main()
