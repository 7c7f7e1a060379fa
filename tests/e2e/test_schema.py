"""schemas/config.schema.json and schemas/event.schema.json against the real
binary: the config schema and the strict loader (`hookgate check`) must agree
on the configs below, and every envelope the gateway really writes to stdout
must validate against the event schema (contract sections 3 and 6).

Validation uses the jsonschema package (Draft 2020-12).  Its "date-time"
format check needs an extra package (rfc3339-validator) that some installs
lack; then the time fields are checked with an RFC 3339 regex here instead.
"""
import base64
import copy
import datetime
import json
import os
import re
import subprocess
import unittest

import hg

try:
    from jsonschema import Draft202012Validator, FormatChecker
except ImportError:  # the whole file is skipped, loudly
    Draft202012Validator = FormatChecker = None

SCHEMAS = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../schemas"))
DESIGN = os.environ.get("HG_DESIGN", os.path.join(os.path.dirname(__file__), "../../../shared/design/hookgate.md"))

FORMATS = FormatChecker() if FormatChecker else None
# True when this jsonschema really checks "date-time" (and does not just pass it).
HAVE_DATETIME = bool(FORMATS) and not FORMATS.conforms("yesterday", "date-time")

RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")


def rfc3339_ok(s):
    """RFC 3339 section 5.6 date-time, fields in range (no leap second)."""
    m = RFC3339.match(s) if isinstance(s, str) else None
    if not m:
        return False
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime.datetime(y, mo, d, h, mi, sec)
    except ValueError:
        return False
    return m.group(9) is None or (int(m.group(9)) <= 23 and int(m.group(10)) <= 59)


def load_validator(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return schema, Draft202012Validator(schema, format_checker=FORMATS)


def errors(validator, doc):
    return sorted(e.message for e in validator.iter_errors(doc))


def json_path(parts):
    """["routes", 0, "path"] -> "$.routes[0].path", the loader's notation."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def envelope_errors(validator, ev):
    """Schema errors, plus the date-time checks the schema could not make here."""
    errs = errors(validator, ev)
    if not HAVE_DATETIME and isinstance(ev, dict):
        for k in ("time", "hookgatereceived"):
            if k in ev and not rfc3339_ok(ev[k]):
                errs.append(f"{k}: {ev[k]!r} is not an RFC 3339 date-time")
    return errs


# The example of contract section 3, verbatim (compared with the design page
# when it is present).
CONTRACT_EXAMPLE = {
    "listen": [
        {"address": "0.0.0.0:8443", "tls": {"cert": "/etc/hookgate/cert.pem", "key": "/etc/hookgate/key.pem"}},
        {"address": "127.0.0.1:8080"},
    ],
    "data_dir": "/var/lib/hookgate",
    "limits": {"max_body": "1MiB", "max_connections": 1024, "request_timeout": "10s", "max_store_size": "16GiB"},
    "dedupe_window": "7d",
    "retry": {"max_attempts": 12, "initial": "1s", "max": "1h"},
    "routes": [
        {"path": "/hooks/iex", "profile": "iex", "secrets": ["env:IEX_SECRET", "file:/run/secrets/iex_previous"], "sinks": ["orders"]},
        {"path": "/hooks/hubex", "profile": "hubex", "secrets": ["env:HUBEX_TOKEN"], "sinks": ["stream"]},
        {"path": "/hooks/gh", "profile": "github", "secrets": ["file:/run/secrets/gh"], "allow": ["140.82.112.0/20"], "sinks": ["stream"]},
    ],
    "sinks": {
        "stream": {"type": "stdout"},
        "app": {"type": "unix", "path": "/run/app/events.sock"},
        "orders": {"type": "exec", "command": ["/usr/local/bin/on-order", "--quiet"], "concurrency": 4, "timeout": "30s", "types": ["order.*"]},
        "worker": {"type": "pipe", "command": ["python3", "worker.py"]},
        "orders_api": {"type": "http", "url": "http://127.0.0.1:9000/hooks", "format": "structured"},
        "log": {"type": "jetstream", "servers": ["nats://127.0.0.1:4222"], "subject": "hooks.{route}.{type}"},
    },
}

BUILT_PROFILES = ("generic", "iex")
REFUSED_ROUTE_KEYS = ("allow", "allow_unsigned", "token")


def minus_refused(cfg):
    """The contract example without what this build refuses: routes on profiles
    it does not have, route allow/token/allow_unsigned, sinks other than stdout
    (a route left without a sink is sent to the first stdout sink)."""
    cfg = copy.deepcopy(cfg)
    cfg["sinks"] = {k: v for k, v in cfg["sinks"].items() if v["type"] in ("stdout", "exec", "unix", "pipe")}
    fallback = next(iter(cfg["sinks"]))
    routes = []
    for r in cfg["routes"]:
        if r["profile"] not in BUILT_PROFILES:
            continue
        for k in REFUSED_ROUTE_KEYS:
            r.pop(k, None)
        r["sinks"] = [s for s in r["sinks"] if s in cfg["sinks"]] or [fallback]
        routes.append(r)
    cfg["routes"] = routes
    for l in cfg["listen"]:
        if "tls" in l:
            l["tls"].pop("client_ca", None)
    return cfg


def route0(cfg):
    return cfg["routes"][0]


# (name, mutation of hg.basic_config, what `hookgate check` must say)
INVALID = [
    ("unknown top-level key", lambda c: c.update(lisen=[]), "$.lisen: unknown key"),
    ("unknown route key", lambda c: route0(c).update(secrtes=["x"]), "$.routes[0].secrtes: unknown key"),
    ("unknown listener key", lambda c: c["listen"][0].update(port=80), "$.listen[0].port: unknown key"),
    ("unknown limits key", lambda c: c.update(limits={"max_bodyy": 1}), "$.limits.max_bodyy: unknown key"),
    ("unknown retry key", lambda c: c.update(retry={"attempts": 3}), "$.retry.attempts: unknown key"),
    ("unknown sink key", lambda c: c["sinks"]["out"].update(path="/x"), "$.sinks.out.path: unknown key"),
    ("bad profile", lambda c: route0(c).update(profile="nope"), "$.routes[0].profile: unknown profile"),
    ("profile of the contract not built", lambda c: route0(c).update(profile="github"),
     "$.routes[0].profile: unknown profile"),
    ("profile not a string", lambda c: route0(c).update(profile=1), "$.routes[0].profile: is required"),
    ("missing routes", lambda c: c.pop("routes"), "$.routes: must be a non-empty array"),
    ("empty routes", lambda c: c.update(routes=[]), "$.routes: must be a non-empty array"),
    ("missing listen", lambda c: c.pop("listen"), "$.listen: must be an array of 1 to 16"),
    ("17 listeners", lambda c: c.update(listen=[{"address": "127.0.0.1:0"}] * 17), "$.listen: must be an array of 1 to 16"),
    ("missing sinks", lambda c: c.pop("sinks"), "$.sinks: must be an object of named sinks"),
    ("empty sinks", lambda c: c.update(sinks={}), "$.sinks: must be an object of named sinks"),
    ("route without path", lambda c: route0(c).pop("path"), "$.routes[0].path: is required"),
    ("route without secrets", lambda c: route0(c).pop("secrets"), "$.routes[0].secrets: must be an array of 1 to 16"),
    ("route without sinks", lambda c: route0(c).pop("sinks"), "$.routes[0].sinks: must be a non-empty array"),
    ("17 secrets", lambda c: route0(c).update(secrets=["env:T_SECRET"] * 17), "$.routes[0].secrets: must be an array of 1 to 16"),
    ("empty secret", lambda c: route0(c).update(secrets=[""]), "$.routes[0].secrets[0]: must be"),
    ("env: without a name", lambda c: route0(c).update(secrets=["env:"]), "$.routes[0].secrets[0]: environment variable"),
    ("path without /", lambda c: route0(c).update(path="hooks/x"), "$.routes[0].path: must start with '/'"),
    ("path too long", lambda c: route0(c).update(path="/" + "a" * 256), "$.routes[0].path: must start with '/'"),
    ("reserved path", lambda c: route0(c).update(path="/healthz"), "$.routes[0].path: /healthz is reserved"),
    ("empty route name", lambda c: route0(c).update(name=""), "$.routes[0].name: must be a non-empty string"),
    ("sink listed twice", lambda c: route0(c).update(sinks=["out", "out"]), "$.routes[0].sinks[1]: sink \"out\" listed twice"),
    ("tolerance 0", lambda c: route0(c).update(tolerance=0), "$.routes[0].tolerance: must be between 1s and 1d"),
    ("tolerance over 1d", lambda c: route0(c).update(tolerance=86401), "$.routes[0].tolerance: must be between 1s and 1d"),
    ("tolerance not a duration", lambda c: route0(c).update(tolerance="5 min"), "$.routes[0].tolerance: must be a duration"),
    ("route allow", lambda c: route0(c).update(allow=["10.0.0.0/8"]), "$.routes[0].allow: not supported by this build yet"),
    ("route token", lambda c: route0(c).update(token="env:T_SECRET"), "$.routes[0].token: not supported by this build yet"),
    ("route allow_unsigned", lambda c: route0(c).update(allow_unsigned=True),
     "$.routes[0].allow_unsigned: not supported by this build yet"),
    ("address without port", lambda c: c["listen"][0].update(address="127.0.0.1"), "$.listen[0].address: must be"),
    ("address port too big", lambda c: c["listen"][0].update(address="127.0.0.1:65536"), "$.listen[0].address: port must be 0-65535"),
    ("address host name", lambda c: c["listen"][0].update(address="example.com:80"), "$.listen[0].address: host must be"),
    ("address IPv6 zone", lambda c: c["listen"][0].update(address="[fe80::1%lo]:80"), "$.listen[0].address: host must be"),
    ("tls without key", lambda c: c["listen"][0].update(tls={"cert": "/nonexistent.pem"}), "$.listen[0].tls"),
    ("tls client_ca", lambda c: c["listen"][0].update(tls={"client_ca": "/x.pem"}),
     "$.listen[0].tls.client_ca: not supported by this build yet"),
    ("unix without path", lambda c: c["sinks"].update(app={"type": "unix"}),
     "$.sinks.app.path: is required"),
    ("unix relative path", lambda c: c["sinks"].update(app={"type": "unix", "path": "run/x.sock"}),
     "$.sinks.app.path: must be an absolute path"),
    ("exec without command", lambda c: c["sinks"].update(app={"type": "exec"}),
     "$.sinks.app.command: is required"),
    ("exec key on stdout", lambda c: c["sinks"].update(app={"type": "stdout", "command": ["true"]}),
     "$.sinks.app.command: unknown key"),
    ("exec concurrency 0", lambda c: c["sinks"].update(app={"type": "exec", "command": ["true"], "concurrency": 0}),
     "$.sinks.app.concurrency"),
    ("pipe without command", lambda c: c["sinks"].update(app={"type": "pipe"}),
     "$.sinks.app.command: is required"),
    ("pipe with ack key", lambda c: c["sinks"].update(app={"type": "pipe", "command": ["cat"], "ack": True}),
     "$.sinks.app.ack: unknown key"),
    ("sink type http", lambda c: c["sinks"].update(app={"type": "http", "url": "http://127.0.0.1:1/"}),
     "$.sinks.app.type: sink type \"http\" is not supported by this build yet"),
    ("sink type jetstream", lambda c: c["sinks"].update(app={"type": "jetstream", "subject": "x"}),
     "$.sinks.app.type: sink type \"jetstream\" is not supported by this build yet"),
    ("unknown sink type", lambda c: c["sinks"].update(app={"type": "file"}), "$.sinks.app.type: unknown sink type \"file\""),
    ("sink without type", lambda c: c["sinks"].update(app={}), "$.sinks.app.type: is required"),
    ("bad sink name", lambda c: c["sinks"].update({"my sink": {"type": "stdout"}}), "sink names are 1-64 of"),
    ("sink name too long", lambda c: c["sinks"].update({"s" * 65: {"type": "stdout"}}), "sink names are 1-64 of"),
    ("empty types", lambda c: c["sinks"]["out"].update(types=[]), "$.sinks.out.types: must be a non-empty array"),
    ("empty type glob", lambda c: c["sinks"]["out"].update(types=[""]), "$.sinks.out.types[0]: must be a non-empty string"),
    ("bad size", lambda c: c.update(limits={"max_body": "1XB"}), "$.limits.max_body: must be a size"),
    ("size with a space", lambda c: c.update(limits={"max_body": "1 MiB"}), "$.limits.max_body: must be a size"),
    ("negative size", lambda c: c.update(limits={"max_body": -1}), "$.limits.max_body: must be a size"),
    ("max_body 0", lambda c: c.update(limits={"max_body": 0}), "$.limits.max_body: must be between 1 byte and 1GiB"),
    ("max_body \"0KiB\"", lambda c: c.update(limits={"max_body": "0KiB"}), "$.limits.max_body: must be between 1 byte and 1GiB"),
    ("max_body over 1GiB", lambda c: c.update(limits={"max_body": (1 << 30) + 1}), "$.limits.max_body: must be between"),
    ("max_connections 0", lambda c: c.update(limits={"max_connections": 0}), "$.limits.max_connections: must be an integer from 1 to 65536"),
    ("max_connections as string", lambda c: c.update(limits={"max_connections": "10"}), "$.limits.max_connections: must be an integer"),
    ("request_timeout 0", lambda c: c.update(limits={"request_timeout": 0}), "$.limits.request_timeout: must be between 1s and 1h"),
    ("request_timeout over 1h", lambda c: c.update(limits={"request_timeout": 3601}), "$.limits.request_timeout: must be between 1s and 1h"),
    ("max_store_size under 1MiB", lambda c: c.update(limits={"max_store_size": 1000}), "$.limits.max_store_size: must be at least 1MiB"),
    ("bad duration", lambda c: c.update(dedupe_window="soon"), "$.dedupe_window: must be a duration"),
    ("negative duration", lambda c: c.update(dedupe_window=-1), "$.dedupe_window: must be a duration"),
    ("duration unit w", lambda c: c.update(dedupe_window="2w"), "$.dedupe_window: must be a duration"),
    ("retry initial 0", lambda c: c.update(retry={"initial": "0s"}), "$.retry: need 0 < initial <= max"),
    ("retry max_attempts 0", lambda c: c.update(retry={"max_attempts": 0}), "$.retry.max_attempts: must be an integer from 1 to 1000"),
    ("threads 0", lambda c: c.update(threads=0), "$.threads: must be an integer from 1 to 64"),
    ("threads 65", lambda c: c.update(threads=65), "$.threads: must be an integer from 1 to 64"),
    ("log_level verbose", lambda c: c.update(log_level="verbose"), "$.log_level: must be"),
    ("data_dir empty", lambda c: c.update(data_dir=""), "$.data_dir: must be a non-empty string"),
    ("data_dir not a string", lambda c: c.update(data_dir=1), "$.data_dir: must be a non-empty string"),
]

# (name, mutation) accepted by both
VALID = [
    ("sizes and durations as strings", lambda c: c.update(
        limits={"max_body": "512KiB", "max_connections": 1, "request_timeout": "250000ms", "max_store_size": "2GB"},
        dedupe_window="36h", retry={"max_attempts": 1000, "initial": "250ms", "max": "5m"})),
    ("sizes and durations as integers", lambda c: c.update(
        limits={"max_body": 1 << 30, "max_connections": 65536, "request_timeout": 3600, "max_store_size": 1 << 20},
        dedupe_window=0, retry={"max_attempts": 1, "initial": 1, "max": 1})),
    ("every size unit", lambda c: c.update(limits={"max_body": "1048576", "max_store_size": "1TiB"})),
    ("size in B, KB, MB", lambda c: c.update(limits={"max_body": "100B", "max_store_size": "2MB"})),
    ("duration in s, m, d", lambda c: c.update(limits={"request_timeout": "1m"}, dedupe_window="30d",
                                             retry={"initial": "1s", "max": "1h"})),
    ("empty limits and retry", lambda c: c.update(limits={}, retry={})),
    ("log levels and threads", lambda c: c.update(log_level="debug", threads=64)),
    ("log level error, 1 thread", lambda c: c.update(log_level="error", threads=1)),
    ("listeners: IPv6, localhost, any", lambda c: c.update(listen=[
        {"address": "[::1]:0"}, {"address": "localhost:0"}, {"address": "0.0.0.0:65535"}])),
    ("route name, tolerance, literal and file secrets", lambda c: route0(c).update(
        name="gen", tolerance="1d", secrets=["a-literal-secret", "file:" + c["_secret_file"], "env:T_SECRET"])),
    ("tolerance as seconds", lambda c: c["routes"][1].update(tolerance=1)),
    ("root path", lambda c: route0(c).update(path="/")),
    ("type filters and several sinks", lambda c: (
        c["sinks"].update({"orders.v1": {"type": "stdout", "types": ["order.*", "refund.created"]},
                           "A-z_0.9": {"type": "stdout"}}),
        route0(c).update(sinks=["out", "orders.v1", "A-z_0.9"]))),
    ("16 secrets and 16 listeners", lambda c: (
        route0(c).update(secrets=["env:T_SECRET"] * 16),
        c.update(listen=[{"address": "127.0.0.1:0"}] * 16))),
]

# (name, mutation, loader message): cross-checks the loader makes and JSON
# Schema cannot express; the schema's descriptions say so.
LOADER_ONLY = [
    ("route to a missing sink", lambda c: route0(c).update(sinks=["nosuch"]), "no sink named \"nosuch\""),
    ("two routes on one path", lambda c: c["routes"][1].update(path="/hooks/generic"), "is already used by $.routes[0]"),
    ("two routes with one name", lambda c: c["routes"][1].update(path="/other/generic"),
     "route name \"generic\" is already used"),
    ("unset environment variable", lambda c: route0(c).update(secrets=["env:HG_SURELY_UNSET"]),
     "environment variable HG_SURELY_UNSET is not set"),
    ("unreadable secret file", lambda c: route0(c).update(secrets=["file:/nonexistent/secret"]), "cannot read secret file"),
    ("max_body as a string over 1GiB", lambda c: c.update(limits={"max_body": "2GiB"}), "must be between 1 byte and 1GiB"),
    ("retry max below the default initial", lambda c: c.update(retry={"max": "500ms"}), "need 0 < initial <= max"),
    ("unreadable certificate", lambda c: c["listen"][0].update(tls={"cert": "/nonexistent.pem", "key": "/nonexistent.pem"}),
     "$.listen[0].tls.cert: cannot read"),
]


@unittest.skipIf(Draft202012Validator is None, "the jsonschema package is not installed for this interpreter")
class ConfigSchema(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.schema, self.v = load_validator("config.schema.json")
        self.secret_file = os.path.join(self.tmp, "secret")
        with open(self.secret_file, "w") as f:
            f.write("from-a-file\n")

    def config(self):
        cfg = hg.basic_config(self.tmp)
        cfg["_secret_file"] = self.secret_file  # for VALID; removed before use
        return cfg

    def check(self, cfg, env=None):
        """`hookgate check -c FILE` on cfg; returns the CompletedProcess."""
        cfg = copy.deepcopy(cfg)
        if isinstance(cfg, dict):
            cfg.pop("_secret_file", None)
        p = os.path.join(self.tmp, "check.json")
        with open(p, "w") as f:
            json.dump(cfg, f)
        return subprocess.run([hg.BIN, "check", "-c", p], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, **hg.ENV, **(env or {})))

    def assert_both_accept(self, cfg, env=None):
        cfg = copy.deepcopy(cfg)
        cfg.pop("_secret_file", None)
        self.assertEqual(errors(self.v, cfg), [], json.dumps(cfg))
        p = self.check(cfg, env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("config ok", p.stdout)

    def test_schema_itself(self):
        """Valid 2020-12, the placeholder $id, a description on every key, and
        every object closed (the loader is strict)."""
        self.assertEqual(self.schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        self.assertEqual(self.schema["$id"], "https://hookgate.invalid/schemas/config.schema.json")
        defs = self.schema["$defs"]
        seen = []

        def target(s):
            ref = s.get("$ref", "")
            return defs[ref.rsplit("/", 1)[1]] if ref.startswith("#/$defs/") else {}

        def walk(s, path):
            if not isinstance(s, dict):
                return
            if s.get("type") == "object" or "properties" in s:
                self.assertIs(s.get("additionalProperties", True) is not True, True, path)
                if "properties" in s:
                    self.assertIs(s["additionalProperties"], False, path)
            for k, sub in s.get("properties", {}).items():
                seen.append(k)
                self.assertTrue(sub.get("description") or target(sub).get("description"),
                                f"{path}.{k} has no description")
                walk(sub, f"{path}.{k}")
            for k in ("items", "additionalProperties"):
                walk(s.get(k), f"{path}[]")

        walk(self.schema, "$")
        for name, d in defs.items():
            walk(d, f"$defs.{name}")
        # every key the loader knows today (gateway/config.c) is documented
        for k in ("listen", "data_dir", "limits", "dedupe_window", "retry", "routes", "sinks", "log_level",
                  "threads", "address", "tls", "cert", "key", "max_body", "max_connections", "request_timeout",
                  "max_store_size", "max_attempts", "initial", "max", "path", "name", "profile", "secrets",
                  "tolerance", "type", "types", "command", "concurrency", "timeout", "env", "path",
                  "ack", "ack_timeout"):
            self.assertIn(k, seen)
        # refused keys are documented as such, not allowed
        text = json.dumps(self.schema)
        for k in ("allow", "token", "allow_unsigned", "client_ca", "unix", "exec", "pipe", "http", "jetstream"):
            self.assertIn(f"\\\"{k}\\\"", text)
        self.assertGreaterEqual(text.count("planned; refused by this build"), 4)
        for k in REFUSED_ROUTE_KEYS:
            self.assertNotIn(k, defs["route"]["properties"])
        self.assertNotIn("client_ca", defs["listener"]["properties"]["tls"]["properties"])
        self.assertEqual(defs["sink"]["properties"]["type"]["enum"], ["stdout", "exec", "unix", "pipe"])
        self.assertEqual(defs["route"]["properties"]["profile"]["enum"], list(BUILT_PROFILES))

    def test_basic_config_validates_and_loads(self):
        self.assert_both_accept(hg.basic_config(self.tmp))

    def test_contract_example_minus_refused_features(self):
        if os.path.exists(DESIGN):
            with open(DESIGN) as f:
                page = f.read()
            block = re.search(r"## 3\. Config.*?```json\n(.*?)```", page, re.S)
            self.assertIsNotNone(block, "no JSON example in section 3 of " + DESIGN)
            self.assertEqual(json.loads(block.group(1)), CONTRACT_EXAMPLE,
                             "the contract's example changed; update CONTRACT_EXAMPLE")
        full = copy.deepcopy(CONTRACT_EXAMPLE)
        self.assertNotEqual(errors(self.v, full), [], "the schema must refuse what this build refuses")
        cfg = minus_refused(full)
        self.assertEqual([r["path"] for r in cfg["routes"]], ["/hooks/iex"])
        self.assertEqual(list(cfg["sinks"]), ["stream", "app", "orders", "worker"])
        self.assertEqual(cfg["routes"][0]["sinks"], ["orders"])
        self.assertEqual(errors(self.v, cfg), [])
        # the same config with real files runs through the loader too
        cert, key = hg.make_cert(self.tmp)
        cfg["listen"][0]["tls"] = {"cert": cert, "key": key}
        cfg["data_dir"] = os.path.join(self.tmp, "data")
        cfg["routes"][0]["secrets"][1] = "file:" + self.secret_file
        self.assert_both_accept(cfg, env={"IEX_SECRET": "iex-secret"})
        full["listen"], full["data_dir"] = cfg["listen"], cfg["data_dir"]
        full["routes"][0]["secrets"][1] = "file:" + self.secret_file
        p = self.check(full, env={"IEX_SECRET": "iex-secret"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("not supported by this build yet", p.stderr)

    def test_invalid_configs_rejected_by_schema_and_loader(self):
        for name, mutate, message in INVALID:
            with self.subTest(name):
                cfg = hg.basic_config(self.tmp)
                mutate(cfg)
                errs = list(self.v.iter_errors(cfg))
                self.assertNotEqual(errs, [], f"schema accepts: {name}")
                p = self.check(cfg)
                self.assertEqual(p.returncode, 1, f"loader accepts: {name}")
                self.assertIn(message, p.stderr)
                self.assertEqual(p.stdout, "")
                # both point at the same place: one JSON path contains the other
                where = re.search(r": (\$[^:]*): ", p.stderr).group(1)
                paths = [json_path(e.absolute_path) for e in errs]
                self.assertTrue(any(where.startswith(q) or q.startswith(where) for q in paths),
                                f"loader: {where}, schema: {paths}")

    def test_refused_features_one_at_a_time(self):
        """Each feature the contract has and this build refuses, added alone to
        a good config, is refused by both (the loader says so by name)."""
        ex = CONTRACT_EXAMPLE
        cases = [("route " + k, lambda c, k=k, v=v: route0(c).update({k: v}), f"$.routes[0].{k}: not supported")
                 for k, v in (("allow", ex["routes"][2]["allow"]), ("token", "env:T_SECRET"), ("allow_unsigned", True))]
        cases += [(f"sink {n}", lambda c, n=n, s=s: c["sinks"].update({n: s}), f"sink type \"{s['type']}\" is not supported")
                  for n, s in ex["sinks"].items() if s["type"] not in ("stdout", "exec", "unix", "pipe")]
        cases += [(f"profile {r['profile']}", lambda c, p=r["profile"]: route0(c).update(profile=p), "unknown profile")
                  for r in ex["routes"] if r["profile"] not in BUILT_PROFILES]
        self.assertEqual(len(cases), 3 + 2 + 2)
        for name, mutate, message in cases:
            with self.subTest(name):
                cfg = hg.basic_config(self.tmp)
                mutate(cfg)
                self.assertNotEqual(errors(self.v, cfg), [])
                p = self.check(cfg)
                self.assertEqual(p.returncode, 1)
                self.assertIn(message, p.stderr)

    def test_valid_variants_accepted_by_schema_and_loader(self):
        for name, mutate in VALID:
            with self.subTest(name):
                cfg = self.config()
                mutate(cfg)
                self.assert_both_accept(cfg)

    def test_tls_listener_accepted_by_both(self):
        cert, key = hg.make_cert(self.tmp)
        cfg = hg.basic_config(self.tmp, listen=[{"address": "127.0.0.1:0", "tls": {"cert": cert, "key": key}},
                                                {"address": "[::1]:0"}])
        self.assert_both_accept(cfg)

    def test_checks_only_the_loader_makes(self):
        """Cross-references and the environment are beyond JSON Schema: these
        pass the schema and fail `hookgate check` (documented in the schema)."""
        self.assertIn("hookgate check", self.schema["description"])
        for name, mutate, message in LOADER_ONLY:
            with self.subTest(name):
                cfg = hg.basic_config(self.tmp)
                mutate(cfg)
                self.assertEqual(errors(self.v, cfg), [], name)
                p = self.check(cfg)
                self.assertEqual(p.returncode, 1, name)
                self.assertIn(message, p.stderr)


@unittest.skipIf(Draft202012Validator is None, "the jsonschema package is not installed for this interpreter")
class EventSchema(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.schema, self.v = load_validator("event.schema.json")

    def test_schema_itself(self):
        self.assertEqual(self.schema["$id"], "https://hookgate.invalid/schemas/event.schema.json")
        self.assertIs(self.schema["additionalProperties"], False)
        self.assertEqual(set(self.schema["required"]),
                         {"specversion", "id", "source", "type", "time", "datacontenttype",
                          "hookgateseq", "hookgateroute", "hookgatereceived"})
        for k, s in self.schema["properties"].items():
            self.assertTrue(s.get("description"), k)
        self.assertEqual(self.schema["properties"]["data_base64"]["contentEncoding"], "base64")
        self.assertEqual(self.schema["properties"]["time"]["format"], "date-time")
        self.assertEqual(self.schema["properties"]["hookgatereceived"]["format"], "date-time")
        # the contract's own example (its data is a placeholder object)
        self.assertEqual(envelope_errors(self.v, json.loads(
            '{"specversion":"1.0","id":"evt_01J8","source":"/hooks/iex","type":"order.created",'
            '"time":"2026-11-22T15:54:07.123Z","datacontenttype":"application/json",'
            '"data":{"...":"the producer\'s payload, unchanged"},'
            '"hookgateseq":1234,"hookgateroute":"iex","hookgatereceived":"2026-11-22T15:54:07.125Z"}')), [])

    def test_real_envelopes_validate(self):
        g = self.gateway(hg.basic_config(self.tmp))
        json_body = b'{"event_id":"evt_json","event":"order.created","time":"2026-11-22T15:54:07.123Z","data":{"n":1}}'
        text_body = "plain text from Open WebUI: caf\u00e9 \u2713\n".encode()
        bin_body = bytes(range(256))
        iex_body = b'{"order":{"id":42},"created_at":"2026-11-22T15:54:07+01:00"}'
        sent = [
            self.post_generic(g, json_body),
            self.post_generic(g, text_body, headers={"Content-Type": "text/plain; charset=utf-8",
                                                      "X-Webhook-Event-Id": "evt_text",
                                                      "X-Webhook-Event": "chat.message"}),
            self.post_generic(g, bin_body, headers={"Content-Type": "application/octet-stream",
                                                     "X-Webhook-Event-Id": "evt_bin"}),
            self.post_generic(g, b"\x89PNG\r\n\x1a\n\x00\xff", headers={"Content-Type": "",
                                                                        "X-Webhook-Event-Id": "evt_bin2"}),
            self.post_generic(g, b'[1,"two",{"three":3}]', headers={"X-Webhook-Event-Id": "evt_array"}),
            self.post_generic(g, b'{"id":"evt_unix","type":"t","time":1732290847}'),
            hg.curl(g.url("/hooks/iex"), iex_body,
                    hg.iex_headers("iex-new-secret", iex_body, "evt_iex", "order.created")),
        ]
        for r in sent:
            self.assertEqual(r.status, 200, r.body)
        evs = g.wait_events(len(sent))
        self.assertEqual(len(evs), len(sent))
        with open(g.out_path, "rb") as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), len(sent))  # NDJSON: one event per line
        by_id = {}
        for e in evs:
            self.assertEqual(envelope_errors(self.v, e), [], json.dumps(e))
            by_id[e["id"]] = e
        self.assertEqual([e["hookgateseq"] for e in evs], list(range(1, len(sent) + 1)))

        e = by_id["evt_json"]
        self.assertEqual(e["data"], json.loads(json_body))
        self.assertNotIn("data_base64", e)
        self.assertEqual(e["datacontenttype"], "application/json")
        self.assertEqual(e["time"], "2026-11-22T15:54:07.123Z")

        e = by_id["evt_text"]
        self.assertEqual(e["data"], text_body.decode())
        self.assertNotIn("data_base64", e)
        self.assertEqual(e["datacontenttype"], "text/plain; charset=utf-8")
        self.assertEqual(e["type"], "chat.message")
        self.assertEqual(e["time"], e["hookgatereceived"])  # no producer time: receipt time

        for eid, body, ct in (("evt_bin", bin_body, "application/octet-stream"),
                              ("evt_bin2", b"\x89PNG\r\n\x1a\n\x00\xff", "application/octet-stream")):
            e = by_id[eid]
            self.assertNotIn("data", e)
            self.assertEqual(base64.b64decode(e["data_base64"], validate=True), body)
            self.assertEqual(e["datacontenttype"], ct)
            self.assertEqual(e["type"], "unknown")

        self.assertEqual(by_id["evt_array"]["data"], [1, "two", {"three": 3}])
        self.assertEqual(by_id["evt_unix"]["time"], "2024-11-22T15:54:07.000Z")
        e = by_id["evt_iex"]
        self.assertEqual((e["source"], e["hookgateroute"], e["type"]), ("/hooks/iex", "iex", "order.created"))
        self.assertEqual(e["time"], "2026-11-22T15:54:07+01:00")
        self.assertEqual(e["data"], json.loads(iex_body))

    def test_schema_rejects_malformed_envelopes(self):
        g = self.gateway(hg.basic_config(self.tmp))
        self.assertEqual(self.post_generic(g, b'{"event_id":"evt_ok","event":"x"}').status, 200)
        good = g.wait_events(1)[0]
        self.assertEqual(envelope_errors(self.v, good), [])
        bad = [
            ("both data and data_base64", lambda e: e.update(data_base64="AAEC")),
            ("neither data nor data_base64", lambda e: e.pop("data")),
            ("extra attribute", lambda e: e.update(subject="x")),
            ("missing id", lambda e: e.pop("id")),
            ("empty id", lambda e: e.update(id="")),
            ("missing hookgateroute", lambda e: e.pop("hookgateroute")),
            ("specversion 0.3", lambda e: e.update(specversion="0.3")),
            ("hookgateseq 0", lambda e: e.update(hookgateseq=0)),
            ("hookgateseq as string", lambda e: e.update(hookgateseq="1")),
            ("time not a date-time", lambda e: e.update(time="yesterday")),
            ("time out of range", lambda e: e.update(time="2026-13-45T25:61:61Z")),
            ("received not a date-time", lambda e: e.update(hookgatereceived="1732290847")),
            ("data_base64 not base64", lambda e: (e.pop("data"), e.update(data_base64="not base64!"))),
            ("data_base64 unpadded", lambda e: (e.pop("data"), e.update(data_base64="AAE"))),
            ("source not a path", lambda e: e.update(source="")),
            ("datacontenttype missing", lambda e: e.pop("datacontenttype")),
        ]
        for name, mutate in bad:
            with self.subTest(name):
                e = copy.deepcopy(good)
                mutate(e)
                self.assertNotEqual(envelope_errors(self.v, e), [], name)
        e = copy.deepcopy(good)
        e.pop("data")
        e["data_base64"] = base64.b64encode(b"\x00\x01\x02\xff").decode()
        self.assertEqual(envelope_errors(self.v, e), [])

    def test_rfc3339_fallback_helper(self):
        """The regex used when jsonschema cannot check date-time itself."""
        for ok in ("2026-11-22T15:54:07.123Z", "2026-11-22T15:54:07Z", "2026-11-22t15:54:07z",
                   "2026-11-22T15:54:07+05:30", "2024-02-29T00:00:00-00:00"):
            self.assertTrue(rfc3339_ok(ok), ok)
        for bad in ("2026-11-22 15:54:07Z", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                    "2026-11-22T15:54:07", "2026-11-22T15:54:07+24:00", "1732290847", "", None):
            self.assertFalse(rfc3339_ok(bad), bad)


if __name__ == "__main__":
    hg.main()
