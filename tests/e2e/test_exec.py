"""The exec sink: one real process per event, its environment, retries with
HOOKGATE_ATTEMPT, timeouts that kill the whole process group, dead letters,
type filters, hostile payloads, and kill -9 of the gateway mid-burst."""
import json
import os
import signal
import stat
import subprocess
import time

import hg


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path






class Exec(hg.GatewayTest):
    def exec_config(self, command, **sink):
        cfg = self.config(retry={"initial": "100ms", "max": "300ms", "max_attempts": 3})
        cfg["routes"] = [{"path": "/hooks/generic", "profile": "generic", "secrets": ["env:T_SECRET"],
                          "sinks": ["run"]}]
        cfg["sinks"] = {"run": dict({"type": "exec", "command": command, "timeout": "5s"}, **sink)}
        return cfg

    def post(self, g, i, typ="order.created", extra=""):
        body = ('{"event_id":"x-%s","event":"%s"%s}' % (i, typ, extra)).encode()
        r = self.post_generic(g, body)
        self.assertEqual(r.status, 200, r.body)
        return body

    def test_envelope_and_environment(self):
        out = os.path.join(self.tmp, "out")
        os.mkdir(out)
        h = script(os.path.join(self.tmp, "h.sh"),
                   'cat > "%s/$HOOKGATE_SEQ.json"\nenv > "%s/$HOOKGATE_SEQ.env"\n' % (out, out))
        g = self.gateway(self.exec_config([h]))
        body = self.post(g, "env")
        path = os.path.join(out, "1.env")
        self.assertTrue(hg.wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0))
        time.sleep(0.1)
        with open(os.path.join(out, "1.json")) as f:
            env_line = f.read()
        self.assertTrue(env_line.endswith("\n"))
        e = json.loads(env_line)
        self.assertEqual(e["data"], json.loads(body))
        self.assertEqual(e["hookgateseq"], 1)
        with open(path) as f:
            env = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
        self.assertEqual(env["HOOKGATE_EVENT_ID"], "x-env")
        self.assertEqual(env["HOOKGATE_EVENT_TYPE"], "order.created")
        self.assertEqual(env["HOOKGATE_SOURCE"], "/hooks/generic")
        self.assertEqual(env["HOOKGATE_ROUTE"], "generic")
        self.assertEqual(env["HOOKGATE_SEQ"], "1")
        self.assertEqual(env["HOOKGATE_ATTEMPT"], "1")
        self.assertIn("PATH", env)
        # a minimal environment: nothing of hookgate's own, no secret
        self.assertNotIn("T_SECRET", env)
        self.assertNotIn("HOME", env)

    def test_handler_inherits_only_stdio(self):
        """ls run directly (no shell) lists its own descriptors into its stdout,
        which the gateway logs: only 0-2, and ls's own directory handle."""
        g = self.gateway(self.exec_config(["/bin/ls", "-l", "/proc/self/fd"]))
        self.post(g, "fds")
        out = hg.wait_for(lambda: [l for l in g.logs() if l.get("msg") == "exec: handler output"])
        self.assertTrue(out)
        listing = out[0]["stdout"]
        fds = sorted(int(l.split()[-3]) for l in listing.split("?") if " -> " in l)
        self.assertEqual(fds, [0, 1, 2, 3], listing)
        self.assertNotIn("mdb", listing)

    def test_env_pass_through(self):
        out = os.path.join(self.tmp, "env.txt")
        h = script(os.path.join(self.tmp, "h.sh"), 'env > "%s.tmp"; mv "%s.tmp" "%s"\n' % (out, out, out))
        g = self.gateway(self.exec_config([h], env=["T_OLD"]))
        self.post(g, "pass")
        self.assertTrue(hg.wait_for(lambda: os.path.exists(out)))
        with open(out) as f:
            text = f.read()
        self.assertIn("T_OLD=iex-old-secret", text)
        self.assertNotIn("T_NEW", text)

    def test_fails_twice_then_succeeds_on_attempt_3(self):
        log = os.path.join(self.tmp, "attempts")
        h = script(os.path.join(self.tmp, "h.sh"),
                   'echo "$HOOKGATE_ATTEMPT" >> "%s"\n[ "$HOOKGATE_ATTEMPT" -ge 3 ]\n' % log)
        g = self.gateway(self.exec_config([h]))
        self.post(g, "retry")
        self.assertTrue(hg.wait_for(lambda: os.path.exists(log) and hg.read(log).split() == ["1", "2", "3"]))
        time.sleep(0.5)  # and no fourth attempt
        with open(log) as f:
            self.assertEqual(f.read().split(), ["1", "2", "3"])
        fails = [l for l in g.logs() if l.get("msg") == "deliver: attempt failed; will retry"]
        self.assertEqual([l["attempt"] for l in fails], [1, 2])
        self.assertEqual(fails[0]["error"], "exit 1")
        p = subprocess.run([hg.BIN, "events", "dead", "--data", os.path.join(self.tmp, "data")],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.splitlines()[1:], [])

    def test_always_failing_goes_to_dead_letters(self):
        h = script(os.path.join(self.tmp, "h.sh"), 'echo "cannot reach the ERP" >&2\nexit 7\n')
        g = self.gateway(self.exec_config([h]))
        self.post(g, "dead1")
        self.post(g, "dead2")
        data = os.path.join(self.tmp, "data")

        def dead():
            p = subprocess.run([hg.BIN, "events", "dead", "--data", data], capture_output=True, text=True)
            return [l.split("\t") for l in p.stdout.splitlines()[1:]]
        rows = hg.wait_for(lambda: len(dead()) == 2 and dead())
        self.assertEqual([(r[0], r[1], r[2], r[4]) for r in rows],
                         [("run", "1", "3", "exit 7"), ("run", "2", "3", "exit 7")])
        out = [l for l in g.logs() if l.get("msg") == "exec: handler output"]
        self.assertIn("cannot reach the ERP", out[0]["stderr"])
        p = subprocess.run([hg.BIN, "events", "list", "--data", data], capture_output=True, text=True)
        self.assertIn("run:dead", p.stdout)
        # a dead letter survives a restart and is not retried by it
        g.stop()
        g2 = self.gateway(self.exec_config([h]))
        time.sleep(0.5)
        self.assertEqual(len(dead()), 2)
        self.assertFalse([l for l in g2.logs(since_start=True)
                          if l.get("msg") == "deliver: attempt failed; will retry"])

    def test_replay_dead_letters_once_fixed(self):
        fixed = os.path.join(self.tmp, "fixed")
        got = os.path.join(self.tmp, "got")
        h = script(os.path.join(self.tmp, "h.sh"),
                   '[ -e "%s" ] || exit 3\necho "$HOOKGATE_EVENT_ID $HOOKGATE_ATTEMPT" >> "%s"\n' % (fixed, got))
        g = self.gateway(self.exec_config([h]))
        data = os.path.join(self.tmp, "data")
        for i in range(3):
            self.post(g, "r%d" % i)

        def dead():
            p = subprocess.run([hg.BIN, "events", "dead", "--sink", "run", "--data", data],
                               capture_output=True, text=True)
            return p.stdout.splitlines()[1:]
        self.assertTrue(hg.wait_for(lambda: len(dead()) == 3))
        self.assertEqual(hg.read(got), "")
        with open(fixed, "w"):
            pass
        p = subprocess.run([hg.BIN, "events", "replay", "--sink", "run", "--dead", "--data", data],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("replay of 3 dead letter(s) of sink run", p.stdout)
        self.assertTrue(hg.wait_for(lambda: len(hg.read(got).split("\n")) > 3 and dead() == []))
        time.sleep(0.5)
        self.assertEqual(sorted(hg.read(got).split("\n")[:-1]), ["x-r0 1", "x-r1 1", "x-r2 1"])
        self.assertEqual(dead(), [])
        # and a range replay delivers them (again) from a seq on
        p = subprocess.run([hg.BIN, "events", "replay", "--sink", "run", "--seq", "2", "--data", data],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(hg.wait_for(lambda: len(hg.read(got).split("\n")) > 5))
        time.sleep(0.5)
        self.assertEqual(sorted(hg.read(got).split("\n")[3:-1]), ["x-r1 1", "x-r2 1"])
        bad = subprocess.run([hg.BIN, "events", "replay", "--sink", "run", "--data", data],
                             capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)

    def test_timeout_kills_the_process_group(self):
        pids = os.path.join(self.tmp, "pids")
        h = script(os.path.join(self.tmp, "h.sh"),
                   'sleep 300 &\necho $! >> "%s"\necho $$ >> "%s"\nsleep 300\n' % (pids, pids))
        cfg = self.exec_config([h], timeout="500ms")
        cfg["retry"]["max_attempts"] = 1
        g = self.gateway(cfg)
        self.post(g, "hang")
        self.assertTrue(hg.wait_for(lambda: any(l.get("msg", "").startswith("deliver: giving up")
                                             for l in g.logs())))
        gave_up = [l for l in g.logs() if l.get("msg", "").startswith("deliver: giving up")][0]
        self.assertEqual(gave_up["error"], "timeout after 500 ms")
        with open(pids) as f:
            ps = [int(p) for p in f.read().split()]
        self.assertEqual(len(ps), 2)

        def gone(pid):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            with open("/proc/%d/stat" % pid) as f:  # a zombie awaiting its reaper is gone too
                return f.read().split(")")[-1].split()[0] == "Z"
        self.assertTrue(hg.wait_for(lambda: all(gone(p) for p in ps), timeout=10), "children survived")

    def test_type_filter(self):
        seen = os.path.join(self.tmp, "seen")
        h = script(os.path.join(self.tmp, "h.sh"), 'echo "$HOOKGATE_EVENT_TYPE" >> "%s"\n' % seen)
        g = self.gateway(self.exec_config([h], types=["order.*"]))
        self.post(g, 1, "order.created")
        self.post(g, 2, "invoice.paid")
        self.post(g, 3, "order.deleted")
        self.assertTrue(hg.wait_for(lambda: os.path.exists(seen) and len(hg.read(seen).split()) >= 2))
        time.sleep(0.5)
        with open(seen) as f:
            self.assertEqual(f.read().split(), ["order.created", "order.deleted"])

    def test_hostile_payload_is_inert(self):
        out = os.path.join(self.tmp, "out")
        os.mkdir(out)
        pwned = os.path.join(self.tmp, "pwned")
        h = script(os.path.join(self.tmp, "h.sh"),
                   'cat > "%s/stdin"\nprintf "%%s" "$HOOKGATE_EVENT_ID" > "%s/id"\n'
                   'printf "%%s" "$HOOKGATE_EVENT_TYPE" > "%s/type"\n' % (out, out, out))
        g = self.gateway(self.exec_config([h]))
        evil = "$(touch %s); rm -rf %s `touch %s` && reboot" % (pwned, out, pwned)
        body = json.dumps({"event_id": evil, "event": evil + ";x", "note": evil}).encode()
        self.assertEqual(self.post_generic(g, body).status, 200)
        self.assertTrue(hg.wait_for(lambda: os.path.exists(os.path.join(out, "type"))))
        time.sleep(0.2)
        with open(os.path.join(out, "id")) as f:
            self.assertEqual(f.read(), evil)
        with open(os.path.join(out, "type")) as f:
            self.assertEqual(f.read(), evil + ";x")
        with open(os.path.join(out, "stdin")) as f:
            self.assertEqual(json.loads(f.read())["data"]["note"], evil)
        self.assertFalse(os.path.exists(pwned))

    def test_concurrency_bound_and_every_event_once(self):
        d = os.path.join(self.tmp, "run")
        os.mkdir(d)
        done = os.path.join(self.tmp, "done")
        h = script(os.path.join(self.tmp, "h.sh"),
                   'touch "%s/$HOOKGATE_SEQ"\nls "%s" | wc -l >> "%s.max"\nsleep 0.05\n'
                   'rm "%s/$HOOKGATE_SEQ"\necho "$HOOKGATE_EVENT_ID" >> "%s"\n' % (d, d, done, d, done))
        g = self.gateway(self.exec_config([h], concurrency=4))
        for i in range(24):
            self.post(g, i)
        self.assertTrue(hg.wait_for(lambda: os.path.exists(done) and len(hg.read(done).split()) >= 24))
        time.sleep(0.3)
        with open(done) as f:
            ids = f.read().split()
        self.assertEqual(sorted(ids), sorted("x-%d" % i for i in range(24)))
        with open(done + ".max") as f:
            self.assertLessEqual(max(int(x) for x in f.read().split()), 4)

    def test_kill9_mid_burst_loses_nothing(self):
        n = int(os.environ.get("HG_EXEC_BURST", "2000"))
        got = os.path.join(self.tmp, "got")
        h = script(os.path.join(self.tmp, "h.sh"), 'echo "$HOOKGATE_EVENT_ID" >> "%s"\n' % got)
        cfg = self.exec_config([h], concurrency=8)
        g = self.gateway(cfg)
        # send the burst from a few curl processes at once; kill -9 part-way
        files = []
        for k in range(4):
            cfgfile = os.path.join(self.tmp, "curl%d.cfg" % k)
            with open(cfgfile, "w") as f:
                for i in range(k, n, 4):
                    body = '{"event_id":"b-%d","event":"burst"}' % i
                    bpath = os.path.join(self.tmp, "b%d.json" % i)
                    with open(bpath, "w") as bf:
                        bf.write(body)
                    f.write('url = "%s"\n' % self.u(g, "/hooks/generic"))
                    f.write('data-binary = "@%s"\n' % bpath)
                    f.write('header = "X-Webhook-Signature: %s"\n' % hg.sign_generic("generic-secret", body.encode()))
                    f.write('header = "Content-Type: application/json"\n')
                    f.write('write-out = "%%{http_code} b-%d\\n"\n' % i)
                    if self.cert:
                        f.write('cacert = "%s"\n' % self.cert)
                    f.write('output = "/dev/null"\n')
                    if i + 4 < n:
                        f.write('next\n')
            files.append(cfgfile)
        procs = [subprocess.Popen(["curl", "-s", "-K", c],
                                  stdout=subprocess.PIPE) for c in files]
        hg.wait_for(lambda: os.path.exists(got) and len(hg.read(got).split()) >= n // 4)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        acked = set()
        codes = {}
        for p in procs:
            out, _ = p.communicate(timeout=120)
            for line in out.decode().splitlines():
                code, _, eid = line.partition(" ")
                codes[code] = codes.get(code, 0) + 1
                if code == "200":
                    acked.add(eid)
        g.stop()
        self.assertGreater(len(acked), 0)
        self.assertEqual(set(codes) - {"200", "000"}, set(), codes)  # 000: cut off by the kill
        g2 = self.gateway(cfg)
        self.assertTrue(hg.wait_for(lambda: acked <= set(hg.read(got).split()), timeout=120),
                        "acknowledged events never reached the handler")
        with open(got) as f:
            ids = f.read().split()
        dup = len(ids) - len(set(ids))
        print("burst: %d acknowledged before kill -9, %d handler runs, %d duplicates, 0 missing; "
              "answers %s" % (len(acked), len(ids), dup, codes))
        g2.stop()


class ExecTLS(Exec):
    scheme = "https"


if __name__ == "__main__":
    hg.main()
