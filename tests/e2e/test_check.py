"""`hookgate check -c FILE` reports every problem of a config in one run
(issue 14), through the real binary.

Each problem is one line, "FILE: $.json.path: what is wrong".  The
document's own problems (unknown keys with the nearest known key, types,
missing keys, values, references) come first, then those of files, secrets
and the environment, so a missing certificate never hides a typo.  At most
50 lines, then "... N more problems".  The exit status is 1 and stdout stays
empty; `serve` refuses the same config with the same lines in its log.

The first line carries the "hookgate: invalid config: " prefix of `check`
(or every line does); problems() takes it off, and leaves the JSON log lines
(warnings such as a literal secret) out.
"""
import json
import os
import re
import subprocess

import hg

PREFIX = "hookgate: invalid config: "


def run(*args, env=None):
    e = dict(os.environ, **hg.ENV, **(env or {}))
    e.pop("HG_CHECK_UNSET", None)
    return subprocess.run([hg.BIN, *args], capture_output=True, text=True, timeout=30, env=e)


def problems(stderr):
    lines = [l for l in stderr.splitlines() if not l.startswith("{")]
    assert lines and lines[0].startswith(PREFIX), stderr
    return [l[len(PREFIX):] if l.startswith(PREFIX) else l for l in lines]


class Check(hg.GatewayTest):
    def write(self, cfg, name="c.json"):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            json.dump(cfg, f)
        return p

    def check(self, cfg):
        """check -c on cfg: exit 1 and nothing on stdout; returns (path, lines)."""
        path = self.write(cfg)
        p = run("check", "-c", path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        return path, problems(p.stderr)

    def test_every_problem_in_one_run(self):
        """A value, two typos (one a sink's "type"), two missing TLS files and an
        unset variable: all reported at once, the document's own first."""
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        cfg = hg.basic_config(self.tmp, listen=[{"address": "127.0.0.1:0", "tls": {"cert": cert, "key": key}}],
                              limits={"max_body": "1XB"})
        cfg["sinks"]["stream"] = {"tpye": "stdout"}
        cfg["routes"][0]["tolerence"] = "5m"
        cfg["routes"][1]["secrets"] = ["env:T_OLD", "env:HG_CHECK_UNSET"]
        path, lines = self.check(cfg)
        enoent = os.strerror(2)
        self.assertEqual(lines, [
            f"{path}: $.limits.max_body: must be a size like \"1MiB\", \"512KiB\" or a number of bytes",
            f"{path}: $.sinks.stream.tpye: unknown key (did you mean \"type\"?)",
            f"{path}: $.routes[0].tolerence: unknown key (did you mean \"tolerance\"?)",
            f"{path}: $.listen[0].tls.cert: cannot read {cert}: {enoent}",
            f"{path}: $.listen[0].tls.key: cannot read {key}: {enoent}",
            f"{path}: $.routes[1].secrets[1]: environment variable HG_CHECK_UNSET is not set or empty",
        ])

    def test_secret_file_that_is_a_fifo_is_refused_at_once(self):
        """A file: secret naming a FIFO with no writer is refused, not waited on
        (serve, check and reload read secrets on their main thread); a
        world-readable secret file is refused too."""
        fifo = os.path.join(self.tmp, "secret.fifo")
        os.mkfifo(fifo, 0o600)
        loose = os.path.join(self.tmp, "secret.loose")
        with open(loose, "w") as f:
            f.write("a-secret-of-enough-length\n")
        os.chmod(loose, 0o644)
        cfg = hg.basic_config(self.tmp)
        cfg["routes"][1]["secrets"] = ["file:" + fifo, "file:" + loose]
        path, lines = self.check(cfg)  # run() has a 30 s timeout: a hang fails
        self.assertEqual(lines, [
            f"{path}: $.routes[1].secrets[0]: secret file {fifo} is not a regular file",
            f"{path}: $.routes[1].secrets[1]: secret file {loose} is readable by other users; chmod o-r it",
        ])

    def test_misspelt_sink_type_names_the_key(self):
        cfg = hg.basic_config(self.tmp)
        cfg["sinks"]["stream"] = {"tpye": "stdout"}
        cfg["routes"][0]["sinks"] = ["stream"]
        path, lines = self.check(cfg)
        self.assertEqual(lines, [f"{path}: $.sinks.stream.tpye: unknown key (did you mean \"type\"?)"])
        cfg["sinks"]["stream"] = {"type": "stdot"}
        path, lines = self.check(cfg)
        self.assertEqual(lines, [f"{path}: $.sinks.stream.type: unknown sink type \"stdot\" (did you mean \"stdout\"?)"])

    def test_missing_certificate_does_not_hide_a_typo(self):
        """Fixed one at a time: the typo and the certificate, then only the
        certificate, then nothing."""
        cert, key = hg.make_cert(self.tmp)
        missing = os.path.join(self.tmp, "later.pem")
        cfg = hg.basic_config(self.tmp, listen=[{"address": "127.0.0.1:0", "tls": {"cert": missing, "key": key}}],
                              dedupe_windw="1d")
        path, lines = self.check(cfg)
        self.assertEqual(lines, [f"{path}: $.dedupe_windw: unknown key (did you mean \"dedupe_window\"?)",
                                 f"{path}: $.listen[0].tls.cert: cannot read {missing}: {os.strerror(2)}"])
        cfg["dedupe_window"] = cfg.pop("dedupe_windw")
        path, lines = self.check(cfg)
        self.assertEqual(lines, [f"{path}: $.listen[0].tls.cert: cannot read {missing}: {os.strerror(2)}"])
        cfg["listen"][0]["tls"]["cert"] = cert
        p = run("check", "-c", self.write(cfg))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("config ok", p.stdout)

    def test_nearest_key_at_every_level(self):
        cfg = hg.basic_config(self.tmp, lisen=[], limits={"max_bdy": "1MiB"}, retry={"max_attemps": 3})
        cfg["listen"][0]["adress"] = cfg["listen"][0].pop("address")
        cfg["routes"][0]["secrtes"] = cfg["routes"][0].pop("secrets")
        cfg["routes"][1]["shared_dedupe"] = {"jetstream_kv": {"buckt": "seen", "servers": ["nats://127.0.0.1:4222"]}}
        cfg["sinks"]["app"] = {"type": "http", "url": "http://127.0.0.1:9/", "sign": {"secert": "x"}}
        cfg["sinks"]["log"] = {"type": "jetstream", "servers": ["nats://127.0.0.1:4222"], "subject": "hooks.{type}",
                               "stream": {"name": "HOOKS", "replica": 3}}
        path, lines = self.check(cfg)
        self.assertEqual(lines, [f"{path}: {l}" for l in [
            "$.lisen: unknown key (did you mean \"listen\"?)",
            "$.listen[0].adress: unknown key (did you mean \"address\"?)",
            "$.limits.max_bdy: unknown key (did you mean \"max_body\"?)",
            "$.retry.max_attemps: unknown key (did you mean \"max_attempts\"?)",
            "$.sinks.app.sign.secert: unknown key (did you mean \"secret\"?)",
            "$.sinks.log.stream.replica: unknown key (did you mean \"replicas\"?)",
            "$.routes[0].secrtes: unknown key (did you mean \"secrets\"?)",
            "$.routes[1].shared_dedupe.jetstream_kv.buckt: unknown key (did you mean \"bucket\"?)",
        ]])

    def test_many_problems_are_bounded(self):
        """60 unknown keys: the first ones in order (at most 50), then one line
        counting the rest."""
        cfg = hg.basic_config(self.tmp, **{f"k{i:02d}": 1 for i in range(60)})
        path, lines = self.check(cfg)
        m = re.fullmatch(r"\.\.\. (\d+) more problems", lines[-1])
        self.assertIsNotNone(m, lines[-1])
        shown = lines[:-1]
        self.assertLessEqual(len(shown), 50)
        self.assertGreater(len(shown), 0)
        self.assertEqual(len(shown) + int(m.group(1)), 60)
        self.assertEqual(shown, [f"{path}: $.k{i:02d}: unknown key" for i in range(len(shown))])

    def test_serve_logs_the_same_lines(self):
        cfg = hg.basic_config(self.tmp)
        cfg["sinks"]["stream"] = {"tpye": "stdout"}
        cfg["routes"][1]["secrets"] = ["env:HG_CHECK_UNSET"]
        path = self.write(cfg)
        p = run("serve", "-c", path)
        self.assertEqual(p.returncode, 1, p.stderr)
        line = json.loads(p.stderr.strip().splitlines()[-1])
        self.assertEqual(line["level"], "error")
        self.assertEqual(line["error"].split("\n"), [
            f"{path}: $.sinks.stream.tpye: unknown key (did you mean \"type\"?)",
            f"{path}: $.routes[1].secrets[0]: environment variable HG_CHECK_UNSET is not set or empty",
        ])
        p = run("check", "-c", path)
        self.assertEqual(problems(p.stderr), line["error"].split("\n"))


if __name__ == "__main__":
    hg.main()
