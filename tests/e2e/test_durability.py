"""Durability: kill -9 after a 200 loses nothing; a full store answers 503
with Retry-After, never 200; a clean stop leaves nothing to re-deliver."""
import os
import signal
import subprocess

import hg


class Durability(hg.GatewayTest):
    def test_kill9_after_200_then_restart_delivers_and_dedupes(self):
        cfg = self.config()
        # stdout is a pipe with no reader: every event is acknowledged and
        # stored, but none can be delivered before the kill
        g = self.gateway(cfg, broken_stdout=True)
        acked = []
        for i in range(20):
            body = ('{"event_id":"crash-%d","event":"order.created"}' % i).encode()
            r = self.post_generic(g, body)
            self.assertEqual(r.status, 200)
            acked.append(("crash-%d" % i, body))
        import time
        deadline = time.time() + 10
        while time.time() < deadline and "deliver: send failed; will retry" not in [
                l.get("msg") for l in g.logs()]:
            time.sleep(0.05)
        self.assertIn("deliver: send failed; will retry", [l.get("msg") for l in g.logs()])
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        g.stop()
        self.assertEqual(g.events(), [])
        g2 = self.gateway(cfg)
        ev = g2.wait_events(len(acked))
        ids = {e["id"] for e in ev}
        for i, _ in acked:
            self.assertIn(i, ids, "acknowledged event lost across kill -9")
        # resending every acknowledged event is a duplicate, not a new event
        for i, body in acked:
            r = self.post_generic(g2, body)
            self.assertEqual(r.json(), {"status": "duplicate", "id": i})
        # and seq numbering continued from the store, not from zero
        r = self.post_generic(g2, b'{"event_id":"after-crash"}')
        self.assertEqual(r.json()["seq"], 21)

    def test_bench_switch_has_no_effect_in_a_normal_build(self):
        # HG_BENCH_STORE exists only in a -DHG_BENCH_KNOBS=ON build
        # (tests/bench): the binary under test must store and fsync as ever
        g = self.gateway(self.config(), env={"HG_BENCH_STORE": "null"})
        body = b'{"event_id":"knob-1","event":"order.created"}'
        r = self.post_generic(g, body)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "accepted", "id": "knob-1", "seq": 1})
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["knob-1"])
        msgs = [l.get("msg", "") for l in g.logs()]
        self.assertFalse([m for m in msgs if "HG_BENCH" in m or "tests/bench" in m], msgs)
        g.stop()
        v = subprocess.run([hg.BIN, "--version"], capture_output=True, text=True)
        self.assertNotIn("benchknobs", v.stdout)

    def test_log_is_written_direct_and_padding_cut_on_clean_stop(self):
        """The newest log segment is written with O_DIRECT in whole units
        of the file's direct-I/O alignment, 512 bytes to 4 KiB
        (gateway/seglog.h, "Padding"): while running, its size is a
        multiple of the unit; a clean stop cuts the zero padding off."""
        cfg = self.config()
        g = self.gateway(cfg)
        for i in range(3):
            self.assertEqual(self.post_generic(g, ('{"event_id":"d%d"}' % i).encode()).status, 200)
        logdir = os.path.join(cfg["data_dir"], "log")
        seg = os.path.join(logdir, sorted(os.listdir(logdir))[-1])
        fds = [f for f in os.listdir("/proc/%d/fd" % g.proc.pid)
               if os.readlink("/proc/%d/fd/%s" % (g.proc.pid, f)) == seg]
        self.assertTrue(fds, "the segment is open in the gateway")
        flags = [int(l.split()[1], 8) for f in fds
                 for l in open("/proc/%d/fdinfo/%s" % (g.proc.pid, f)) if l.startswith("flags:")]
        try:  # does this file system take O_DIRECT at all?
            os.close(os.open(os.path.join(logdir, "probe"), os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600))
            direct_ok = True
        except OSError:
            direct_ok = False
        finally:
            if os.path.exists(os.path.join(logdir, "probe")):
                os.unlink(os.path.join(logdir, "probe"))
        self.assertEqual(any(fl & os.O_DIRECT for fl in flags), direct_ok, flags)
        self.assertEqual(os.path.getsize(seg) % 512, 0)
        self.assertEqual(g.stop(), 0)
        size = os.path.getsize(seg)
        self.assertNotEqual(size % 512, 0, "padding left after a clean stop")
        with open(seg, "rb") as f:
            self.assertNotEqual(f.read()[-1:], b"\0")
        g2 = self.gateway(cfg)
        self.assertEqual(self.post_generic(g2, b'{"event_id":"d-next"}').json()["seq"], 4)

    def test_clean_stop_does_not_redeliver(self):
        cfg = self.config()
        g = self.gateway(cfg)
        for i in range(5):
            self.assertEqual(self.post_generic(g, ('{"event_id":"c%d"}' % i).encode()).status, 200)
        self.assertEqual(len(g.wait_events(5)), 5)
        self.assertEqual(g.stop(), 0)
        self.assertIn("stopped", [l.get("msg") for l in g.logs()])
        g2 = self.gateway(cfg)
        self.assertEqual(self.post_generic(g2, b'{"event_id":"c-next"}').status, 200)
        ev = g2.wait_events(6)
        self.assertEqual([e["id"] for e in ev], ["c0", "c1", "c2", "c3", "c4", "c-next"])

    def test_idle_cursor_reaches_disk(self):
        """A sink's progress is written within about a second even when no
        new event arrives: a kill -9 after that re-delivers nothing."""
        cfg = self.config()
        g = self.gateway(cfg)
        for i in range(3):
            self.assertEqual(self.post_generic(g, ('{"event_id":"idle-%d"}' % i).encode()).status, 200)
        self.assertEqual(len(g.wait_events(3)), 3)
        import time
        time.sleep(2.5)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        g.stop()
        g2 = self.gateway(cfg)
        self.assertEqual(self.post_generic(g2, b'{"event_id":"idle-next"}').status, 200)
        ids = [e["id"] for e in g2.wait_events(4)]
        time.sleep(0.3)
        ids = [e["id"] for e in g2.events()]
        self.assertEqual(ids, ["idle-0", "idle-1", "idle-2", "idle-next"])

    def test_store_full_answers_503_never_200(self):
        cfg = self.config(limits={"max_store_size": "1MiB", "max_body": "256KiB"})
        g = self.gateway(cfg)
        pad = "x" * (60 * 1024)
        codes, accepted = [], []
        for i in range(40):
            body = ('{"event_id":"full-%d","pad":"%s"}' % (i, pad)).encode()
            r = self.post_generic(g, body)
            codes.append(r.status)
            if r.status == 200:
                accepted.append("full-%d" % i)
            else:
                self.assertEqual(r.status, 503)
                self.assertEqual(r.headers.get("retry-after"), "5")
                self.assertEqual(r.json(), {"error": "store full, retry later"} if False else r.json())
                self.assertIn("retry later", r.json()["error"])
        self.assertIn(503, codes)
        self.assertGreater(len(accepted), 0)
        first503 = codes.index(503)
        self.assertNotIn(200, codes[first503:], "a 200 after the store filled up")
        # every 200 is really on disk: restart with room and read them back
        g.stop()
        cfg["limits"]["max_store_size"] = "64MiB"
        g2 = self.gateway(cfg)
        ids = {e["id"] for e in g2.wait_events(len(accepted))}
        self.assertTrue(set(accepted) <= ids)
        r = self.post_generic(g2, ('{"event_id":"full-%d","pad":"%s"}' % (first503, pad)).encode())
        self.assertEqual(r.json()["status"], "accepted", "a 503'd event must not count as stored")
        self.assertIn("store: commit failed; answering 503", [l.get("msg") for l in g.logs()])

    def test_full_store_with_dead_letters_does_not_spin(self):
        """Dead letters that cannot be written (the store is full) wait and
        retry; they must not spin the writer, and SIGTERM still stops it."""
        cfg = self.config(limits={"max_store_size": "1MiB", "max_body": "256KiB"},
                          retry={"initial": "100ms", "max": "100ms", "max_attempts": 1})
        cfg["sinks"]["fail"] = {"type": "exec", "command": ["/bin/false"]}
        cfg["routes"][0]["sinks"] = ["out", "fail"]
        g = self.gateway(cfg)
        pad = "x" * (60 * 1024)
        for i in range(40):
            r = self.post_generic(g, ('{"event_id":"sp-%d","pad":"%s"}' % (i, pad)).encode())
            if r.status == 503:
                break
        self.assertEqual(r.status, 503)
        import time
        time.sleep(3)
        failed = [l for l in g.logs() if l.get("msg") == "store: commit failed; answering 503"]
        self.assertLess(len(failed), 50, "the writer is spinning on failed commits")
        self.assertEqual(g.stop(), 0)

    def test_files_are_private(self):
        g = self.gateway(self.config())
        self.assertEqual(self.post_generic(g, b'{"event_id":"p"}').status, 200)
        d = os.path.join(self.tmp, "data")
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
        for f in ("data.mdb", "lock.mdb"):
            self.assertEqual(os.stat(os.path.join(d, f)).st_mode & 0o777, 0o600, f)
        p = subprocess.run(["mdb_stat", "-a", d], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        for db in ("events", "seen", "seen2", "cursors", "meta"):
            self.assertIn("Status of " + db, p.stdout)


class DurabilityTLS(Durability):
    scheme = "https"


if __name__ == "__main__":
    hg.main()
