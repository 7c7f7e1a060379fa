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


if __name__ == "__main__":
    hg.main()
