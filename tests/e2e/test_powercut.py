"""Power cuts (issue 17): durability proven against power loss, not only kill -9.

kill -9 leaves the page cache intact, so it cannot catch a 2xx sent before
its data was durable.  Here the real gateway runs under tests/faults/crashsim.c
(LD_PRELOAD), which journals every write and sync to the files of one "disk"
directory: the data dir, and the file of the durable sink of
handlers/README.md (the pipe sink with handlers/pipe-worker.py, which appends
each event and fsyncs it before it acks; the worker runs under the shim too).
Eight keep-alive clients post events for a few seconds, each 2xx stamped with
time.monotonic_ns() (the journal's clock); then the gateway is killed (-9).

For CRASH_POINTS cut times T (12; weighted toward heavy writing,
crashimg.pick_cuts) tests/faults/crashimg.py builds the disk as a power cut at
T would leave it, and the gateway is started on that image (no shim) with the
same sink name writing to stdout.  Checked at every point:
  (a) it opens, or refuses with an error and leaves the image's data files
      as they were (hashed before and after; the lock files carry no data);
  (b) every event whose 2xx arrived before T is in the store (`hookgate
      events list`, after a clean stop) and delivered: in the image's sink
      file (delivered before the cut) or printed after the restart;
  (c) an event delivered twice is fine (at least once); one missing is not.
A failing point prints its seed and cut, the journal around the newest lost
2xx, and keeps the image, the restart, the snapshot and the journal under
<build>/powercut-failures/ (its README has the crashimg.py commands).

Self-test (a checker that never finds a loss is worthless): a shorter run
under HG_CRASH_LIE=1, a disk that ignores flushes, must reach a cut where the
store opens without an event acknowledged before it.  That disk starts with
a store a first gateway made and closed (a snapshot that is not empty).  Its
restarts run outside hg.Gateway: a lying disk hands LMDB torn pages, and
what it then does (refuse, or crash, which the ASan build reports) is
expected there, not a finding for the leak sweep.

By hand, with more points (about 0.65 s a point; 200 in about 2.5 minutes):
    CRASH_POINTS=200 HOOKGATE_BIN=build/hookgate HG_CRASHSIM=build/libcrashsim.so \\
        python3 tests/e2e/test_powercut.py PowerCut.test_power_cuts_lose_no_acknowledged_event
CRASH_SEED reruns the cut and image choices of a seed (the run's own timing
differs); CRASH_SECONDS (3) and CRASH_LIE_POINTS (24, the most tried) too."""
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

import hg

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import crashimg  # noqa: E402  (tests/faults/crashimg.py)

CRASHSIM = os.environ.get("HG_CRASHSIM", os.path.join(os.path.dirname(__file__), "../../build/libcrashsim.so"))
WORKER = os.path.join(hg.ROOT, "handlers", "pipe-worker.py")
POINTS = int(os.environ.get("CRASH_POINTS", "12"))
LIE_POINTS = int(os.environ.get("CRASH_LIE_POINTS", "24"))
SECONDS = float(os.environ.get("CRASH_SECONDS", "3"))
CLIENTS = 8
LOCKS = {"data/lock.mdb", "data/writer.lock"}  # rebuilt at every open; no data
FAILDIR = os.path.join(os.path.dirname(hg.BIN), "powercut-failures")


def route(sink):
    return [{"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"], "sinks": [sink]}]


def hashes(d):
    out = {}
    for base, _, names in os.walk(d):
        for n in names:
            p = os.path.join(base, n)
            rel = os.path.relpath(p, d)
            if rel not in LOCKS:
                with open(p, "rb") as f:
                    out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def ids_in(path):
    """Event ids of the NDJSON lines in path; a torn line (the sink file's
    unsynced tail) is skipped."""
    ids = set()
    if os.path.exists(path):
        with open(path, "rb") as f:
            for line in f.read().split(b"\n"):
                try:
                    ids.add(json.loads(line)["id"])
                except (ValueError, KeyError, TypeError):
                    pass
    return ids


class RawGateway:
    """The gateway on a lying disk's image, outside hg's leak capture: its
    stdout and stderr go to files of its own."""

    def __init__(self, d, cfg):
        self.d, self.proc, self.ports = d, None, []
        self.cfg_path, self.out_path, self.err_path = (os.path.join(d, n) for n in
                                                       ("hookgate.json", "stdout.ndjson", "stderr.log"))
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f)

    def start(self):
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen([hg.BIN, "serve", "-c", self.cfg_path], stdout=out, stderr=err,
                                         env=dict(os.environ, **hg.ENV), cwd=self.d)
        deadline = time.time() + 20
        while time.time() < deadline:
            logs = []
            for line in hg.read(self.err_path).splitlines():
                try:
                    logs.append(json.loads(line))
                except ValueError:
                    pass
            if any(l.get("msg") == "hookgate started" for l in logs):
                self.ports = [l["port"] for l in logs if l.get("msg") == "listening"]
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("hookgate exited %d" % self.proc.returncode)
            time.sleep(0.05)
        raise RuntimeError("hookgate did not start")

    def stderr(self):
        return hg.read(self.err_path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


class PowerCut(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        if not os.path.exists(CRASHSIM):
            self.fail("the crash shim is not built: " + CRASHSIM)
        self.seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1, 10 ** 6))
        self.raws = []
        print(f"\n  power-cut seed {self.seed} (CRASH_SEED={self.seed} to rerun its choices)", file=sys.stderr)

    def tearDown(self):
        for g in self.raws:
            g.stop()
        super().tearDown()

    # ---- the recorded run ----

    def record(self, name, seconds, lie, seeded=False):
        """Run the gateway under the shim with clients posting for `seconds`,
        then kill -9 it.  Returns the run: its directory, snapshot, journal,
        {id: (2xx time, seq)} and the kill time.  The disk starts empty, or
        (seeded) with a store a first gateway created and closed, copied as
        the snapshot."""
        run = os.path.join(self.tmp, name)
        disk, snap = os.path.join(run, "disk"), os.path.join(run, "snap")
        os.makedirs(disk, 0o700)
        disk = os.path.realpath(disk)
        if seeded:
            cfg = hg.basic_config(os.path.join(run, "seed"), routes=route("worker"),
                                  sinks={"worker": {"type": "stdout"}}, data_dir=os.path.join(disk, "data"))
            os.makedirs(os.path.join(run, "seed"))
            g = hg.Gateway(os.path.join(run, "seed"), cfg, dict(hg.ENV))
            self.gws.append(g)
            self.assertEqual(g.start().stop(), 0)
        shutil.copytree(disk, snap)  # the disk before the recorded run
        journal = os.path.join(run, "journal.bin")
        sinks = {"worker": {"type": "pipe", "command": [sys.executable, WORKER, os.path.join(disk, "sink.ndjson")],
                            "env": ["LD_PRELOAD", "HG_CRASH_PATH", "HG_CRASH_JOURNAL", "HG_CRASH_LIE"]}}
        cfg = hg.basic_config(run, routes=route("worker"), sinks=sinks, data_dir=os.path.join(disk, "data"))
        env = {"LD_PRELOAD": os.path.abspath(CRASHSIM), "HG_CRASH_PATH": disk, "HG_CRASH_JOURNAL": journal,
               # the sanitizer runtime wants to be first; the shim only forwards
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        if lie:
            env["HG_CRASH_LIE"] = "1"
        g = hg.Gateway(run, cfg, dict(hg.ENV, **env))
        self.gws.append(g)
        g.start()
        acked, bad, lock = {}, [], threading.Lock()
        stop_at = time.monotonic() + seconds

        def client(t):
            c = http.client.HTTPConnection("127.0.0.1", g.ports[0], timeout=60)
            i = 0
            while time.monotonic() < stop_at:
                eid = "pc-%d-%d" % (t, i)
                i += 1
                body = json.dumps({"event_id": eid, "event": "order.created", "pad": "p" * 300}).encode()
                c.request("POST", "/hooks/generic", body, {
                    "Content-Type": "application/json", "X-Webhook-Signature": hg.sign_generic("generic-secret", body)})
                resp = c.getresponse()
                data = resp.read()
                now = time.monotonic_ns()
                with lock:
                    if resp.status == 200 and json.loads(data).get("status") == "accepted":
                        acked[eid] = (now, json.loads(data)["seq"])
                    else:
                        bad.append((eid, resp.status, data[:200]))
            c.close()

        threads = [threading.Thread(target=client, args=(t,)) for t in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        killed = time.monotonic_ns()
        g.stop()
        self.assertEqual(bad, [], "the recorded run itself was refused")
        self.assertTrue(acked, "no event was acknowledged")
        # the worker sees EOF and exits; its last records may still be coming
        last = -1
        for _ in range(100):
            if os.path.getsize(journal) == last:
                break
            last = os.path.getsize(journal)
            time.sleep(0.1)
        j = crashimg.Journal(journal)
        self.assertEqual(j.root, disk)
        self.assertEqual(j.lie, lie)
        # the shim saw the store write and sync, and the worker fsync its file
        data = [r for r in j.recs if (j.rel(r.path) or "").startswith("data/")]
        self.assertTrue(any(r.op == crashimg.OP_WRITE for r in data), "no write to the store journaled")
        self.assertTrue(any(r.op in (crashimg.OP_FSYNC, crashimg.OP_FDATASYNC) and not r.aux & 1 and r.ret == 0
                            for r in data), "no sync of a store file journaled")
        self.assertTrue(any(j.rel(r.path) == "sink.ndjson" and r.op == crashimg.OP_FSYNC for r in j.recs),
                        "the sink worker's fsyncs were not journaled")
        return {"dir": run, "snap": snap, "journal": j, "jpath": journal, "acked": acked, "killed": killed,
                "name": name, "first_ack": min(t for t, _ in acked.values())}

    # ---- one cut ----

    def check_point(self, rec, i, cut, raw):
        """Build the image at cut, restart on it, check (a)-(c).  Returns
        {want: acked before the cut, stats: the image's, missing: ids,
        refused: why or None, problems: what else broke (a) or the check}."""
        pt = os.path.join(rec["dir"], "pt-%d" % i)
        img = os.path.join(pt, "disk")
        os.makedirs(pt)
        stats = crashimg.build_image(rec["journal"], rec["snap"], img, cut, self.seed * 1000 + i)
        res = {"want": {eid for eid, (t, _) in rec["acked"].items() if t < cut}, "stats": stats,
               "refused": None, "problems": []}
        want, before = res["want"], hashes(img)
        cfg = hg.basic_config(pt, routes=route("worker"), sinks={"worker": {"type": "stdout"}},
                              data_dir=os.path.join(img, "data"))
        g = RawGateway(pt, cfg) if raw else hg.Gateway(pt, cfg, dict(hg.ENV))
        (self.raws if raw else self.gws).append(g)
        try:
            g.start()
        except RuntimeError as e:
            res["refused"] = str(e)
        if res["refused"] is not None:
            g.stop()
            errors = [l for l in g.stderr().splitlines() if '"level":"error"' in l]
            res["refused"] += ": " + (errors[-1] if errors else g.stderr()[-300:])
            if not errors:
                res["problems"].append("refused the image without an error")
            if hashes(img) != before:
                res["problems"].append("a refused start changed the image's data files")
            res["missing"] = set(want)
            return res
        seen = {"n": -1, "at": time.monotonic()}

        def delivered():
            return ids_in(os.path.join(img, "sink.ndjson")) | ids_in(g.out_path)

        def done():  # all delivered, the gateway gone, or delivery stalled (a loss: no wait to the end)
            got = delivered()
            if len(got) != seen["n"]:
                seen["n"], seen["at"] = len(got), time.monotonic()
            return want <= got or g.proc.poll() is not None or time.monotonic() - seen["at"] > (5 if raw else 20)
        hg.wait_for(done, 120)
        got = delivered()
        if g.stop() not in (0, None):
            res["problems"].append("the gateway on the image did not stop cleanly: " + g.stderr()[-300:])
        out = os.path.join(pt, "events.txt")
        with open(out, "wb") as f:  # a file, not a pipe: the lie run's output stays out of the leak capture
            p = subprocess.run([hg.BIN, "events", "list", "--limit", "10000000", "--data", os.path.join(img, "data")],
                               stdout=f, stderr=subprocess.STDOUT, timeout=120)
        rows = hg.read(out).splitlines()[1:] if p.returncode == 0 else []
        stored = {r.split("\t")[3] for r in rows if r.count("\t") >= 3}
        if p.returncode != 0:
            res["problems"].append("events list failed on an image the gateway opened: " + hg.read(out)[-300:])
        res["not_stored"], res["not_delivered"] = want - stored, want - got
        res["missing"] = res["not_stored"] | res["not_delivered"]
        return res

    def keep(self, rec, i, cut, why):
        """Keep a failing point: image/ as the cut left it (built again: the
        same journal, cut and seed give the same bytes), restart/ (the
        image after the restart, its config, logs and output), the
        snapshot and the journal."""
        d = os.path.join(FAILDIR, "%s-seed%d-pt%d" % (rec["name"], self.seed, i))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        shutil.copytree(os.path.join(rec["dir"], "pt-%d" % i), os.path.join(d, "restart"))
        shutil.copytree(rec["snap"], os.path.join(d, "snap"))
        shutil.copy(rec["jpath"], d)
        crashimg.build_image(rec["journal"], rec["snap"], os.path.join(d, "image"), cut, self.seed * 1000 + i)
        with open(os.path.join(d, "README"), "w") as f:
            f.write(f"{why}\n\nimage/ again: python3 tests/faults/crashimg.py build {d}/journal.bin {d}/snap OUT "
                    f"--cut {cut} --seed {self.seed * 1000 + i}\n"
                    f"the journal then: python3 tests/faults/crashimg.py ops {d}/journal.bin --around {cut}\n")
        return d

    def analysis(self, rec, cut, missing):
        """The store's journal around the newest missing 2xx."""
        j = rec["journal"]
        eid = max(missing, key=lambda e: rec["acked"][e][0])
        t, seq = rec["acked"][eid]
        near = [r for r in j.recs if t - 20_000_000 <= r.t1 < cut and (j.rel(r.path) or "").startswith("data/")
                and r.op in crashimg.SIZE_OPS + crashimg.SYNC_OPS][-16:]
        return (f"newest missing: {eid} (seq {seq}), its 2xx at {t}, {cut - t} ns before the cut; the store's "
                "last operations before the cut:\n  " + "\n  ".join(repr(r) for r in near))

    def summary(self, rec, runs, n_lost, took):
        counts = [len(r["want"]) for r in runs]
        tot = {k: sum(r["stats"].get(k, 0) for r in runs) for k in ("torn", "kept", "dropped", "durable")}
        refused = sum(r["refused"] is not None for r in runs)
        print(f"  powercut {rec['name']}: seed={self.seed} points={len(runs)} events={len(rec['acked'])} "
              f"acked-before-cut min/median/max={min(counts)}/{int(statistics.median(counts))}/{max(counts)} "
              f"writes: torn={tot['torn']} kept-whole={tot['kept'] - tot['torn']} dropped={tot['dropped']} "
              f"durable={tot['durable']} refused={refused} points-with-loss={n_lost} "
              f"journal={os.path.getsize(rec['jpath']) >> 20}MiB time={took:.0f}s", file=sys.stderr)

    # ---- the tests ----

    def test_power_cuts_lose_no_acknowledged_event(self):
        t0 = time.monotonic()
        rec = self.record("normal", SECONDS, lie=False)
        cuts = crashimg.pick_cuts(rec["journal"], POINTS, self.seed, hi=rec["killed"])
        runs, failures = [], []
        for i, cut in enumerate(cuts):
            res = self.check_point(rec, i, cut, raw=False)
            runs.append(res)
            if res["refused"]:  # allowed by (a) when nothing was acknowledged yet; shown either way
                print(f"  cut {cut} (point {i}, {len(res['want'])} acknowledged before it): start refused: "
                      f"{res['refused'][-200:]}", file=sys.stderr)
            if res["missing"] or res["problems"]:
                missing = res["missing"]
                msg = (f"seed {self.seed} cut {cut} (point {i}): {len(missing)} of {len(res['want'])} acknowledged "
                       f"events lost" + (f" ({len(res['not_stored'])} not in the store, {len(res['not_delivered'])} "
                                         "not delivered)" if "not_stored" in res else "")
                       + (f"; start refused: {res['refused']}" if res["refused"] else "")
                       + "".join("; " + p for p in res["problems"]) + f": {sorted(missing)[:5]}"
                       + ("\n" + self.analysis(rec, cut, missing) if missing else ""))
                failures.append(msg + "\n  kept in " + self.keep(rec, i, cut, msg))
            shutil.rmtree(os.path.join(rec["dir"], "pt-%d" % i), ignore_errors=True)
        self.summary(rec, runs, len(failures), time.monotonic() - t0)
        self.assertGreater(max(len(r["want"]) for r in runs), 0, "no cut fell after a 2xx")
        if failures:
            self.fail(f"{len(failures)} of {len(runs)} cuts lost acknowledged events or broke (a):\n"
                      + "\n".join(failures))

    def test_lying_disk_loses_events_selftest(self):
        """The checker can fail: with flushes ignored, some cut loses a 2xx
        from a store that opens (a refused image is counted, not enough).
        The disk starts with a store made durable by a first gateway, so an
        image is not simply an empty data.mdb."""
        t0 = time.monotonic()
        rec = self.record("lie", min(SECONDS, 1.5), lie=True, seeded=True)
        cuts = crashimg.pick_cuts(rec["journal"], LIE_POINTS, self.seed, lo=rec["first_ack"], hi=rec["killed"])
        random.Random(self.seed).shuffle(cuts)
        runs, lost = [], []
        for i, cut in enumerate(cuts):
            res = self.check_point(rec, i, cut, raw=True)
            runs.append(res)
            if res["missing"] and res["refused"] is None:
                lost.append((cut, len(res["missing"]), len(res["want"])))
                break  # one loss proves the point
        refused = sum(r["refused"] is not None for r in runs)
        self.summary(rec, runs, len(lost) + refused, time.monotonic() - t0)
        self.assertTrue(lost, f"seed {self.seed}: {len(runs)} cuts on a disk that ignores flushes lost no "
                              f"acknowledged event from a store that opened ({refused} refused): "
                              "the checker cannot see a loss")
        cut, n, of = lost[0]
        print(f"  lying disk: cut {cut}: the store opened without {n} of the {of} events acknowledged "
              "before the cut", file=sys.stderr)


if __name__ == "__main__":
    hg.main()
