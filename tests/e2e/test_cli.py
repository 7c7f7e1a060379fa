"""The command line: check, version, usage errors, and serve on the embedded
default config (contract sections 2 and 4)."""
import json
import os
import shutil
import socket
import subprocess
import threading

import hg

STD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks example secret


def js(**keys):
    """A jetstream sink with good servers, subject and stream unless keys say
    otherwise (a key given as None is left out)."""
    s = {"type": "jetstream", "servers": ["nats://127.0.0.1:4222"], "subject": "hooks.{route}.{type}",
         "stream": {"name": "HOOKS"}, **keys}
    return {k: v for k, v in s.items() if v is not None}


def run(*args, env=None, cwd=None):
    return subprocess.run([hg.BIN, *args], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, **hg.ENV, **(env or {})), cwd=cwd)


class Cli(hg.GatewayTest):
    def write(self, cfg, name="c.json"):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
        return p

    def test_check_valid_prints_routes_and_sinks(self):
        p = run("check", "-c", self.write(hg.basic_config(self.tmp)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("route: POST /hooks/generic name=generic profile=generic secrets=1", p.stdout)
        self.assertIn("route: POST /hooks/iex name=iex profile=iex secrets=2 tolerance=300s", p.stdout)
        self.assertIn("sink: out type=stdout", p.stdout)
        self.assertIn("config ok", p.stdout)
        self.assertNotIn("generic-secret", p.stdout + p.stderr)

    def test_check_names_the_bad_key(self):
        cases = [
            (lambda c: c["routes"][0].update(secrtes=["x"]), "$.routes[0].secrtes: unknown key"),
            (lambda c: c.update(lisen=[]), "$.lisen: unknown key"),
            (lambda c: c.update(limits={"max_body": "1XB"}), "$.limits.max_body"),
            (lambda c: c.update(dedupe_window="soon"), "$.dedupe_window"),
            (lambda c: c["routes"][0].update(profile="nope"),
             "$.routes[0].profile: unknown profile \"nope\" (known: "),
            (lambda c: c["routes"][0].update(sinks=["missing"]), "$.routes[0].sinks[0]: no sink named"),
            (lambda c: c["routes"][1].update(secrets=["env:HG_UNSET_VAR"]),
             "$.routes[1].secrets[0]: environment variable HG_UNSET_VAR"),
            (lambda c: c["routes"][0].update(allow_unsigend=True), "$.routes[0].allow_unsigend: unknown key"),
            (lambda c: c["routes"][0].update(allow=["10.0.0.1/8"]),
             "$.routes[0].allow[0]: host bits set after the prefix length"),
            (lambda c: c["routes"][0].update(allow_unsigned=True),
             "$.routes[0].allow_unsigned: profile generic is signed"),
            (lambda c: c["routes"][0].update(profile="hubex", token="env:T_SECRET"),
             "$.routes[0].token: profile hubex takes its tokens from \"secrets\""),
            (lambda c: (c["routes"][0].pop("secrets"), c["routes"][0].update(profile="openwebui", allow_unsigned=True)),
             "$.routes[0]: an unsigned route needs an \"allow\" list or a \"token\""),
            (lambda c: c["listen"][0].update(tls={"cert": "/etc/hostname", "key": "/etc/hostname", "client_ca": "/x"}),
             "$.listen[0].tls.client_ca: cannot read /x: No such file or directory"),
            (lambda c: c["listen"][0].update(admin="true"), "$.listen[0].admin: must be true or false"),
            (lambda c: c.update(limits={"rate_burst": 5}), "$.limits.rate_burst: needs $.limits.rate_per_ip"),
            (lambda c: c.update(limits={"rate_per_ip": 0}), "$.limits.rate_per_ip: must be a number"),
            (lambda c: c.update(limits={"max_connections_per_ip": -1}), "$.limits.max_connections_per_ip"),
            (lambda c: c.update(limits={"max_header_size": "1B"}), "$.limits.max_header_size"),
            (lambda c: c.update(usr="nobody"), "$.usr: unknown key"),
            (lambda c: c.update(shutdown_timeout="later"), "$.shutdown_timeout: must be a duration"),
            (lambda c: c["listen"][0].update(address="127.0.0.1"), "$.listen[0].address"),
            (lambda c: c["sinks"].update(app={"type": "kafka", "subject": "hooks.x"}),
             "$.sinks.app.type: unknown sink type \"kafka\""),
            # jetstream sinks: the loader names the key and says what it wants
            (lambda c: c["sinks"].update(app={"type": "jetstream", "subject": "hooks.x"}),
             "$.sinks.app.servers: is required: [\"nats://10.0.0.5:4222\", ...]"),
            (lambda c: c["sinks"].update(app=js(servers=["http://127.0.0.1:4222"])),
             "$.sinks.app.servers: a server is nats://HOST:PORT or tls://HOST:PORT"),
            (lambda c: c["sinks"].update(app=js(subject=None)),
             "$.sinks.app.subject: is required: e.g. \"hooks.{route}.{type}\""),
            (lambda c: c["sinks"].update(app=js(subject="hooks.>")),
             "$.sinks.app.subject: a subject of dot-separated tokens without spaces, '*' or '>' (the placeholders "
             "{route}, {type} and {id} are filled per event)"),
            (lambda c: c["sinks"].update(app=js(subject="hooks.{source}")),
             "$.sinks.app.subject: unknown placeholder (known: {route} {type} {id})"),
            (lambda c: c["sinks"].update(app=js(stream=None)),
             "$.sinks.app.stream: is required: {\"name\": \"HOOKS\", \"create\": true}"),
            (lambda c: c["sinks"].update(app=js(stream={"name": "HOOKS.v1"})),
             "$.sinks.app.stream.name: a stream name has no spaces, '.', '*', '>', '/' or '\\'"),
            (lambda c: c["sinks"].update(app=js(stream={"name": "HOOKS", "replicas": 7})),
             "$.sinks.app.stream.replicas: must be an integer from 1 to 5"),
            (lambda c: c["sinks"].update(app=js(stream={"name": "HOOKS", "duplicate_window": "8d"})),
             "$.sinks.app.stream.duplicate_window: must be between 1s and 7d"),
            (lambda c: c["sinks"].update(app=js(stream={"name": "HOOKS", "retention": "limits"})),
             "$.sinks.app.stream.retention: unknown key"),
            (lambda c: c["sinks"].update(app=js(window=5000)), "$.sinks.app.window: must be an integer from 1 to 4096"),
            (lambda c: c["sinks"].update(app=js(timeout="50ms")), "$.sinks.app.timeout: must be between 100ms and 1h"),
            (lambda c: c["sinks"].update(app=js(creds="/nonexistent/hookgate.creds")),
             "$.sinks.app.creds: cannot read the credentials file"),
            (lambda c: c["sinks"].update(app=js(tls={"ca": "/nonexistent/nats-ca.pem"})),
             "$.sinks.app.tls.ca: cannot read /nonexistent/nats-ca.pem"),
            (lambda c: c["sinks"].update(app=js(concurrency=4)), "$.sinks.app.concurrency: unknown key"),
            (lambda c: c["sinks"]["out"].update(subject="hooks.x"), "$.sinks.out.subject: unknown key"),
            # http sinks: the loader names the key and says what it wants
            (lambda c: c["sinks"].update(app={"type": "http"}),
             "$.sinks.app.url: is required: e.g. \"https://orders.internal/hooks\""),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "ftp://127.0.0.1/"}),
             "$.sinks.app.url: must be an http:// or https:// URL (no spaces)"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/", "timeout": "2h"}),
             "$.sinks.app.timeout: must be between 100ms and 1h"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/", "concurrency": 300}),
             "$.sinks.app.concurrency: must be an integer from 1 to 256"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/", "format": "ndjson"}),
             "$.sinks.app.format: must be \"structured\" or \"binary\""),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/",
                                              "headers": {"Webhook-Signature": "v1,forged"}}),
             "$.sinks.app.headers: header \"Webhook-Signature\": a name without ':' or spaces and a one-line value "
             "(Host, Content-Type, Content-Length, ce-* and webhook-* are set by hookgate)"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/",
                                              "tls": {"ca": "/nonexistent/ca.pem"}}),
             "$.sinks.app.tls.ca: cannot read /nonexistent/ca.pem"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/",
                                              "tls": {"cert": "/etc/hostname"}}),
             "cert and key go together"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/",
                                              "unix_socket": "svc.sock"}),
             "$.sinks.app.unix_socket: must be an absolute path shorter than 108 bytes"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/", "sign": {}}),
             "$.sinks.app.sign.secret: is required: a Standard Webhooks secret (whsec_...)"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/",
                                              "sign": {"secret": "env:HG_UNSET_VAR"}}),
             "$.sinks.app.sign.secret: environment variable HG_UNSET_VAR is not set"),
            (lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:9/", "path": "/x.sock"}),
             "$.sinks.app.path: unknown key"),
            (lambda c: c["sinks"]["out"].update(url="http://127.0.0.1:9/"), "$.sinks.out.url: unknown key"),
        ]
        for mutate, expected in cases:
            cfg = hg.basic_config(self.tmp)
            mutate(cfg)
            p = run("check", "-c", self.write(cfg))
            self.assertEqual(p.returncode, 1, expected)
            self.assertIn(expected, p.stderr)
            self.assertEqual(p.stdout, "")

    def test_check_prints_jetstream_sinks(self):
        """A jetstream sink's line shows its servers, subject, stream, create,
        replicas and window, with the defaults when they are not set; never the
        credentials file.  `check` does not connect: no NATS server runs here."""
        creds = os.path.join(self.tmp, "hookgate.creds")
        with open(creds, "w") as f:
            f.write("-----BEGIN USER NKEY SEED-----\nSUAEXAMPLESEED\n------END USER NKEY SEED------\n")
        os.chmod(creds, 0o600)
        cfg = hg.basic_config(self.tmp)
        cfg["sinks"]["log"] = js()
        cfg["sinks"]["audit"] = js(servers=["tls://10.0.0.5:4443", "tls://10.0.0.6:4443", "nats://127.0.0.1:1"],
                                   subject="audit.{route}.{id}",
                                   stream={"name": "AUDIT", "create": True, "replicas": 3, "duplicate_window": "1h"},
                                   window=4096, timeout="500ms", creds="file:" + creds, types=["order.*", "user.*"])
        cfg["routes"][0]["sinks"] += ["log", "audit"]
        p = run("check", "-c", self.write(cfg))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertIn("sink: log type=jetstream servers=nats://127.0.0.1:4222 subject=hooks.{route}.{type} "
                      "stream=HOOKS create=no replicas=1 window=256 types=*", lines)
        self.assertIn("sink: audit type=jetstream servers=tls://10.0.0.5:4443,tls://10.0.0.6:4443,nats://127.0.0.1:1 "
                      "subject=audit.{route}.{id} stream=AUDIT create=yes replicas=3 window=4096 types=order.*,user.*",
                      lines)
        self.assertIn("route: POST /hooks/generic name=generic profile=generic secrets=1 tolerance=300s allow=0 "
                      "sinks=out,log,audit", lines)
        self.assertIn("config ok", lines)
        self.assertNotIn(creds, p.stdout + p.stderr)
        self.assertNotIn("SUAEXAMPLESEED", p.stdout + p.stderr)

    def test_check_unknown_profile_lists_every_known_one(self):
        cfg = hg.basic_config(self.tmp)
        cfg["routes"][1]["profile"] = "acme"
        p = run("check", "-c", self.write(cfg))
        self.assertEqual(p.returncode, 1)
        known = p.stderr.split("$.routes[1].profile: unknown profile \"acme\" (known: ", 1)[1].split(")")[0]
        builtin = sorted(f[:-5] for f in os.listdir(os.path.join(hg.ROOT, "schemas", "profiles"))
                         if f.endswith(".json"))
        self.assertGreaterEqual(len(builtin), 50)
        self.assertEqual(sorted(known.split(", ")), builtin)

    def test_check_prints_route_access_settings(self):
        """allow, token, allow_unsigned and type appear on the route's line;
        the token's value never does."""
        routes = [
            {"path": "/hooks/gh", "profile": "github", "secrets": ["env:T_SECRET"], "sinks": ["out"],
             "allow": ["140.82.112.0/20", "2001:db8::/32"], "token": "tok-VALUE-123", "type": "gh.push",
             "tolerance": "2d"},
            {"path": "/hooks/owui", "profile": "openwebui", "allow_unsigned": True, "allow": ["127.0.0.1"],
             "sinks": ["out"]},
        ]
        p = run("check", "-c", self.write(hg.basic_config(self.tmp, routes=routes)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("route: POST /hooks/gh name=gh profile=github secrets=1 tolerance=172800s allow=2 token=yes "
                      "type=gh.push sinks=out", p.stdout)
        self.assertIn("route: POST /hooks/owui name=owui profile=openwebui secrets=0 tolerance=300s allow=1 "
                      "unsigned=yes sinks=out", p.stdout)
        self.assertNotIn("tok-VALUE-123", p.stdout + p.stderr)
        self.assertIn("config ok", p.stdout)
        logs = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
        self.assertTrue(any(l.get("msg") == "route accepts unsigned requests" and l.get("route") == "/hooks/owui"
                            for l in logs), p.stderr)
        self.assertTrue(any("tolerance over 1d" in l.get("msg", "") and l.get("key") == "$.routes[0].tolerance"
                            for l in logs), p.stderr)

    def test_check_shows_listener_kinds(self):
        """check marks a listener that requires client certificates and an
        admin listener; a plain one shows neither."""
        cert, key = hg.make_cert(self.tmp)
        cfg = hg.basic_config(self.tmp, listen=[
            {"address": "127.0.0.1:0"},
            {"address": "127.0.0.1:0", "tls": {"cert": cert, "key": key}},
            {"address": "127.0.0.1:0", "tls": {"cert": cert, "key": key, "client_ca": cert}},
            {"address": "127.0.0.1:0", "admin": True},
        ], limits={"rate_per_ip": 5, "max_connections_per_ip": 10, "max_header_size": "8KiB"},
            shutdown_timeout="5s", user="nobody")
        p = run("check", "-c", self.write(cfg))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([l for l in p.stdout.splitlines() if l.startswith("listen: ")],
                         ["listen: 127.0.0.1:0 http", "listen: 127.0.0.1:0 https",
                          "listen: 127.0.0.1:0 https client-cert-required", "listen: 127.0.0.1:0 http admin"])
        self.assertIn("config ok", p.stdout)

    def test_check_prints_http_sinks(self):
        """An http sink's line: url, format, concurrency, timeout, then
        unix_socket and signed=yes when set, then the type filter; never a
        header value nor the signing secret (from env:, file: or a literal)."""
        sign_file = os.path.join(self.tmp, "whsec")
        with open(sign_file, "w") as f:
            f.write(STD_SECRET + "\n")
        os.chmod(sign_file, 0o600)
        sock = os.path.join(self.tmp, "svc.sock")
        sinks = {
            "out": {"type": "stdout"},
            "plain": {"type": "http", "url": "http://127.0.0.1:9000/hooks"},
            "full": {"type": "http", "url": "https://orders.internal:8443/in?x=1", "timeout": "2500ms",
                     "concurrency": 32, "headers": {"Authorization": "Bearer HDR-VALUE-7", "X-Tenant": "acme"},
                     "format": "binary", "tls": {"ca": "/etc/hostname", "cert": "/etc/hostname", "key": "/etc/hostname"},
                     "unix_socket": sock, "sign": {"secret": "env:HG_SIGN"}, "types": ["order.*", "refund.created"]},
            "lit": {"type": "http", "url": "http://127.0.0.1:9/", "timeout": 60, "format": "structured",
                    "sign": {"secret": STD_SECRET}},
            "file": {"type": "http", "url": "http://127.0.0.1:9/", "concurrency": 1,
                     "sign": {"secret": "file:" + sign_file}},
        }
        cfg = hg.basic_config(self.tmp, sinks=sinks)
        cfg["routes"][0]["sinks"] = ["out", "plain", "full"]
        p = run("check", "-c", self.write(cfg), env={"HG_SIGN": STD_SECRET})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([l for l in p.stdout.splitlines() if l.startswith("sink: ")], [
            "sink: out type=stdout types=*",
            "sink: plain type=http url=http://127.0.0.1:9000/hooks format=structured concurrency=8 timeout=10000ms "
            "types=*",
            f"sink: full type=http url=https://orders.internal:8443/in?x=*** format=binary concurrency=32 timeout=2500ms "
            f"unix_socket={sock} signed=yes types=order.*,refund.created",
            "sink: lit type=http url=http://127.0.0.1:9/ format=structured concurrency=8 timeout=60000ms signed=yes "
            "types=*",
            "sink: file type=http url=http://127.0.0.1:9/ format=structured concurrency=1 timeout=10000ms signed=yes "
            "types=*",
        ])
        self.assertIn("route: POST /hooks/generic name=generic profile=generic secrets=1 tolerance=300s allow=0 "
                      "sinks=out,plain,full", p.stdout)
        self.assertIn("config ok", p.stdout)
        for secret in (STD_SECRET, STD_SECRET[len("whsec_"):], "HDR-VALUE-7"):
            self.assertNotIn(secret, p.stdout + p.stderr)
        # the literal one is logged as a warning, by key only
        logs = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
        self.assertTrue(any(l.get("key") == "$.sinks.lit.sign.secret" and "literal secret" in l.get("msg", "")
                            for l in logs), p.stderr)

    def test_check_refuses_world_readable_secret_file(self):
        secret = os.path.join(self.tmp, "secret")
        with open(secret, "w") as f:
            f.write("s3cr3t-from-file\n")
        os.chmod(secret, 0o644)
        cfg = hg.basic_config(self.tmp)
        cfg["routes"][1]["secrets"] = ["env:T_OLD", "file:" + secret]
        path = self.write(cfg)
        p = run("check", "-c", path)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"$.routes[1].secrets[1]: secret file {secret} is readable by other users; chmod o-r",
                      p.stderr)
        self.assertNotIn("s3cr3t-from-file", p.stdout + p.stderr)
        os.chmod(secret, 0o600)
        p = run("check", "-c", path)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_check_bad_json_and_missing_file(self):
        p = run("check", "-c", self.write('{"listen": [}'))
        self.assertEqual(p.returncode, 1)
        self.assertIn("line 1", p.stderr)
        p = run("check", "-c", os.path.join(self.tmp, "absent.json"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("No such file", p.stderr)
        # a directory opens like a file: the read error is the message (was "empty file")
        p = run("check", "-c", self.tmp)
        self.assertEqual(p.returncode, 1)
        self.assertIn("Is a directory", p.stderr)

    def test_usage_and_version(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run("frobnicate").returncode, 2)
        self.assertEqual(run("check").returncode, 2)
        p = run("version")
        self.assertEqual(p.returncode, 0)
        for lib in ("hookgate", "libmicrohttpd", "OpenSSL", "jansson", "LMDB"):
            self.assertIn(lib, p.stdout)

    def test_help_goes_to_stdout_and_lists_every_command(self):
        """`hookgate --help | less` shows the usage: stdout, exit 0, nothing on
        stderr; every command is listed, `events replay` included."""
        for args in (["--help"], ["-h"], ["help"]):
            p = run(*args)
            self.assertEqual((p.returncode, p.stderr), (0, ""), args)
            lines = p.stdout.splitlines()
            self.assertEqual(lines[0], "usage: hookgate serve [-c FILE]", args)
            for cmd in ("serve [-c FILE]", "check -c FILE", "events list", "events show ID_OR_SEQ",
                        "events dead", "events replay --sink S", "gc (-c FILE | --data DIR)",
                        "sign -p PROFILE -s SECRET", "send-test URL -p PROFILE -s SECRET", "version"):
                self.assertTrue([l for l in lines if l.startswith(("usage: hookgate " + cmd,
                                                                   "       hookgate " + cmd))],
                                (cmd, p.stdout))
            self.assertIn("Exit codes: 0 ok, 1 runtime or config error, 2 usage error.", lines)
        # through a real pipe, as `hookgate --help | head -1`
        p = subprocess.run(f"'{hg.BIN}' --help | head -1; echo \"rc=${{PIPESTATUS[0]}}\"", shell=True,
                           executable="/bin/bash", capture_output=True, text=True, timeout=30)
        self.assertEqual((p.stdout, p.stderr), ("usage: hookgate serve [-c FILE]\nrc=0\n", ""))

    def test_each_command_has_its_help(self):
        """`hookgate CMD --help` (or -h, anywhere among its options) prints
        that command's usage and what it does on stdout, exit 0."""
        first = {"serve": "usage: hookgate serve [-c FILE]",
                 "check": "usage: hookgate check -c FILE",
                 "events": "usage: hookgate events list [--route R] [--limit N] [-c FILE | --data DIR]",
                 "gc": "usage: hookgate gc (-c FILE | --data DIR) [--window DURATION]",
                 "sign": "usage: hookgate sign -p PROFILE -s SECRET [--id ID] [--type TYPE] [--nonce N]",
                 "send-test": "usage: hookgate send-test URL -p PROFILE -s SECRET [--type TYPE] [--id ID]",
                 "version": "usage: hookgate version"}
        cases = [([c, "--help"], c) for c in first] + [([c, "-h"], c) for c in first] + [
            (["events", "list", "--help"], "events"), (["events", "replay", "--sink", "out", "-h"], "events"),
            (["sign", "-p", "generic", "--help"], "sign"), (["check", "-c", "x.json", "--help"], "check"),
            (["help", "gc"], "gc")]
        for args, cmd in cases:
            p = run(*args)
            self.assertEqual((p.returncode, p.stderr), (0, ""), args)
            lines = p.stdout.splitlines()
            self.assertEqual(lines[0], first[cmd], args)
            self.assertNotIn("hookgate COMMAND --help", p.stdout)  # the command's own, not all of them
            self.assertGreater(len([l for l in lines if l and not l.startswith(("usage:", " "))]), 0, args)
        self.assertIn("hookgate events replay --sink S (--seq N | --since TIME | --dead)", run("events", "-h").stdout)
        self.assertIn("./hookgate-data", run("events", "-h").stdout)

    def test_usage_errors_say_what_is_wrong_first(self):
        """An unknown command or option, a missing value or argument: the
        reason on the first line of stderr, then the usage; nothing on
        stdout; exit 2."""
        cases = [
            ([], "hookgate: missing command", "usage: hookgate serve [-c FILE]"),
            (["bogus"], "hookgate: unknown command 'bogus'", "usage: hookgate serve [-c FILE]"),
            (["--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate serve [-c FILE]"),
            (["help", "bogus"], "hookgate: unknown command 'bogus'", "usage: hookgate serve [-c FILE]"),
            (["serve", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate serve [-c FILE]"),
            (["serve", "-c"], "hookgate: option '-c' needs a value", "usage: hookgate serve [-c FILE]"),
            (["serve", "extra"], "hookgate: unexpected argument 'extra'", "usage: hookgate serve [-c FILE]"),
            (["check", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate check -c FILE"),
            (["check"], "hookgate: check needs -c FILE", "usage: hookgate check -c FILE"),
            (["events", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate events list"),
            (["events"], "hookgate: events needs a command: list, show, dead, replay or rejected",
             "usage: hookgate events list"),
            (["events", "bogus"], "hookgate: unknown command 'events bogus'", "usage: hookgate events list"),
            (["events", "list", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate events list"),
            (["events", "list", "--data"], "hookgate: option '--data' needs a value", "usage: hookgate events list"),
            (["events", "list", "--limit", "0", "--data", "d"], "hookgate: --limit takes a positive number, not '0'",
             "usage: hookgate events list"),
            (["events", "show", "--data", "d"], "hookgate: events show needs ID_OR_SEQ",
             "usage: hookgate events list"),
            (["events", "list", "7", "--data", "d"], "hookgate: unexpected argument '7'",
             "usage: hookgate events list"),
            (["events", "replay", "--sink", "out", "--data", "d"],
             "hookgate: events replay needs --sink S and one of --seq N, --since TIME or --dead",
             "usage: hookgate events list"),
            (["gc", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate gc (-c FILE | --data DIR)"),
            (["gc"], "hookgate: gc needs -c FILE or --data DIR", "usage: hookgate gc (-c FILE | --data DIR)"),
            (["sign", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate sign -p PROFILE"),
            (["sign", "-p", "generic"], "hookgate: sign needs -s SECRET", "usage: hookgate sign -p PROFILE"),
            (["sign", "-s"], "hookgate: option '-s' needs a value", "usage: hookgate sign -p PROFILE"),
            (["sign", "--insecure"], "hookgate: unknown option '--insecure'", "usage: hookgate sign -p PROFILE"),
            (["send-test", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate send-test URL"),
            (["send-test", "-p", "generic", "-s", "x"], "hookgate: send-test needs URL",
             "usage: hookgate send-test URL"),
            (["send-test", "http://127.0.0.1:9/", "-p", "generic", "-s", "x", "--nonce", "n"],
             "hookgate: unknown option '--nonce'", "usage: hookgate send-test URL"),
            (["version", "--bogus"], "hookgate: unknown option '--bogus'", "usage: hookgate version"),
        ]
        for args, reason, usage in cases:
            p = run(*args, cwd=self.tmp)
            lines = p.stderr.splitlines()
            self.assertEqual((p.returncode, p.stdout), (2, ""), (args, p.stderr))
            self.assertEqual(lines[0], reason, args)
            self.assertTrue(lines[1].startswith(usage), (args, p.stderr))

    def test_version_lists_every_library_at_run_time(self):
        """`hookgate version`: hookgate's own version first (scripts read that
        line), then each linked library with the version it reports at run
        time, which matches what the system has installed."""
        p = run("version")
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r"^hookgate \d+\.\d+\.\d+(\+\w+)?$")
        self.assertEqual(run("--version").stdout, p.stdout)
        names = ["libmicrohttpd", "GnuTLS", "OpenSSL", "jansson", "LMDB", "libcurl", "libnats"]
        self.assertEqual([l.split(" ")[0] for l in lines[1:]], names, p.stdout)
        got = dict(l.split(" ", 1) for l in lines[1:])
        for name in names:
            self.assertRegex(got[name], r"^\d+\.\d+(\.\d+)?$", name)
        pkgs = {"libmicrohttpd": "libmicrohttpd", "GnuTLS": "gnutls", "OpenSSL": "openssl", "jansson": "jansson",
                "LMDB": "lmdb", "libcurl": "libcurl", "libnats": "libnats"}
        checked = 0
        if shutil.which("pkg-config"):
            for name, pkg in pkgs.items():
                v = subprocess.run(["pkg-config", "--modversion", pkg], capture_output=True, text=True)
                if v.returncode == 0:
                    self.assertEqual(got[name], v.stdout.strip(), name)
                    checked += 1
        if shutil.which("openssl"):
            v = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()
            self.assertEqual(got["OpenSSL"], v[1], v)
            checked += 1
        if shutil.which("curl"):
            v = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()
            self.assertIn("libcurl/" + got["libcurl"], v)
            checked += 1
        self.assertGreater(checked, 0, "nothing on this system to compare the versions with")

    def test_send_test_to_a_closed_port_names_address_port_and_reason(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        p = run("send-test", f"http://127.0.0.1:{port}/webhooks", "-p", "generic", "-s", "a-test-secret")
        self.assertEqual((p.returncode, p.stdout), (1, ""))
        self.assertEqual(p.stderr, f"hookgate: cannot connect to 127.0.0.1:{port}: Connection refused\n")
        p = run("send-test", f"http://[::1]:{port}/webhooks", "-p", "generic", "-s", "a-test-secret")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, rf"^hookgate: cannot connect to \[::1\]:{port}: "
                                   r"(Connection refused|Cannot assign requested address|Network is unreachable"
                                   r"|Address family not supported by protocol)\n$")

    def test_events_default_to_the_embedded_data_dir(self):
        """Without -c or --data, the events commands read ./hookgate-data (the
        embedded default's data_dir) and say so on stderr; without it they
        say what to pass."""
        cwd = os.path.join(self.tmp, "cwd")
        os.mkdir(cwd)
        for sub in (["list"], ["show", "1"], ["dead"], ["replay", "--sink", "out", "--seq", "1"]):
            p = run("events", *sub, cwd=cwd)
            self.assertEqual((p.returncode, p.stdout), (2, ""), sub)
            self.assertEqual(p.stderr.splitlines()[0], "hookgate: no ./hookgate-data here (the embedded default's "
                                                       "data directory): pass -c FILE or --data DIR", sub)
        cfg = hg.basic_config(self.tmp)
        cfg["data_dir"] = os.path.join(cwd, "hookgate-data")
        g = self.gateway(cfg)
        self.assertEqual(self.post_generic(g, b'{"event_id":"dd-1","event":"order.created"}').status, 200)
        g.wait_events(1)
        p = run("events", "list", cwd=cwd)
        self.assertEqual((p.returncode, p.stderr), (0, "hookgate: reading data directory ./hookgate-data\n"))
        rows = [l.split("\t") for l in p.stdout.splitlines()[1:]]
        self.assertEqual([r[3:5] for r in rows], [["dd-1", "order.created"]])
        p = run("events", "show", "dd-1", cwd=cwd)
        self.assertEqual((p.returncode, p.stderr), (0, "hookgate: reading data directory ./hookgate-data\n"))
        self.assertEqual(json.loads(p.stdout)["id"], "dd-1")
        p = run("events", "dead", cwd=cwd)
        self.assertEqual((p.returncode, p.stderr), (0, "hookgate: reading data directory ./hookgate-data\n"))
        # naming a store says nothing
        p = run("events", "list", "--data", cfg["data_dir"], cwd=cwd)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        p = run("events", "list", "-c", g.cfg_path, cwd=cwd)
        self.assertEqual((p.returncode, p.stderr), (0, ""))

    def test_serve_refuses_bad_config_with_a_log_line(self):
        cfg = hg.basic_config(self.tmp)
        cfg["routes"][0]["tolerence"] = "5m"
        p = run("serve", "-c", self.write(cfg))
        self.assertEqual(p.returncode, 1)
        line = json.loads(p.stderr.strip().splitlines()[-1])
        self.assertEqual(line["level"], "error")
        self.assertIn("$.routes[0].tolerence: unknown key", line["error"])

    def test_threads_and_one_gateway_per_store(self):
        """threads 1 and 2 both serve; with one thread a second gateway on
        the same fixed port fails to bind; and whatever the port, a second
        gateway on the same data_dir is refused (it would deliver twice)."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        for threads in (1, 2):
            cfg = hg.basic_config(self.tmp, listen=[{"address": f"127.0.0.1:{port}"}], threads=threads)
            cfg["data_dir"] = os.path.join(self.tmp, f"data{threads}")
            g = self.gateway(cfg)
            self.assertEqual(g.ports, [port])
            self.assertEqual(self.post_generic(g, b'{"event_id":"t%d"}' % threads).status, 200)
            if threads == 1:
                p = run("serve", "-c", self.write(dict(cfg, data_dir=os.path.join(self.tmp, "other"))))
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("http: cannot bind listener", p.stderr)
            p = run("serve", "-c", self.write(dict(cfg, listen=[{"address": "127.0.0.1:0"}])))
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("data_dir is in use by another hookgate process", p.stderr)
            g.stop()

    def test_events_list_and_show_while_serving(self):
        g = self.gateway(hg.basic_config(self.tmp))
        data = os.path.join(self.tmp, "data")
        for i in range(3):
            body = b'{"event_id":"cli-%d","event":"order.created"}' % i
            self.assertEqual(self.post_generic(g, body).status, 200)
        self.post_generic(g, b'{"note":"header id"}', headers={"X-Webhook-Event-Id": "hdr-id"})
        g.wait_events(4)
        p = run("events", "list", "--data", data, "--limit", "2")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [l.split("\t") for l in p.stdout.splitlines()[1:]]
        self.assertEqual([r[0] for r in rows], ["3", "4"])
        self.assertEqual(rows[0][2:5], ["generic", "cli-2", "order.created"])
        p = run("events", "list", "-c", g.cfg_path)
        self.assertEqual(len(p.stdout.splitlines()), 5)
        for key in ("2", "cli-1", "hdr-id"):
            p = run("events", "show", key, "--data", data)
            self.assertEqual(p.returncode, 0, p.stderr)
            e = json.loads(p.stdout)
            self.assertEqual(e["specversion"], "1.0")
        self.assertEqual(json.loads(run("events", "show", "cli-1", "--data", data).stdout)["hookgateseq"], 2)
        self.assertEqual(json.loads(run("events", "show", "hdr-id", "--data", data).stdout)["id"], "hdr-id")
        p = run("events", "show", "nope", "--data", data)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no event nope", p.stderr)
        # the event cannot be written out (disk full): the command fails
        with open("/dev/full", "w") as full:
            p = subprocess.run([hg.BIN, "events", "show", "2", "--data", data], stdout=full,
                               stderr=subprocess.PIPE, timeout=30, env=dict(os.environ, **hg.ENV))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(run("events", "show", "--data", data).returncode, 2)
        p = run("events", "list", cwd=self.tmp)  # no -c, no --data, no ./hookgate-data
        self.assertEqual(p.returncode, 2)
        self.assertIn("pass -c FILE or --data DIR", p.stderr.splitlines()[0])
        p = run("events", "dead", "--data", data)
        self.assertEqual(p.stdout.splitlines(), ["SINK\tSEQ\tATTEMPTS\tFAILED_AT\tLAST_ERROR"])
        p = run("events", "list", "--data", os.path.join(self.tmp, "nowhere"))
        self.assertEqual(p.returncode, 1)

    def test_replay_to_stdout(self):
        g = self.gateway(hg.basic_config(self.tmp))
        data = os.path.join(self.tmp, "data")
        for i in range(3):
            self.assertEqual(self.post_generic(g, b'{"event_id":"rp-%d"}' % i).status, 200)
        g.wait_events(3)
        p = run("events", "replay", "--sink", "out", "--seq", "2", "--data", data)
        self.assertEqual(p.returncode, 0, p.stderr)
        ids = [e["id"] for e in g.wait_events(5)]
        self.assertEqual(ids, ["rp-0", "rp-1", "rp-2", "rp-1", "rp-2"])
        p = run("events", "replay", "--sink", "out", "--since", "2000-01-01T00:00:00Z", "--data", data)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("from seq 1", p.stdout)
        self.assertEqual(len(g.wait_events(8)), 8)
        p = run("events", "replay", "--sink", "out", "--since", "2999-01-01T00:00:00Z", "--data", data)
        self.assertIn("nothing to replay", p.stdout)
        self.assertEqual(run("events", "replay", "--sink", "out", "--since", "yesterday",
                             "--data", data).returncode, 2)
        # unix seconds whose milliseconds overflow int64 (was signed overflow, UB)
        for since in ("99999999999999999", "-99999999999999999"):
            self.assertEqual(run("events", "replay", "--sink", "out", "--since", since,
                                 "--data", data).returncode, 2, since)

    def test_send_test_refuses_a_status_out_of_range(self):
        """send-test reads the answer's status strictly: "4294967496" is not
        200 (sscanf's %d used to wrap it to 200 and report success)."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        self.addCleanup(srv.close)

        def answer():
            c, _ = srv.accept()
            with c:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += c.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                     if l.lower().startswith(b"content-length:")]
                while n and len(body) < n[0]:
                    body += c.recv(65536)
                c.sendall(b"HTTP/1.1 4294967496 Huge\r\nContent-Length: 2\r\n"
                          b"Connection: close\r\n\r\nok")

        t = threading.Thread(target=answer, daemon=True)
        t.start()
        url = "http://127.0.0.1:%d/x" % srv.getsockname()[1]
        p = run("send-test", url, "-p", "generic", "-s", "a-test-secret")
        t.join(30)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("no HTTP answer", p.stderr)

    def test_embedded_default(self):
        """hookgate serve with no config: 127.0.0.1:8080, /webhooks, a secret
        generated into ./hookgate-data/secret (0600) when $HOOKGATE_SECRET is unset."""
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 8080))
        except OSError:
            self.skipTest("port 8080 is busy on this machine")
        finally:
            s.close()
        env = {k: v for k, v in os.environ.items() if k != "HOOKGATE_SECRET"}
        g = hg.Gateway(self.tmp, None, env, cwd=self.tmp)
        self.gws.append(g)
        g.start()
        self.assertEqual(g.ports, [8080])
        secret_file = os.path.join(self.tmp, "hookgate-data", "secret")
        self.assertEqual(os.stat(secret_file).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.join(self.tmp, "hookgate-data")).st_mode & 0o777, 0o700)
        started = [l for l in g.logs() if l.get("msg") == "running the embedded default config"]
        self.assertEqual(started[0]["secret"], "./hookgate-data/secret")
        with open(secret_file) as f:
            secret = f.read().strip()
        self.assertEqual(len(secret), 64)
        self.assertNotIn(secret, g.stderr())
        r = self.post_generic(g, b'{"event_id":"dflt","event":"ping"}', secret=secret, path="/webhooks")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(g.wait_events(1)[0]["hookgateroute"], "webhooks")


if __name__ == "__main__":
    hg.main()
