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


# The example of the product contract's section 3 ("Config"), copied here
# verbatim: the contract lives outside this repository, so the copy is what
# the tests read.
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

# The built-in profiles (schemas/profiles/*.json, compiled in), by kind.
# The lists are read from the files, sorted: the config schema's per-kind
# rules must name exactly these (test_schema_itself).
def _builtins():
    d = os.path.join(SCHEMAS, "profiles")
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".json"):
            with open(os.path.join(d, f)) as fh:
                out[f[:-5]] = json.load(fh)
    return dict(sorted(out.items()))


BUILTINS = _builtins()
UNSIGNED_PROFILES = tuple(n for n, p in BUILTINS.items() if p.get("unsigned"))
# signature format "token": their secrets are tokens, and the route key "token" is refused
TOKEN_PROFILES = tuple(n for n, p in BUILTINS.items() if p.get("signature", {}).get("format") == "token")
# a registration handshake checked with the route's "verify_token" (required there, refused elsewhere)
VERIFY_TOKEN_PROFILES = tuple(n for n, p in BUILTINS.items()
                              if any(h.get("verify") == "verify_token" for h in p.get("handshakes", [])))
# signature format "jwt": the only ones that take the route key "jwt_claims"
JWT_PROFILES = tuple(n for n, p in BUILTINS.items() if p.get("signature", {}).get("format") == "jwt")
# the claims each route of a JWT profile must pin in "jwt_claims" (pubsub-push: the service account's email)
ROUTE_CLAIMS = {n: tuple(BUILTINS[n]["signature"]["jwt"].get("route_claims", ())) for n in JWT_PROFILES}
ROUTE_CLAIMS = {n: c for n, c in ROUTE_CLAIMS.items() if c}
PUSH_SA = "push-invoker@my-project.iam.gserviceaccount.com"  # a Pub/Sub push service account (example)
BUILT_PROFILES = tuple(BUILTINS)
SINK_TYPES = ("stdout", "exec", "unix", "pipe", "http", "jetstream")
UNKNOWN_SINK_TYPES = ("kafka", "nats", "JetStream", "jetstream ", "HTTP", "file", "")  # no build has these
HTTP_SINK_KEYS = ("url", "timeout", "concurrency", "headers", "format", "tls", "unix_socket", "sign")
JETSTREAM_SINK_KEYS = ("servers", "subject", "stream", "window", "timeout", "creds", "tls")
STREAM_KEYS = ("name", "create", "replicas", "duplicate_window")
ACCESS_ROUTE_KEYS = ("allow", "token", "allow_unsigned", "type")  # refused by earlier builds, supported now
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks example secret
# public keys generated for these tests (their private halves were thrown away)
ED25519_PUBLIC_HEX = "20975c575f6789c04e1a67875117cae0a79925ba15ef31b97208d285649b7d5d"
P256_PUBLIC_B64 = ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcYw1A0MKMzaG9oJujTp7WWZeVSaxqwxP0qub+8pyagQRIrI4Sz2Z"
                   "RpEtDNvtvYfrlHrja5yuE5D4Za1b5FTudQ==")
RSA_PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApfRVpffNh+GONIXb2E6t
ARvE//86wz5ctNZqEFcvfarlWVTzWfxmdKCTvVVroGa909sh+bXPVADJw8kH6kwJ
BnvdiNlb77aGjMRwnk1Uqys8HeEgAet/RQI6JxRQihHTJxToREhGnfMWOLMwo9uW
7je8s1R7FirVMMd4JOptF/ka1p38aU6P35MysENhD+3aviNKEvRJYt7Tip6Hj9bT
uRm4mDvtNuMT2PmTrzBAHMMgfjbxLeKkVg47xnHzqkmFSbQK/Kl12Vt/xmL96zB0
QUsmeuwJPzG2mSGHvWJDl44nIFNWpfohto15oZVN8rYUns3Wy5cyBAbHZr7Ld64W
uwIDAQAB
-----END PUBLIC KEY-----
"""


def signed_route_keys(p):
    """What a route on signed built-in profile p needs besides path, profile
    and sinks: a secret of the form its scheme takes, a verify_token where
    its handshake checks one, and jwt_claims pinning the claims its profile
    names in route_claims (pubsub-push: email)."""
    sig = BUILTINS[p]["signature"]
    algs = {sig.get("algorithm")} | set(sig.get("versions", {}).values()) | set(sig.get("jwt", {}).get("algorithms", ()))
    if sig.get("secret") == "whsec":
        secret = STANDARD_SECRET
    elif "ed25519" in algs:
        secret = ED25519_PUBLIC_HEX
    elif "ecdsa-p256-sha256" in algs:
        secret = P256_PUBLIC_B64
    elif algs & {"RS256", "ES256"}:
        secret = RSA_PUBLIC_PEM
    elif sig["format"] == "basic":
        secret = "hookgate:basic-password"
    else:
        secret = "env:T_SECRET"
    keys = {"secrets": [secret]}
    if p in VERIFY_TOKEN_PROFILES:
        keys["verify_token"] = "env:T_SECRET"
    if p in ROUTE_CLAIMS:
        keys["jwt_claims"] = {c: PUSH_SA for c in ROUTE_CLAIMS[p]}
    return keys


def push_route(c, **keys):
    """Route 0 on pubsub-push (an RSA public key as its secret) with keys."""
    route0(c).update(profile="pubsub-push", secrets=[RSA_PUBLIC_PEM], **keys)


def with_stream(cfg):
    """The contract example plus what its jetstream sink lacks for this build:
    the "stream" object (required: the loader creates or checks the stream at
    start).  Everything else of the example is supported as it is."""
    cfg = copy.deepcopy(cfg)
    for s in cfg["sinks"].values():
        if s["type"] == "jetstream":
            s.setdefault("stream", {"name": "HOOKS", "create": True})
    return cfg


def route0(cfg):
    return cfg["routes"][0]


def unsigned_route(c, profile="openwebui", **keys):
    """Turn route 0 into a route on an unsigned profile with exactly keys
    (besides path, profile and sinks)."""
    r = route0(c)
    r.pop("secrets")
    r.update(profile=profile, **keys)


def profile_dir(tmp, name="acme", unsigned=False):
    """A directory holding one user profile NAME.json (a github-like HMAC
    scheme, or an unsigned one); returns the directory."""
    d = os.path.join(tmp, "profiles-" + name)
    os.makedirs(d, exist_ok=True)
    p = {"name": name, "description": "test profile", "id": [{"header": "X-Acme-Id"}]}
    if unsigned:
        p["unsigned"] = True
    else:
        p["signature"] = {"header": "X-Acme-Signature", "format": "value", "prefix": "sha256="}
    with open(os.path.join(d, name + ".json"), "w") as f:
        json.dump(p, f)
    return d


def vt_profile_dir(tmp, name="acme_vt"):
    """A directory holding one user profile NAME.json with a GET handshake
    checked by the route's verify_token (like Meta's); returns the directory."""
    d = os.path.join(tmp, "profiles-" + name)
    os.makedirs(d, exist_ok=True)
    p = {"name": name, "description": "test profile with a verify_token handshake", "id_fallback": "body_sha256",
         "signature": {"header": "X-Acme-Signature", "format": "value", "prefix": "sha256="},
         "handshakes": [{"name": "subscribe", "method": "GET", "when": [{"query": "hub.challenge"}],
                         "verify": "verify_token", "verify_token_query": "hub.verify_token",
                         "answer": {"status": 200, "text": {"query": "hub.challenge"}}}]}
    with open(os.path.join(d, name + ".json"), "w") as f:
        json.dump(p, f)
    return d


def jwt_profile_dir(tmp, name="acme_jwt", route_claims=("sub",)):
    """A directory holding one user profile NAME.json whose signature is an
    HS256 JWT in Authorization and whose routes must pin route_claims
    (none when empty); returns the directory."""
    d = os.path.join(tmp, "profiles-" + name)
    os.makedirs(d, exist_ok=True)
    jwt = {"algorithms": ["HS256"], "issuer": "acme"}
    if route_claims:
        jwt["route_claims"] = list(route_claims)
    p = {"name": name, "description": "test profile with a JWT signature", "id": [{"header": "X-Acme-Id"}],
         "signature": {"format": "jwt", "header": "Authorization", "prefix": "Bearer ", "covers_body": False,
                       "jwt": jwt}}
    with open(os.path.join(d, name + ".json"), "w") as f:
        json.dump(p, f)
    return d


def jwt_route(c, name="acme_jwt", route_claims=("sub",), **keys):
    """Route 0 on the user JWT profile NAME (its directory next to the data
    directory) with keys."""
    c.update(profile_dirs=[jwt_profile_dir(os.path.dirname(c["data_dir"]), name, route_claims)])
    route0(c).update(profile=name, **keys)


def vt_route(c, **keys):
    """Route 0 on the verify_token profile (its directory next to the data
    directory) with keys."""
    c.update(profile_dirs=[vt_profile_dir(os.path.dirname(c["data_dir"]))])
    route0(c).update(profile="acme_vt", **keys)


def http_sink(name="app", route=False, **keys):
    """A mutation adding http sink NAME (a good url unless keys say otherwise)
    with keys; route: route 0 delivers to it too."""
    def mutate(c):
        c["sinks"][name] = {"type": "http", "url": "http://127.0.0.1:9/hooks", **keys}
        if route:
            route0(c)["sinks"].append(name)
    return mutate


def js_sink(name="app", route=False, **keys):
    """A mutation adding jetstream sink NAME (good servers, subject and stream
    unless keys say otherwise; a key given as None is left out) with keys;
    route: route 0 delivers to it too."""
    def mutate(c):
        s = {"type": "jetstream", "servers": ["nats://127.0.0.1:4222"], "subject": "hooks.{route}.{type}",
             "stream": {"name": "HOOKS"}, **keys}
        c["sinks"][name] = {k: v for k, v in s.items() if v is not None}
        if route:
            route0(c)["sinks"].append(name)
    return mutate


def stream(**keys):
    """A jetstream sink's "stream" object: name HOOKS unless keys say otherwise."""
    return {k: v for k, v in {"name": "HOOKS", **keys}.items() if v is not None}


SUBJECT_RULE = "a subject of dot-separated tokens without spaces, '*' or '>'"
STREAM_NAME_RULE = "a stream name has no spaces, '.', '*', '>', '/' or '\\'"
SERVER_RULE = "$.sinks.app.servers: a server is nats://HOST:PORT or tls://HOST:PORT"

# (name, mutation of hg.basic_config, what `hookgate check` must say)
INVALID = [
    ("unknown top-level key", lambda c: c.update(lisen=[]), "$.lisen: unknown key"),
    ("unknown route key", lambda c: route0(c).update(secrtes=["x"]), "$.routes[0].secrtes: unknown key"),
    ("unknown listener key", lambda c: c["listen"][0].update(port=80), "$.listen[0].port: unknown key"),
    ("unknown limits key", lambda c: c.update(limits={"max_bodyy": 1}), "$.limits.max_bodyy: unknown key"),
    ("unknown retry key", lambda c: c.update(retry={"attempts": 3}), "$.retry.attempts: unknown key"),
    ("unknown sink key", lambda c: c["sinks"]["out"].update(path="/x"), "$.sinks.out.path: unknown key"),
    ("profile in upper case", lambda c: route0(c).update(profile="GitHub"), "$.routes[0].profile: unknown profile \"GitHub\""),
    ("profile name with a dot", lambda c: route0(c).update(profile="my.profile"), "$.routes[0].profile: unknown profile"),
    ("profile name over 32", lambda c: route0(c).update(profile="p" * 33), "$.routes[0].profile: unknown profile"),
    ("empty profile name", lambda c: route0(c).update(profile=""), "$.routes[0].profile: unknown profile \"\""),
    ("profile not a string", lambda c: route0(c).update(profile=1), "$.routes[0].profile: must be a profile name"),
    ("route without profile", lambda c: route0(c).pop("profile"), "$.routes[0].profile: is required"),
    ("missing routes", lambda c: c.pop("routes"), "$.routes: must be a non-empty array"),
    ("empty routes", lambda c: c.update(routes=[]), "$.routes: must be a non-empty array"),
    ("missing listen", lambda c: c.pop("listen"), "$.listen: must be an array of 1 to 16"),
    ("17 listeners", lambda c: c.update(listen=[{"address": "127.0.0.1:0"}] * 17), "$.listen: must be an array of 1 to 16"),
    ("missing sinks", lambda c: c.pop("sinks"), "$.sinks: must be an object of named sinks"),
    ("empty sinks", lambda c: c.update(sinks={}), "$.sinks: must be an object of named sinks"),
    ("route without path", lambda c: route0(c).pop("path"), "$.routes[0].path: is required"),
    ("route without secrets", lambda c: route0(c).pop("secrets"), "$.routes[0].secrets: must be an array of 1 to 16"),
    ("hubex route without secrets", lambda c: (route0(c).pop("secrets"), route0(c).update(profile="hubex")),
     "$.routes[0].secrets: must be an array of 1 to 16"),
    ("github route, empty secrets", lambda c: route0(c).update(profile="github", secrets=[]),
     "$.routes[0].secrets: must be an array of 1 to 16"),
    ("route without sinks", lambda c: route0(c).pop("sinks"), "$.routes[0].sinks: must be a non-empty array"),
    ("17 secrets", lambda c: route0(c).update(secrets=["env:T_SECRET"] * 17), "$.routes[0].secrets: must be an array of 1 to 16"),
    ("empty secret", lambda c: route0(c).update(secrets=[""]), "$.routes[0].secrets[0]: must be"),
    ("env: without a name", lambda c: route0(c).update(secrets=["env:"]), "$.routes[0].secrets[0]: environment variable"),
    ("path without /", lambda c: route0(c).update(path="hooks/x"), "$.routes[0].path: must start with '/'"),
    ("path too long", lambda c: route0(c).update(path="/" + "a" * 256), "$.routes[0].path: must start with '/'"),
    ("reserved path", lambda c: route0(c).update(path="/healthz"), "$.routes[0].path: /healthz is reserved"),
    ("empty route name", lambda c: route0(c).update(name=""), "$.routes[0].name: must be a non-empty string"),
    ("sink listed twice", lambda c: route0(c).update(sinks=["out", "out"]), "$.routes[0].sinks[1]: sink \"out\" listed twice"),
    ("tolerance 0", lambda c: route0(c).update(tolerance=0), "$.routes[0].tolerance: must be between 1s and 3650d"),
    ("tolerance over 3650d", lambda c: route0(c).update(tolerance=3650 * 86400 + 1),
     "$.routes[0].tolerance: must be between 1s and 3650d"),
    ("tolerance not a duration", lambda c: route0(c).update(tolerance="5 min"), "$.routes[0].tolerance: must be a duration"),
    # allow
    ("allow not a list", lambda c: route0(c).update(allow="10.0.0.0/8"), "$.routes[0].allow: must be a list of 1 to 256 CIDRs"),
    ("allow empty", lambda c: route0(c).update(allow=[]), "$.routes[0].allow: must be a list of 1 to 256 CIDRs"),
    ("allow 257 entries", lambda c: route0(c).update(allow=["10.0.0.1"] * 257), "$.routes[0].allow: must be a list of 1 to 256"),
    ("allow entry not a string", lambda c: route0(c).update(allow=["10.0.0.0/8", 10]),
     "$.routes[0].allow[1]: must be an IPv4 or IPv6 address or CIDR"),
    ("allow host name", lambda c: route0(c).update(allow=["localhost"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow octet 256", lambda c: route0(c).update(allow=["10.0.0.256"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow IPv4 /33", lambda c: route0(c).update(allow=["10.0.0.0/33"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow IPv6 /129", lambda c: route0(c).update(allow=["::/129"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow empty prefix", lambda c: route0(c).update(allow=["10.0.0.0/"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow prefix only", lambda c: route0(c).update(allow=["/8"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow IPv6 zone", lambda c: route0(c).update(allow=["fe80::1%lo"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow IPv6 in brackets", lambda c: route0(c).update(allow=["[::1]"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow two ::", lambda c: route0(c).update(allow=["1::2::3"]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    ("allow with a space", lambda c: route0(c).update(allow=["10.0.0.0/8 "]), "$.routes[0].allow[0]: must be an IPv4 or IPv6"),
    # token
    ("empty token", lambda c: route0(c).update(token=""), "$.routes[0].token: must be \"env:NAME\""),
    ("token not a string", lambda c: route0(c).update(token=["t0k"]), "$.routes[0].token: must be \"env:NAME\""),
    ("literal token with /", lambda c: route0(c).update(token="a/b"), "$.routes[0].token: a token is 1-256 bytes without '/'"),
    ("literal token of 257 bytes", lambda c: route0(c).update(token="t" * 257), "$.routes[0].token: a token is 1-256 bytes"),
    ("token on a hubex route", lambda c: route0(c).update(profile="hubex", token="t0k"),
     "$.routes[0].token: profile hubex takes its tokens from \"secrets\""),
    ("token on an ultimate-multisite route", lambda c: route0(c).update(profile="ultimate-multisite", token="env:T_SECRET"),
     "$.routes[0].token: profile ultimate-multisite takes its tokens from \"secrets\""),
    # verify_token and public_url (issue 16)
    ("verify_token on a profile without a verify_token handshake", lambda c: route0(c).update(verify_token="t0k"),
     "$.routes[0].verify_token: profile generic has no handshake that takes a verify_token"),
    ("meta route without verify_token", lambda c: route0(c).update(profile="meta"),
     "$.routes[0].verify_token: is required by profile meta"),
    ("empty verify_token", lambda c: route0(c).update(verify_token=""), "$.routes[0].verify_token: must be \"env:NAME\""),
    ("verify_token not a string", lambda c: route0(c).update(verify_token=["t"]),
     "$.routes[0].verify_token: must be \"env:NAME\""),
    ("public_url ftp", lambda c: route0(c).update(public_url="ftp://example.com/hooks"),
     "$.routes[0].public_url: must be an http:// or https:// URL"),
    ("public_url without a scheme", lambda c: route0(c).update(public_url="example.com/hooks"),
     "$.routes[0].public_url: must be an http:// or https:// URL"),
    ("public_url with a fragment", lambda c: route0(c).update(public_url="https://example.com/hooks#x"),
     "$.routes[0].public_url: must be an http:// or https:// URL"),
    ("public_url with a space", lambda c: route0(c).update(public_url="https://example.com/a b"),
     "$.routes[0].public_url: must be an http:// or https:// URL"),
    # jwt_claims (issue 16): a JWT route's pinned claims; pubsub-push must pin the service account's email
    ("pubsub-push route without jwt_claims", lambda c: push_route(c),
     "$.routes[0].jwt_claims: is required by profile pubsub-push"),
    ("pubsub-push jwt_claims without email", lambda c: push_route(c, jwt_claims={"email_verified": True}),
     "$.routes[0].jwt_claims: is required by profile pubsub-push"),
    ("pubsub-push jwt_claims a list", lambda c: push_route(c, jwt_claims=["email"]),
     "$.routes[0].jwt_claims: is required by profile pubsub-push"),
    ("jwt_claims on a non-JWT profile", lambda c: route0(c).update(jwt_claims={"email": PUSH_SA}),
     "$.routes[0].jwt_claims: only for a JWT profile (generic is not)"),
    ("jwt_claims on a token profile", lambda c: route0(c).update(profile="msgraph", jwt_claims={}),
     "$.routes[0].jwt_claims: only for a JWT profile (msgraph is not)"),
    ("jwt_claims value an object", lambda c: push_route(c, jwt_claims={"email": {"equals": PUSH_SA}}),
     "$.routes[0].jwt_claims.email: must be a string, a boolean or an integer"),
    ("jwt_claims value a list", lambda c: push_route(c, jwt_claims={"email": PUSH_SA, "aud": ["a", "b"]}),
     "$.routes[0].jwt_claims.aud: must be a string, a boolean or an integer"),
    ("jwt_claims value null", lambda c: push_route(c, jwt_claims={"email": PUSH_SA, "hd": None}),
     "$.routes[0].jwt_claims.hd: must be a string, a boolean or an integer"),
    ("jwt_claims value with a fraction", lambda c: push_route(c, jwt_claims={"email": PUSH_SA, "n": 1.5}),
     "$.routes[0].jwt_claims.n: must be a string, a boolean or an integer"),
    ("jwt_claims of 9 claims", lambda c: push_route(c, jwt_claims={"email": PUSH_SA, **{f"c{i}": i for i in range(8)}}),
     "$.routes[0].jwt_claims: must be an object of at most 8 claims"),
    ("jwt_claims a list on qstash", lambda c: route0(c).update(profile="qstash", jwt_claims=["sub"]),
     "$.routes[0].jwt_claims: must be an object of at most 8 claims"),
    ("public_url ending in a newline", lambda c: route0(c).update(public_url="https://example.com/\n"),
     "$.routes[0].public_url: must be an http:// or https:// URL"),
    ("public_url of 2049 bytes", lambda c: route0(c).update(public_url="https://example.com/" + "a" * 2029),
     "$.routes[0].public_url: must be an http:// or https:// URL"),
    ("public_url empty", lambda c: route0(c).update(public_url=""), "$.routes[0].public_url: must be a non-empty string"),
    ("public_url not a string", lambda c: route0(c).update(public_url=True),
     "$.routes[0].public_url: must be a non-empty string"),
    # trusted_proxies (issue 16)
    ("trusted_proxies not a list", lambda c: c["listen"][0].update(trusted_proxies="10.0.0.0/8"),
     "$.listen[0].trusted_proxies: must be a list of at most 64 addresses or CIDRs"),
    ("trusted_proxies of 65", lambda c: c["listen"][0].update(trusted_proxies=["10.0.0.%d" % i for i in range(65)]),
     "$.listen[0].trusted_proxies: must be a list of at most 64 addresses or CIDRs"),
    ("trusted_proxies host name", lambda c: c["listen"][0].update(trusted_proxies=["proxy.internal"]),
     "$.listen[0].trusted_proxies[0]: not an address or CIDR"),
    ("trusted_proxies entry not a string", lambda c: c["listen"][0].update(trusted_proxies=["10.0.0.0/8", 10]),
     "$.listen[0].trusted_proxies[1]: not an address or CIDR"),
    ("trusted_proxies IPv4 /33", lambda c: c["listen"][0].update(trusted_proxies=["10.0.0.0/33"]),
     "$.listen[0].trusted_proxies[0]: not an address or CIDR"),
    ("trusted_proxies IPv6 in brackets", lambda c: c["listen"][0].update(trusted_proxies=["[::1]"]),
     "$.listen[0].trusted_proxies[0]: not an address or CIDR"),
    # allow_unsigned and unsigned profiles
    ("allow_unsigned on a signed profile", lambda c: route0(c).update(allow_unsigned=True),
     "$.routes[0].allow_unsigned: profile generic is signed: allow_unsigned does not apply"),
    ("allow_unsigned on a token profile", lambda c: route0(c).update(profile="hubex", allow_unsigned=True, allow=["127.0.0.1"]),
     "$.routes[0].allow_unsigned: profile hubex is signed"),
    ("allow_unsigned not a boolean", lambda c: route0(c).update(allow_unsigned="true"),
     "$.routes[0].allow_unsigned: must be true or false"),
    ("unsigned profile without allow_unsigned", lambda c: unsigned_route(c, allow=["127.0.0.1/32"]),
     "$.routes[0].allow_unsigned: profile openwebui cannot sign"),
    ("unsigned profile, allow_unsigned false", lambda c: unsigned_route(c, "unsigned", allow_unsigned=False, token="t0k"),
     "$.routes[0].allow_unsigned: profile unsigned cannot sign"),
    ("unsigned profile without allow or token", lambda c: unsigned_route(c, allow_unsigned=True),
     "$.routes[0]: an unsigned route needs an \"allow\" list or a \"token\""),
    ("unsigned profile with secrets", lambda c: route0(c).update(profile="unsigned", allow_unsigned=True, allow=["::1"]),
     "$.routes[0].secrets: profile unsigned is unsigned: it takes no secrets"),
    # type
    ("empty type", lambda c: route0(c).update(type=""), "$.routes[0].type: must be a non-empty string"),
    ("type not a string", lambda c: route0(c).update(type=40), "$.routes[0].type: must be a non-empty string"),
    ("type of 129 bytes", lambda c: route0(c).update(type="t" * 129), "$.routes[0].type: must be a type name (1-128 bytes)"),
    ("address without port", lambda c: c["listen"][0].update(address="127.0.0.1"), "$.listen[0].address: must be"),
    ("address port too big", lambda c: c["listen"][0].update(address="127.0.0.1:65536"), "$.listen[0].address: port must be 0-65535"),
    ("address host name", lambda c: c["listen"][0].update(address="example.com:80"), "$.listen[0].address: host must be"),
    ("address IPv6 zone", lambda c: c["listen"][0].update(address="[fe80::1%lo]:80"), "$.listen[0].address: host must be"),
    ("tls without key", lambda c: c["listen"][0].update(tls={"cert": "/nonexistent.pem"}), "$.listen[0].tls"),
    ("tls client_ca without cert and key", lambda c: c["listen"][0].update(tls={"client_ca": "/x.pem"}),
     "$.listen[0].tls.cert: is required"),
    ("tls client_ca empty", lambda c: c["listen"][0].update(
        tls={"cert": "/etc/hostname", "key": "/etc/hostname", "client_ca": ""}),
     "$.listen[0].tls.client_ca: must be a non-empty string"),
    ("tls client_ca not a string", lambda c: c["listen"][0].update(
        tls={"cert": "/etc/hostname", "key": "/etc/hostname", "client_ca": ["/x.pem"]}),
     "$.listen[0].tls.client_ca: must be a non-empty string"),
    ("unknown tls key", lambda c: c["listen"][0].update(
        tls={"cert": "/etc/hostname", "key": "/etc/hostname", "client_cert": "/x.pem"}),
     "$.listen[0].tls.client_cert: unknown key"),
    ("admin not a boolean", lambda c: c["listen"][0].update(admin="yes"), "$.listen[0].admin: must be true or false"),
    ("admin as 1", lambda c: c["listen"][0].update(admin=1), "$.listen[0].admin: must be true or false"),
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
    ("unknown sink type", lambda c: c["sinks"].update(app={"type": "file"}), "$.sinks.app.type: unknown sink type \"file\""),
    ("unknown sink type kafka", lambda c: c["sinks"].update(app={"type": "kafka", "subject": "x"}),
     "$.sinks.app.type: unknown sink type \"kafka\""),
    ("sink type JetStream (case matters)", js_sink(type="JetStream"), "$.sinks.app.type: unknown sink type \"JetStream\""),
    ("exec concurrency 65 (http's maximum is 256)", lambda c: c["sinks"].update(
        app={"type": "exec", "command": ["true"], "concurrency": 65}), "$.sinks.app.concurrency: must be an integer from 1 to 64"),
    ("exec timeout over 1d", lambda c: c["sinks"].update(app={"type": "exec", "command": ["true"], "timeout": 86401}),
     "$.sinks.app.timeout: must be between 100ms and 1d"),
    ("exec timeout 0", lambda c: c["sinks"].update(app={"type": "exec", "command": ["true"], "timeout": 0}),
     "$.sinks.app.timeout: must be between 100ms and 1d"),
    # http sinks: each key of another type refused, and the other way round
    ("url on stdout", lambda c: c["sinks"]["out"].update(url="http://127.0.0.1:9/"), "$.sinks.out.url: unknown key"),
    ("sign on exec", lambda c: c["sinks"].update(app={"type": "exec", "command": ["true"], "sign": {"secret": "x"}}),
     "$.sinks.app.sign: unknown key"),
    ("headers on unix", lambda c: c["sinks"].update(app={"type": "unix", "path": "/run/x.sock", "headers": {}}),
     "$.sinks.app.headers: unknown key"),
    ("format on pipe", lambda c: c["sinks"].update(app={"type": "pipe", "command": ["cat"], "format": "binary"}),
     "$.sinks.app.format: unknown key"),
    ("tls on unix", lambda c: c["sinks"].update(app={"type": "unix", "path": "/run/x.sock", "tls": {}}),
     "$.sinks.app.tls: unknown key"),
    ("unix_socket on exec", lambda c: c["sinks"].update(app={"type": "exec", "command": ["true"], "unix_socket": "/x"}),
     "$.sinks.app.unix_socket: unknown key"),
    ("path on http", http_sink(path="/run/x.sock"), "$.sinks.app.path: unknown key"),
    ("command on http", http_sink(command=["true"]), "$.sinks.app.command: unknown key"),
    ("ack_timeout on http", http_sink(ack_timeout="1s"), "$.sinks.app.ack_timeout: unknown key"),
    ("env on http", http_sink(env=["HOME"]), "$.sinks.app.env: unknown key"),
    ("unknown http key", http_sink(retries=3), "$.sinks.app.retries: unknown key"),
    # http: url
    ("http without url", lambda c: c["sinks"].update(app={"type": "http"}), "$.sinks.app.url: is required"),
    ("http url empty", http_sink(url=""), "$.sinks.app.url: must be a non-empty string"),
    ("http url not a string", http_sink(url=["http://127.0.0.1:9/"]), "$.sinks.app.url: must be a non-empty string"),
    ("http url ftp://", http_sink(url="ftp://127.0.0.1/x"), "$.sinks.app.url: must be an http:// or https:// URL"),
    ("http url without a scheme", http_sink(url="127.0.0.1:9/hooks"), "$.sinks.app.url: must be an http:// or https://"),
    ("http url scheme in upper case", http_sink(url="HTTPS://example.com/"), "$.sinks.app.url: must be an http://"),
    ("http url with a space", http_sink(url="http://127.0.0.1:9/a b"), "$.sinks.app.url: must be an http:// or https:// URL (no spaces)"),
    ("http url with a tab", http_sink(url="http://127.0.0.1:9/\tx"), "$.sinks.app.url: must be an http://"),
    ("http url with a line break", http_sink(url="http://127.0.0.1:9/\r\nX-Evil: 1"), "$.sinks.app.url: must be an http://"),
    ("http url of 2049 bytes", http_sink(url="https://example.com/" + "a" * 2029), "$.sinks.app.url: must be an http://"),
    # http: timeout, concurrency, format
    ("http timeout 0", http_sink(timeout=0), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("http timeout over 1h", http_sink(timeout=3601), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("http timeout not a duration", http_sink(timeout="10 s"), "$.sinks.app.timeout: must be a duration"),
    ("http concurrency 0", http_sink(concurrency=0), "$.sinks.app.concurrency: must be an integer from 1 to 256"),
    ("http concurrency 257", http_sink(concurrency=257), "$.sinks.app.concurrency: must be an integer from 1 to 256"),
    ("http concurrency as string", http_sink(concurrency="8"), "$.sinks.app.concurrency: must be an integer"),
    ("http format json", http_sink(format="json"), "$.sinks.app.format: must be \"structured\" or \"binary\""),
    ("http format in upper case", http_sink(format="Binary"), "$.sinks.app.format: must be \"structured\" or \"binary\""),
    ("http format not a string", http_sink(format=True), "$.sinks.app.format: must be \"structured\" or \"binary\""),
    # http: headers
    ("http headers as a list", http_sink(headers=["X-A: 1"]), "$.sinks.app.headers: must be an object of at most 64"),
    ("http 65 headers", http_sink(headers={f"X-H{i}": "v" for i in range(65)}), "$.sinks.app.headers: must be an object of at most 64"),
    ("http header empty name", http_sink(headers={"": "v"}), "$.sinks.app.headers: header \"\": a name without ':'"),
    ("http header name with ':'", http_sink(headers={"X-A:": "v"}), "$.sinks.app.headers: header \"X-A:\""),
    ("http header name with a space", http_sink(headers={"X A": "v"}), "$.sinks.app.headers: header \"X A\""),
    ("http header name with a tab", http_sink(headers={"X\tA": "v"}), "$.sinks.app.headers: header"),
    ("http header Host", http_sink(headers={"Host": "example.com"}), "$.sinks.app.headers: header \"Host\""),
    ("http header HOST", http_sink(headers={"HOST": "example.com"}), "$.sinks.app.headers: header \"HOST\""),
    ("http header Content-Type", http_sink(headers={"Content-Type": "text/plain"}), "$.sinks.app.headers: header \"Content-Type\""),
    ("http header content-length", http_sink(headers={"content-length": "0"}), "$.sinks.app.headers: header \"content-length\""),
    ("http header ce-id", http_sink(headers={"ce-id": "x"}), "$.sinks.app.headers: header \"ce-id\""),
    ("http header CE-Type", http_sink(headers={"CE-Type": "x"}), "$.sinks.app.headers: header \"CE-Type\""),
    ("http header webhook-signature", http_sink(headers={"webhook-signature": "v1,x"}),
     "$.sinks.app.headers: header \"webhook-signature\""),
    ("http header Webhook-Id among good ones", http_sink(headers={"X-A": "1", "Webhook-Id": "x"}),
     "$.sinks.app.headers: header \"Webhook-Id\""),
    ("http header value not a string", http_sink(headers={"X-Retries": 3}), "$.sinks.app.headers: header \"X-Retries\""),
    ("http header name not a token", http_sink(headers={"X(A)": "v"}), "$.sinks.app.headers: header \"X(A)\""),
    ("http header name not ASCII", http_sink(headers={"X-\u00c4": "v"}), "$.sinks.app.headers: header \"X-\u00c4\""),
    ("http header value with a control character", http_sink(headers={"X-A": "a\u0001b"}),
     "$.sinks.app.headers: header \"X-A\""),
    ("http header value with DEL", http_sink(headers={"X-A": "a\u007fb"}), "$.sinks.app.headers: header \"X-A\""),
    # "$" in a Python regex also matches before a final newline: the schema
    # must not be fooled by one (unanchored patterns)
    ("http header value ending in a newline", http_sink(headers={"X-A": "a\n"}), "$.sinks.app.headers: header \"X-A\""),
    ("http header name ending in a newline", http_sink(headers={"X-A\n": "v"}), "$.sinks.app.headers: header"),
    ("http header value null", http_sink(headers={"X-A": None}), "$.sinks.app.headers: header \"X-A\""),
    ("http header value with LF", http_sink(headers={"X-A": "a\nX-Evil: 1"}), "$.sinks.app.headers: header \"X-A\""),
    ("http header value with CR", http_sink(headers={"X-A": "a\rb"}), "$.sinks.app.headers: header \"X-A\""),
    # http: unix_socket
    ("http unix_socket relative", http_sink(unix_socket="run/svc.sock"),
     "$.sinks.app.unix_socket: must be an absolute path shorter than 108 bytes"),
    ("http unix_socket of 108 bytes", http_sink(unix_socket="/" + "s" * 107),
     "$.sinks.app.unix_socket: must be an absolute path shorter than 108 bytes"),
    ("http unix_socket empty", http_sink(unix_socket=""), "$.sinks.app.unix_socket: must be a non-empty string"),
    ("http unix_socket not a string", http_sink(unix_socket=True), "$.sinks.app.unix_socket: must be a non-empty string"),
    # http: tls
    ("http tls not an object", http_sink(tls="/etc/hostname"), "$.sinks.app.tls: must be an object"),
    ("http unknown tls key", http_sink(tls={"ca": "/etc/hostname", "verify": False}), "$.sinks.app.tls.verify: unknown key"),
    ("http tls client_ca (a listener key)", http_sink(tls={"client_ca": "/etc/hostname"}),
     "$.sinks.app.tls.client_ca: unknown key"),
    ("http tls cert without key", http_sink(tls={"cert": "/etc/hostname"}), "$.sinks.app.tls.key: cert and key go together"),
    ("http tls key without cert", http_sink(tls={"ca": "/etc/hostname", "key": "/etc/hostname"}),
     "cert and key go together"),
    ("http tls ca empty", http_sink(tls={"ca": ""}), "$.sinks.app.tls.ca: must be a non-empty string"),
    ("http tls cert not a string", http_sink(tls={"cert": 1, "key": "/etc/hostname"}),
     "$.sinks.app.tls.cert: must be a non-empty string"),
    # http: sign
    ("http sign not an object", http_sink(sign=STANDARD_SECRET), "$.sinks.app.sign: must be an object"),
    ("http sign without secret", http_sink(sign={}), "$.sinks.app.sign.secret: is required: a Standard Webhooks secret"),
    ("http unknown sign key", http_sink(sign={"secret": STANDARD_SECRET, "alg": "v1"}), "$.sinks.app.sign.alg: unknown key"),
    ("http sign secret empty", http_sink(sign={"secret": ""}), "$.sinks.app.sign.secret: must be \"env:NAME\""),
    ("http sign secret not a string", http_sink(sign={"secret": [STANDARD_SECRET]}), "$.sinks.app.sign.secret: must be"),
    ("http sign secret env: without a name", http_sink(sign={"secret": "env:"}), "$.sinks.app.sign.secret: environment variable"),
    # jetstream sinks: each key of another type refused, and the other way round
    ("url on jetstream", js_sink(url="http://127.0.0.1:9/"), "$.sinks.app.url: unknown key"),
    ("concurrency on jetstream (its key is window)", js_sink(concurrency=8), "$.sinks.app.concurrency: unknown key"),
    ("command on jetstream", js_sink(command=["true"]), "$.sinks.app.command: unknown key"),
    ("headers on jetstream", js_sink(headers={}), "$.sinks.app.headers: unknown key"),
    ("sign on jetstream", js_sink(sign={"secret": STANDARD_SECRET}), "$.sinks.app.sign: unknown key"),
    ("ack_timeout on jetstream", js_sink(ack_timeout="1s"), "$.sinks.app.ack_timeout: unknown key"),
    ("path on jetstream", js_sink(path="/run/x.sock"), "$.sinks.app.path: unknown key"),
    ("unknown jetstream key", js_sink(max_age="1d"), "$.sinks.app.max_age: unknown key"),
    ("servers on http", http_sink(servers=["nats://127.0.0.1:4222"]), "$.sinks.app.servers: unknown key"),
    ("window on http", http_sink(window=8), "$.sinks.app.window: unknown key"),
    ("subject on stdout", lambda c: c["sinks"]["out"].update(subject="hooks.x"), "$.sinks.out.subject: unknown key"),
    ("stream on exec", lambda c: c["sinks"].update(app={"type": "exec", "command": ["true"], "stream": {"name": "H"}}),
     "$.sinks.app.stream: unknown key"),
    ("creds on unix", lambda c: c["sinks"].update(app={"type": "unix", "path": "/run/x.sock", "creds": "/etc/hostname"}),
     "$.sinks.app.creds: unknown key"),
    ("window on pipe", lambda c: c["sinks"].update(app={"type": "pipe", "command": ["cat"], "window": 1}),
     "$.sinks.app.window: unknown key"),
    # jetstream: servers
    ("jetstream without servers", js_sink(servers=None), "$.sinks.app.servers: is required"),
    ("jetstream servers empty", js_sink(servers=[]), "$.sinks.app.servers: must be a non-empty array of strings"),
    ("jetstream servers not a list", js_sink(servers="nats://127.0.0.1:4222"),
     "$.sinks.app.servers: must be a non-empty array of strings"),
    ("jetstream 257 servers", js_sink(servers=["nats://127.0.0.1:4222"] * 257),
     "$.sinks.app.servers: must be a non-empty array of strings"),
    ("jetstream server empty", js_sink(servers=[""]), "$.sinks.app.servers[0]: must be a non-empty string"),
    ("jetstream server not a string", js_sink(servers=["nats://127.0.0.1:4222", 4222]),
     "$.sinks.app.servers[1]: must be a non-empty string"),
    ("jetstream server http://", js_sink(servers=["http://127.0.0.1:4222"]), SERVER_RULE),
    ("jetstream server without a scheme", js_sink(servers=["127.0.0.1:4222"]), SERVER_RULE),
    ("jetstream server scheme in upper case", js_sink(servers=["NATS://127.0.0.1:4222"]), SERVER_RULE),
    ("jetstream server scheme nats:/", js_sink(servers=["nats:/127.0.0.1:4222"]), SERVER_RULE),
    ("jetstream two servers in one string", js_sink(servers=["nats://a:4222,nats://b:4222"]), SERVER_RULE),
    ("jetstream server with a space", js_sink(servers=["nats://127.0.0.1:4222 "]), SERVER_RULE),
    ("jetstream server with a tab", js_sink(servers=["tls://a\t:4222"]), SERVER_RULE),
    ("jetstream server with a line break", js_sink(servers=["nats://a\n:4222"]), SERVER_RULE),
    ("jetstream second server bad", js_sink(servers=["nats://a:4222", "tls://b :4222"]), SERVER_RULE),
    # jetstream: subject
    ("jetstream without subject", js_sink(subject=None), "$.sinks.app.subject: is required: e.g. \"hooks.{route}.{type}\""),
    ("jetstream subject empty", js_sink(subject=""), "$.sinks.app.subject: must be a non-empty string"),
    ("jetstream subject not a string", js_sink(subject=["hooks"]), "$.sinks.app.subject: must be a non-empty string"),
    ("jetstream subject with *", js_sink(subject="hooks.*"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject with >", js_sink(subject="hooks.>"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject with * in a token", js_sink(subject="hooks.a*b"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject with a space", js_sink(subject="hooks. {type}"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject with a tab", js_sink(subject="hooks\tx"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject with a line break", js_sink(subject="hooks.x\r\n"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject starting with .", js_sink(subject=".hooks"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject ending with .", js_sink(subject="hooks."), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject with an empty token", js_sink(subject="hooks..{type}"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject only a dot", js_sink(subject="."), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject of 201 bytes", js_sink(subject="h." * 100 + "x"), "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream subject unknown placeholder", js_sink(subject="hooks.{event}"),
     "$.sinks.app.subject: unknown placeholder (known: {route} {type} {id})"),
    ("jetstream subject placeholder in upper case", js_sink(subject="hooks.{Route}"),
     "$.sinks.app.subject: unknown placeholder"),
    ("jetstream subject placeholder unclosed", js_sink(subject="hooks.{route"), "$.sinks.app.subject: unknown placeholder"),
    ("jetstream subject placeholder doubled brace", js_sink(subject="hooks.{{id}}"),
     "$.sinks.app.subject: unknown placeholder"),
    ("jetstream subject lone {", js_sink(subject="hooks.{"), "$.sinks.app.subject: unknown placeholder"),
    # jetstream: stream
    ("jetstream without stream", js_sink(stream=None), "$.sinks.app.stream: is required: {\"name\": \"HOOKS\", \"create\": true}"),
    ("jetstream stream as a name", js_sink(stream="HOOKS"), "$.sinks.app.stream: must be an object"),
    ("jetstream stream without name", js_sink(stream={"create": True}), "$.sinks.app.stream.name: is required"),
    ("jetstream unknown stream key", js_sink(stream=stream(max_age="1d")), "$.sinks.app.stream.max_age: unknown key"),
    ("jetstream stream subjects (not a key)", js_sink(stream=stream(subjects=["hooks.>"])),
     "$.sinks.app.stream.subjects: unknown key"),
    ("jetstream stream name empty", js_sink(stream=stream(name="")), "$.sinks.app.stream.name: must be a non-empty string"),
    ("jetstream stream name not a string", js_sink(stream=stream(name=7)), "$.sinks.app.stream.name: must be a non-empty string"),
    ("jetstream stream name with .", js_sink(stream=stream(name="HOOKS.v1")), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream name with a space", js_sink(stream=stream(name="MY HOOKS")), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream name with a tab", js_sink(stream=stream(name="H\tK")), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream name with *", js_sink(stream=stream(name="H*")), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream name with >", js_sink(stream=stream(name="H>")), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream name with /", js_sink(stream=stream(name="a/b")), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream name with \\", js_sink(stream=stream(name="a\\b")), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream name of 65 bytes", js_sink(stream=stream(name="S" * 65)), "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
    ("jetstream stream create as a string", js_sink(stream=stream(create="yes")), "$.sinks.app.stream.create: must be true or false"),
    ("jetstream stream create as 1", js_sink(stream=stream(create=1)), "$.sinks.app.stream.create: must be true or false"),
    ("jetstream replicas 0", js_sink(stream=stream(replicas=0)), "$.sinks.app.stream.replicas: must be an integer from 1 to 5"),
    ("jetstream replicas 6", js_sink(stream=stream(replicas=6)), "$.sinks.app.stream.replicas: must be an integer from 1 to 5"),
    ("jetstream replicas as a string", js_sink(stream=stream(replicas="3")), "$.sinks.app.stream.replicas: must be an integer"),
    ("jetstream replicas fractional", js_sink(stream=stream(replicas=2.5)), "$.sinks.app.stream.replicas: must be an integer"),
    ("jetstream duplicate_window 0", js_sink(stream=stream(duplicate_window=0)),
     "$.sinks.app.stream.duplicate_window: must be between 1s and 7d"),
    ("jetstream duplicate_window over 7d", js_sink(stream=stream(duplicate_window=7 * 86400 + 1)),
     "$.sinks.app.stream.duplicate_window: must be between 1s and 7d"),
    ("jetstream duplicate_window not a duration", js_sink(stream=stream(duplicate_window="2 m")),
     "$.sinks.app.stream.duplicate_window: must be a duration"),
    ("jetstream duplicate_window negative", js_sink(stream=stream(duplicate_window=-1)),
     "$.sinks.app.stream.duplicate_window: must be a duration"),
    # jetstream: window, timeout
    ("jetstream window 0", js_sink(window=0), "$.sinks.app.window: must be an integer from 1 to 4096"),
    ("jetstream window 4097", js_sink(window=4097), "$.sinks.app.window: must be an integer from 1 to 4096"),
    ("jetstream window as a string", js_sink(window="256"), "$.sinks.app.window: must be an integer from 1 to 4096"),
    ("jetstream timeout 0", js_sink(timeout=0), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("jetstream timeout over 1h", js_sink(timeout=3601), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("jetstream timeout not a duration", js_sink(timeout="10 s"), "$.sinks.app.timeout: must be a duration"),
    # jetstream: creds, tls
    ("jetstream creds empty", js_sink(creds=""), "$.sinks.app.creds: must be a non-empty string"),
    ("jetstream creds not a string", js_sink(creds=["/etc/hostname"]), "$.sinks.app.creds: must be a non-empty string"),
    ("jetstream tls not an object", js_sink(tls="/etc/hostname"), "$.sinks.app.tls: must be an object"),
    ("jetstream unknown tls key", js_sink(tls={"ca": "/etc/hostname", "verify": False}), "$.sinks.app.tls.verify: unknown key"),
    ("jetstream tls client_ca (a listener key)", js_sink(tls={"client_ca": "/etc/hostname"}),
     "$.sinks.app.tls.client_ca: unknown key"),
    ("jetstream tls ca empty", js_sink(tls={"ca": ""}), "$.sinks.app.tls.ca: must be a non-empty string"),
    ("jetstream tls key not a string", js_sink(tls={"cert": "/etc/hostname", "key": 1}),
     "$.sinks.app.tls.key: must be a non-empty string"),
    ("jetstream tls cert without key", js_sink(tls={"cert": "/etc/hostname"}),
     "$.sinks.app.tls.key: cert and key go together"),
    ("jetstream tls key without cert", js_sink(tls={"ca": "/etc/hostname", "key": "/etc/hostname"}),
     "$.sinks.app.tls.cert: cert and key go together"),
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
    ("profile_dirs empty", lambda c: c.update(profile_dirs=[]), "$.profile_dirs: must be a non-empty array of strings"),
    ("profile_dirs not a list", lambda c: c.update(profile_dirs="/etc/hookgate/profiles"),
     "$.profile_dirs: must be a non-empty array of strings"),
    ("profile_dirs empty path", lambda c: c.update(profile_dirs=[""]), "$.profile_dirs[0]: must be a non-empty string"),
    ("profile_dirs entry not a string", lambda c: c.update(profile_dirs=[1]), "$.profile_dirs[0]: must be a non-empty string"),
    ("gc_interval 0", lambda c: c.update(gc_interval=0), "$.gc_interval: must be at least 1s"),
    ("gc_interval not a duration", lambda c: c.update(gc_interval="often"), "$.gc_interval: must be a duration"),
    # the operations keys
    ("max_connections_per_ip negative", lambda c: c.update(limits={"max_connections_per_ip": -1}),
     "$.limits.max_connections_per_ip: must be an integer from 0 to 65536"),
    ("max_connections_per_ip 65537", lambda c: c.update(limits={"max_connections_per_ip": 65537}),
     "$.limits.max_connections_per_ip: must be an integer from 0 to 65536"),
    ("max_connections_per_ip as string", lambda c: c.update(limits={"max_connections_per_ip": "5"}),
     "$.limits.max_connections_per_ip: must be an integer"),
    ("max_connections_per_ip fractional", lambda c: c.update(limits={"max_connections_per_ip": 2.5}),
     "$.limits.max_connections_per_ip: must be an integer"),
    ("rate_per_ip 0", lambda c: c.update(limits={"rate_per_ip": 0}),
     "$.limits.rate_per_ip: must be a number of requests per second, > 0"),
    ("rate_per_ip negative", lambda c: c.update(limits={"rate_per_ip": -0.5}),
     "$.limits.rate_per_ip: must be a number of requests per second"),
    ("rate_per_ip over 1000000", lambda c: c.update(limits={"rate_per_ip": 1000000.5}),
     "$.limits.rate_per_ip: must be a number of requests per second, > 0 and <= 1000000"),
    ("rate_per_ip as string", lambda c: c.update(limits={"rate_per_ip": "10/s"}),
     "$.limits.rate_per_ip: must be a number"),
    ("rate_per_ip as boolean", lambda c: c.update(limits={"rate_per_ip": True}),
     "$.limits.rate_per_ip: must be a number"),
    ("rate_burst 0", lambda c: c.update(limits={"rate_per_ip": 1, "rate_burst": 0}),
     "$.limits.rate_burst: must be an integer from 1 to 1000000"),
    ("rate_burst over 1000000", lambda c: c.update(limits={"rate_per_ip": 1, "rate_burst": 1000001}),
     "$.limits.rate_burst: must be an integer from 1 to 1000000"),
    ("rate_burst fractional", lambda c: c.update(limits={"rate_per_ip": 1, "rate_burst": 1.5}),
     "$.limits.rate_burst: must be an integer"),
    ("rate_burst without rate_per_ip", lambda c: c.update(limits={"rate_burst": 3}),
     "$.limits.rate_burst: needs $.limits.rate_per_ip"),
    ("max_header_size under 1KiB", lambda c: c.update(limits={"max_header_size": 1023}),
     "$.limits.max_header_size: must be between 1KiB and 1MiB"),
    ("max_header_size over 1MiB", lambda c: c.update(limits={"max_header_size": (1 << 20) + 1}),
     "$.limits.max_header_size: must be between 1KiB and 1MiB"),
    ("max_header_size not a size", lambda c: c.update(limits={"max_header_size": "big"}),
     "$.limits.max_header_size: must be a size"),
    ("user empty", lambda c: c.update(user=""), "$.user: must be a non-empty string"),
    ("user not a string", lambda c: c.update(user=0), "$.user: must be a non-empty string"),
    ("user of 33 characters", lambda c: c.update(user="u" * 33), "$.user: must be a user name"),
    ("shutdown_timeout 0", lambda c: c.update(shutdown_timeout=0), "$.shutdown_timeout: must be between 1s and 1h"),
    ("shutdown_timeout over 1h", lambda c: c.update(shutdown_timeout=3601),
     "$.shutdown_timeout: must be between 1s and 1h"),
    ("shutdown_timeout not a duration", lambda c: c.update(shutdown_timeout="soon"),
     "$.shutdown_timeout: must be a duration"),
    ("unknown limits key near a new one", lambda c: c.update(limits={"rate_per_second": 1}),
     "$.limits.rate_per_second: unknown key"),
    ("unauthenticated_body_budget not a size", lambda c: c.update(limits={"unauthenticated_body_budget": "lots"}),
     "$.limits.unauthenticated_body_budget: must be a size"),
    ("unauthenticated_body_budget negative", lambda c: c.update(limits={"unauthenticated_body_budget": -1}),
     "$.limits.unauthenticated_body_budget: must be a size"),
    ("tls priorities empty", lambda c: c["listen"][0].update(
        tls={"cert": "/etc/hostname", "key": "/etc/hostname", "priorities": ""}),
     "$.listen[0].tls.priorities: must be a non-empty string"),
    ("tls priorities not a string", lambda c: c["listen"][0].update(
        tls={"cert": "/etc/hostname", "key": "/etc/hostname", "priorities": ["NORMAL"]}),
     "$.listen[0].tls.priorities: must be a non-empty string"),
]


def every_builtin_profile(c):
    """One route per built-in profile, each with what its kind needs."""
    routes = []
    for p in BUILT_PROFILES:
        r = {"path": "/hooks/" + p, "profile": p, "sinks": ["out"]}
        if p in UNSIGNED_PROFILES:
            r.update(allow_unsigned=True, allow=["127.0.0.1/32"])
        else:
            r.update(signed_route_keys(p))
        routes.append(r)
    c["routes"] = routes

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
    ("every built-in profile", every_builtin_profile),
    ("tolerance 2d (a warning)", lambda c: c["routes"][1].update(tolerance="2d")),
    ("tolerance 3650d", lambda c: c["routes"][1].update(tolerance="3650d")),
    ("tolerance 3650d in seconds", lambda c: c["routes"][1].update(tolerance=3650 * 86400)),
    ("allow: IPv4 and IPv6, CIDRs and bare addresses", lambda c: route0(c).update(
        allow=["140.82.112.0/20", "10.0.0.1", "192.168.1.7/32", "2001:db8::/32", "::1", "fe80::/10",
               "::ffff:10.0.0.0/104", "2001:db8:0:0:1:2:3:4/128"])),
    ("allow: /0 for each family", lambda c: route0(c).update(allow=["0.0.0.0/0", "::/0"])),
    ("allow: 256 entries", lambda c: route0(c).update(allow=["10.0.%d.0/24" % i for i in range(256)])),
    ("token: env, file and literal on three routes", lambda c: (
        route0(c).update(token="env:T_SECRET"),
        c["routes"][1].update(token="file:" + c["_secret_file"]),
        c["routes"].append({"path": "/hooks/gh", "profile": "github", "secrets": ["gh"], "sinks": ["out"],
                            "token": "t" * 256}))),
    ("token and allow together", lambda c: route0(c).update(token="t0k", allow=["127.0.0.0/8"])),
    ("allow_unsigned false on a signed profile", lambda c: route0(c).update(allow_unsigned=False)),
    ("openwebui with allow", lambda c: unsigned_route(c, allow_unsigned=True, allow=["127.0.0.1/32", "::1/128"])),
    ("unsigned with a token", lambda c: unsigned_route(c, "unsigned", allow_unsigned=True, token="env:T_SECRET")),
    ("unsigned with allow, token and type", lambda c: unsigned_route(
        c, "unsigned", allow_unsigned=True, allow=["10.0.0.0/8"], token="t0k", type="signup")),
    ("hubex with allow", lambda c: route0(c).update(profile="hubex", allow=["203.0.113.0/24"])),
    ("fixed type, 1 and 128 bytes", lambda c: (route0(c).update(type="x"), c["routes"][1].update(type="t" * 128))),
    ("gc_interval", lambda c: c.update(gc_interval="30s")),
    ("public_url https with port and query, http", lambda c: (
        route0(c).update(public_url="https://hooks.example.com:8443/hooks/generic?src=twilio"),
        c["routes"][1].update(public_url="http://127.0.0.1/hooks/iex"))),
    ("public_url of 2048 bytes", lambda c: route0(c).update(public_url="https://example.com/" + "a" * 2028)),
    ("trusted_proxies: addresses and CIDRs of both families", lambda c: c["listen"][0].update(
        trusted_proxies=["10.0.0.0/8", "192.0.2.7", "::1/128", "2001:db8::/32", "0.0.0.0/0"])),
    ("trusted_proxies: empty, and 64 entries", lambda c: c.update(listen=[
        {"address": "127.0.0.1:0", "trusted_proxies": []},
        {"address": "[::1]:0", "trusted_proxies": ["10.0.%d.0/24" % i for i in range(64)]}])),
    ("verify_token on a profile with a verify_token handshake", lambda c: vt_route(c, verify_token="env:T_SECRET")),
    ("jwt_claims pinning email on pubsub-push", lambda c: push_route(c, jwt_claims={"email": PUSH_SA})),
    ("jwt_claims of 8 claims, strings, booleans and integers", lambda c: push_route(c, jwt_claims={
        "email": PUSH_SA, "email_verified": True, "azp": "1234567890", "hd": "", "n": 0, "neg": -7,
        "big": 2 ** 53, "admin": False})),
    ("jwt_claims on qstash, and an empty one", lambda c: (
        route0(c).update(profile="qstash", jwt_claims={"iss": "Upstash"}),
        c["routes"][1].update(profile="qstash", jwt_claims={}))),
    ("jwt_claims on a user JWT profile, its route_claims pinned", lambda c: jwt_route(c, jwt_claims={
        "sub": "svc-a", "tenant": 42})),
    ("jwt_claims left out on a user JWT profile without route_claims", lambda c: jwt_route(c, "acme_jwt0", ())),
    ("verify_token on a meta route", lambda c: route0(c).update(profile="meta", verify_token="env:T_SECRET")),
    ("verify_token literal and from a file", lambda c: (
        vt_route(c, verify_token="a-literal-verify-token"),
        c["routes"].append({"path": "/hooks/vt2", "profile": "acme_vt", "secrets": ["s"], "sinks": ["out"],
                            "verify_token": "file:" + c["_secret_file"]}))),
    ("operations keys at their minimum", lambda c: c.update(
        limits={"max_connections_per_ip": 0, "rate_per_ip": 0.001, "rate_burst": 1, "max_header_size": "1KiB"},
        shutdown_timeout="1s", user="nobody")),
    ("operations keys at their maximum", lambda c: c.update(
        limits={"max_connections_per_ip": 65536, "rate_per_ip": 1000000, "rate_burst": 1000000,
                "max_header_size": "1MiB"}, shutdown_timeout=3600)),
    ("rate_per_ip alone, an integer; sizes and durations as strings", lambda c: c.update(
        limits={"rate_per_ip": 10, "max_header_size": "16384", "max_connections_per_ip": 8},
        shutdown_timeout="1h")),
    ("unauthenticated_body_budget as a string", lambda c: c.update(
        limits={"unauthenticated_body_budget": "256MiB"})),
    ("unauthenticated_body_budget as bytes", lambda c: c.update(limits={"unauthenticated_body_budget": 1 << 40})),
    ("unauthenticated_body_budget and max_connections_per_ip off", lambda c: c.update(
        limits={"unauthenticated_body_budget": 0, "max_connections_per_ip": 0})),
    ("tls priorities", lambda c: c["listen"][0].update(tls={
        "cert": "/etc/hostname", "key": "/etc/hostname", "priorities": "NORMAL:-VERS-ALL:+VERS-TLS1.3"})),
    ("an admin listener and admin false", lambda c: c.update(listen=[
        {"address": "127.0.0.1:0", "admin": False}, {"address": "127.0.0.1:0", "admin": True}])),
    ("profile_dirs with a signed user profile", lambda c: (
        c.update(profile_dirs=[profile_dir(os.path.dirname(c["_secret_file"]))]),
        route0(c).update(profile="acme"))),
    ("profile_dirs with an unsigned user profile", lambda c: (
        c.update(profile_dirs=[profile_dir(os.path.dirname(c["_secret_file"]), "acme_open", unsigned=True)]),
        unsigned_route(c, "acme_open", allow_unsigned=True, allow=["127.0.0.1"]))),
    # http sinks
    ("http sink, only a url, on a route", http_sink(route=True)),
    ("http sink, every key", http_sink(
        route=True, url="https://orders.internal:8443/hooks?src=hookgate#x", timeout="100ms", concurrency=256,
        headers={"Authorization": "Bearer t0k", "X-Tenant": "acme", "X-Note": "a: b; c=\"d\""},
        format="binary", tls={"ca": "/etc/hostname", "cert": "/etc/hostname", "key": "/etc/hostname"},
        unix_socket="/" + "s" * 106, sign={"secret": STANDARD_SECRET}, types=["order.*"])),
    ("http sink, other bounds", http_sink(timeout=3600, concurrency=1, format="structured", headers={},
                                          tls={"ca": "/etc/hostname"})),
    ("http sink, timeouts as strings", lambda c: (http_sink("a", timeout="1h")(c), http_sink("b", timeout="250ms")(c))),
    ("http sink, url of 2048 bytes", http_sink(url="https://example.com/" + "a" * 2028)),
    ("http sink, plain http url with a port", http_sink(url="http://[::1]:8080/")),
    ("http sink, 64 headers", http_sink(headers={f"X-H{i}": "v" * i for i in range(64)})),
    ("http sink, header names near the reserved ones", http_sink(
        headers={"X-Host": "1", "Hosts": "1", "X-Content-Type": "1", "Content-Length-X": "1", "X-ce-id": "1",
                 "Ce": "1", "Webhook": "1", "X-Webhook-Id": "1", "User-Agent": "svc"})),
    ("http sink, tls with an https url", http_sink(url="https://127.0.0.1:8443/", tls={"cert": "/etc/hostname",
                                                                                       "key": "/etc/hostname"})),
    ("three http sinks and stdout", lambda c: (http_sink("a", route=True)(c), http_sink("b", route=True)(c),
                                               http_sink("c", format="binary")(c))),
    # jetstream sinks
    ("jetstream sink, the required keys, on a route", js_sink(route=True)),
    ("jetstream sink, every key", lambda c: js_sink(
        route=True, servers=["nats://10.0.0.5:4222", "tls://nats.internal:4443", "nats://[::1]:4222"],
        subject="hooks.{route}.{type}.{id}",
        stream={"name": "HOOKS_v1-A", "create": True, "replicas": 5, "duplicate_window": "7d"},
        window=4096, timeout="1h", creds="file:" + c["_secret_file"],
        tls={"ca": "/etc/hostname", "cert": "/etc/hostname", "key": "/etc/hostname"}, types=["order.*"])(c)),
    ("jetstream sink, other bounds", lambda c: js_sink(
        subject="x", stream={"name": "S", "create": False, "replicas": 1, "duplicate_window": 1}, window=1,
        timeout="100ms", creds=c["_secret_file"], tls={"ca": "/etc/hostname"})(c)),
    ("jetstream sink, durations as integers at the top", js_sink(
        stream=stream(duplicate_window=7 * 86400), timeout=3600)),
    ("jetstream sink, durations as strings", js_sink(stream=stream(duplicate_window="1s"), timeout="250ms")),
    ("jetstream sink, subject of 200 bytes", js_sink(subject="h." * 99 + "xy")),
    ("jetstream sink, stream name of 64 bytes", js_sink(stream=stream(name="S" * 64))),
    ("jetstream sink, every placeholder alone", lambda c: (js_sink("a", subject="hooks.{route}.{type}.{id}")(c),
                                                          js_sink("b", subject="in.{id}")(c))),
    ("jetstream sink, punctuation in subject and stream name", js_sink(
        subject="hooks-v1.orders_2.$x.{type}", stream=stream(name="orders-v1_2$"))),
    ("jetstream sink, 256 servers", js_sink(servers=["nats://127.0.0.1:%d" % (4000 + i) for i in range(256)])),
    ("two jetstream sinks on one stream and an http sink", lambda c: (
        js_sink("a", route=True, subject="hooks.a.{type}")(c), js_sink("b", route=True, subject="hooks.b.{type}")(c),
        http_sink("c", route=True)(c))),
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
    ("profile neither built in nor in profile_dirs", lambda c: route0(c).update(profile="acme"),
     "$.routes[0].profile: unknown profile \"acme\" (known: "),
    ("profile_dirs directory missing", lambda c: c.update(profile_dirs=["/nonexistent/profiles"]),
     "cannot open this directory of $.profile_dirs"),
    ("verify_token missing where the profile's handshake needs it", lambda c: vt_route(c),
     "$.routes[0].verify_token: is required by profile acme_vt"),
    ("verify_token from an unset variable", lambda c: vt_route(c, verify_token="env:HG_SURELY_UNSET"),
     "$.routes[0].verify_token: environment variable HG_SURELY_UNSET is not set"),
    ("jwt_claims integer written as 1.0 (JSON Schema counts it an integer, jansson a real)",
     lambda c: push_route(c, jwt_claims={"email": PUSH_SA, "n": 1.0}),
     "$.routes[0].jwt_claims.n: must be a string, a boolean or an integer"),
    ("jwt_claims missing a user JWT profile's route_claims", lambda c: jwt_route(c, jwt_claims={"tenant": 42}),
     "$.routes[0].jwt_claims: is required by profile acme_jwt: {\"sub\": ...}"),
    ("jwt_claims on a user profile that is not JWT", lambda c: (
        c.update(profile_dirs=[profile_dir(os.path.dirname(c["data_dir"]))]),
        route0(c).update(profile="acme", jwt_claims={"sub": "x"})),
     "$.routes[0].jwt_claims: only for a JWT profile (acme is not)"),
    ("public_url of 1100 characters, 2200 bytes", lambda c: route0(c).update(
        public_url="https://example.com/" + "\u00e9" * 1100), "$.routes[0].public_url: must be an http:// or https:// URL"),
    ("trusted_proxies with host bits set", lambda c: c["listen"][0].update(trusted_proxies=["::1", "10.0.0.1/8"]),
     "$.listen[0].trusted_proxies[1]: host bits set after the prefix length"),
    ("allow with IPv4 host bits set", lambda c: route0(c).update(allow=["10.0.0.1/8"]),
     "$.routes[0].allow[0]: host bits set after the prefix length"),
    ("allow with IPv6 host bits set", lambda c: route0(c).update(allow=["::1", "2001:db8::1/32"]),
     "$.routes[0].allow[1]: host bits set after the prefix length"),
    ("token from an unset variable", lambda c: route0(c).update(token="env:HG_SURELY_UNSET"),
     "$.routes[0].token: environment variable HG_SURELY_UNSET is not set"),
    ("token of 200 characters, 400 bytes", lambda c: route0(c).update(token="\u00e9" * 200),
     "$.routes[0].token: a token is 1-256 bytes"),
    ("type of 65 characters, 130 bytes", lambda c: route0(c).update(type="\u00e9" * 65),
     "$.routes[0].type: must be a type name (1-128 bytes)"),
    ("tolerance as a string under 1s", lambda c: route0(c).update(tolerance="500ms"),
     "$.routes[0].tolerance: must be between 1s and 3650d"),
    ("tolerance as a string over 3650d", lambda c: route0(c).update(tolerance="3651d"),
     "$.routes[0].tolerance: must be between 1s and 3650d"),
    ("gc_interval as a string under 1s", lambda c: c.update(gc_interval="500ms"), "$.gc_interval: must be at least 1s"),
    ("unreadable client CA", lambda c: c["listen"][0].update(
        tls={"cert": "/etc/hostname", "key": "/etc/hostname", "client_ca": "/nonexistent/ca.pem"}),
     "$.listen[0].tls.client_ca: cannot read /nonexistent/ca.pem"),
    ("tls priorities GnuTLS refuses", lambda c: c["listen"][0].update(
        tls={"cert": "/etc/hostname", "key": "/etc/hostname", "priorities": "NORMAL:+VERS-TLS9.9"}),
     "$.listen[0].tls.priorities: not a valid GnuTLS priority string"),
    ("max_header_size as a string under 1KiB", lambda c: c.update(limits={"max_header_size": "1000B"}),
     "$.limits.max_header_size: must be between 1KiB and 1MiB"),
    ("max_header_size as a string over 1MiB", lambda c: c.update(limits={"max_header_size": "2MiB"}),
     "$.limits.max_header_size: must be between 1KiB and 1MiB"),
    ("shutdown_timeout as a string under 1s", lambda c: c.update(shutdown_timeout="500ms"),
     "$.shutdown_timeout: must be between 1s and 1h"),
    ("shutdown_timeout as a string over 1h", lambda c: c.update(shutdown_timeout="61m"),
     "$.shutdown_timeout: must be between 1s and 1h"),
    ("user of 17 characters, 34 bytes", lambda c: c.update(user="\u00e9" * 17), "$.user: must be a user name"),
    # http sinks: files, the environment, byte lengths and string durations
    ("http tls ca unreadable", http_sink(tls={"ca": "/nonexistent/ca.pem"}),
     "$.sinks.app.tls.ca: cannot read /nonexistent/ca.pem"),
    ("http tls cert unreadable", http_sink(tls={"cert": "/nonexistent/cert.pem", "key": "/etc/hostname"}),
     "$.sinks.app.tls.cert: cannot read /nonexistent/cert.pem"),
    ("http tls key unreadable", http_sink(tls={"cert": "/etc/hostname", "key": "/nonexistent/key.pem"}),
     "$.sinks.app.tls.key: cannot read /nonexistent/key.pem"),
    ("http sign secret from an unset variable", http_sink(sign={"secret": "env:HG_SURELY_UNSET"}),
     "$.sinks.app.sign.secret: environment variable HG_SURELY_UNSET is not set"),
    ("http sign secret file missing", http_sink(sign={"secret": "file:/nonexistent/whsec"}),
     "$.sinks.app.sign.secret: cannot read secret file /nonexistent/whsec"),
    ("http timeout as a string under 100ms", http_sink(timeout="99ms"), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("http timeout as a string over 1h", http_sink(timeout="61m"), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("exec timeout as a string over 1d", lambda c: c["sinks"].update(
        app={"type": "exec", "command": ["true"], "timeout": "25h"}), "$.sinks.app.timeout: must be between 100ms and 1d"),
    ("http url of 2000 characters, 3980 bytes", http_sink(url="https://example.com/" + "\u00e9" * 1980),
     "$.sinks.app.url: must be an http:// or https:// URL"),
    ("http unix_socket of 60 characters, 119 bytes", http_sink(unix_socket="/" + "\u00e9" * 59),
     "$.sinks.app.unix_socket: must be an absolute path shorter than 108 bytes"),
    # jetstream sinks: files, byte lengths and string durations
    ("jetstream creds file missing", js_sink(creds="/nonexistent/nats.creds"),
     "$.sinks.app.creds: cannot read the credentials file"),
    ("jetstream creds file: missing", js_sink(creds="file:/nonexistent/nats.creds"),
     "$.sinks.app.creds: cannot read the credentials file"),
    ("jetstream creds file: without a path", js_sink(creds="file:"), "$.sinks.app.creds: cannot read the credentials file"),
    ("jetstream creds a missing relative path", js_sink(creds="no-such-dir/nats.creds"), "$.sinks.app.creds: cannot read the credentials file"),
    ("jetstream tls ca unreadable", js_sink(tls={"ca": "/nonexistent/ca.pem"}),
     "$.sinks.app.tls.ca: cannot read /nonexistent/ca.pem"),
    ("jetstream tls cert unreadable", js_sink(tls={"cert": "/nonexistent/cert.pem", "key": "/etc/hostname"}),
     "$.sinks.app.tls.cert: cannot read /nonexistent/cert.pem"),
    ("jetstream tls key unreadable", js_sink(tls={"cert": "/etc/hostname", "key": "/nonexistent/key.pem"}),
     "$.sinks.app.tls.key: cannot read /nonexistent/key.pem"),
    ("jetstream timeout as a string under 100ms", js_sink(timeout="99ms"), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("jetstream timeout as a string over 1h", js_sink(timeout="3601s"), "$.sinks.app.timeout: must be between 100ms and 1h"),
    ("jetstream duplicate_window as a string under 1s", js_sink(stream=stream(duplicate_window="999ms")),
     "$.sinks.app.stream.duplicate_window: must be between 1s and 7d"),
    ("jetstream duplicate_window as a string over 7d", js_sink(stream=stream(duplicate_window="169h")),
     "$.sinks.app.stream.duplicate_window: must be between 1s and 7d"),
    ("jetstream subject of 101 characters, 202 bytes", js_sink(subject="\u00e9" * 101),
     "$.sinks.app.subject: " + SUBJECT_RULE),
    ("jetstream stream name of 33 characters, 66 bytes", js_sink(stream=stream(name="\u00e9" * 33)),
     "$.sinks.app.stream.name: " + STREAM_NAME_RULE),
]


@unittest.skipIf(Draft202012Validator is None, "the jsonschema package is not installed for this interpreter")
class ConfigSchema(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.schema, self.v = load_validator("config.schema.json")
        self.secret_file = os.path.join(self.tmp, "secret")
        with open(self.secret_file, "w") as f:
            f.write("from-a-file\n")
        os.chmod(self.secret_file, 0o600)  # the loader refuses a secret file other users can read

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
        # every key the loader knows today (gateway/config.c, config_listen.c, config_route.c,
        # config_sink.c) is documented, where it belongs
        top = set(self.schema["properties"])
        self.assertEqual(top, {"listen", "data_dir", "limits", "dedupe_window", "retry", "routes", "sinks",
                               "log_level", "threads", "gc_interval", "profile_dirs", "user", "shutdown_timeout",
                               "admin"})
        route = defs["route"]["properties"]
        self.assertEqual(set(route), {"path", "name", "profile", "secrets", "tolerance", "sinks", "shared_dedupe",
                                      "verify_token", "public_url", "jwt_claims", "keep_rejected_bodies",
                                      *ACCESS_ROUTE_KEYS})
        for k in ("address", "tls", "cert", "key", "client_ca", "admin", "max_body", "max_connections",
                  "request_timeout", "max_store_size", "max_connections_per_ip", "rate_per_ip", "rate_burst",
                  "max_header_size", "max_attempts", "initial", "max", "types", "command", "concurrency", "timeout",
                  "env", "ack", "ack_timeout", *HTTP_SINK_KEYS, "ca", "secret", *JETSTREAM_SINK_KEYS, *STREAM_KEYS):
            self.assertIn(k, seen)
        # nothing of the contract is refused by this build any more: no key or type is described as planned
        text = json.dumps(self.schema)
        for k in ("client_ca", "unix", "exec", "pipe", "http", "jetstream"):
            self.assertIn(f"\\\"{k}\\\"", text)
        self.assertEqual(text.lower().count("planned; refused by this build"), 0)
        self.assertIn("Every key and sink type of the product contract is supported by this build",
                      self.schema["description"])
        # mutual TLS and the operations keys are supported now, not described as refused
        self.assertEqual(set(defs["listener"]["properties"]), {"address", "tls", "admin", "trusted_proxies"})
        # issue 16: trusted_proxies takes the same entries as a route's allow; verify_token is a secret
        self.assertEqual(defs["listener"]["properties"]["trusted_proxies"]["items"]["pattern"],
                         route["allow"]["items"]["pattern"])
        self.assertEqual(defs["listener"]["properties"]["trusted_proxies"]["maxItems"], 64)
        self.assertEqual(route["verify_token"]["$ref"], "#/$defs/secret")
        self.assertEqual(route["public_url"]["maxLength"], 2048)
        # jwt_claims: at most 8, each a string, a boolean or an integer (config_route.c resolve_claims)
        self.assertEqual(route["jwt_claims"]["maxProperties"], 8)
        self.assertEqual(route["jwt_claims"]["additionalProperties"], {"type": ["string", "boolean", "integer"]})
        self.assertNotIn("properties", route["jwt_claims"])
        self.assertEqual(set(defs["listener"]["properties"]["tls"]["properties"]),
                         {"cert", "key", "client_ca", "priorities"})
        self.assertEqual(set(defs["limits"]["properties"]),
                         {"max_body", "max_connections", "request_timeout", "max_store_size",
                          "max_connections_per_ip", "rate_per_ip", "rate_burst", "max_header_size",
                          "unauthenticated_body_budget"})
        self.assertEqual(defs["limits"]["dependentRequired"], {"rate_burst": ["rate_per_ip"]})
        for k, desc in (("tls", defs["listener"]["properties"]["tls"]["description"]),
                        ("client_ca", defs["listener"]["properties"]["tls"]["properties"]["client_ca"]["description"]),
                        ("admin", defs["listener"]["properties"]["admin"]["description"]),
                        ("user", self.schema["properties"]["user"]["description"]),
                        ("shutdown_timeout", self.schema["properties"]["shutdown_timeout"]["description"]),
                        *((k, v["description"]) for k, v in defs["limits"]["properties"].items())):
            self.assertIsNone(re.search(r"(?i)planned|by this build", desc), k)
        self.assertEqual(self.schema["properties"]["shutdown_timeout"]["default"], "10s")
        self.assertEqual(defs["limits"]["properties"]["max_header_size"]["default"], "16KiB")
        # a share of max_connections, not a constant (issue 15: one address must not take every slot)
        self.assertNotIn("default", defs["limits"]["properties"]["max_connections_per_ip"])
        self.assertIn("Default max(8, max_connections / 16)",
                      defs["limits"]["properties"]["max_connections_per_ip"]["description"])
        self.assertEqual(defs["limits"]["properties"]["unauthenticated_body_budget"]["default"], "64MiB")
        self.assertTrue(defs["listener"]["properties"]["tls"]["properties"]["priorities"]["default"]
                        .endswith(":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"))
        self.assertEqual(defs["sink"]["properties"]["type"]["enum"], list(SINK_TYPES))
        # the http and jetstream sinks: every key the loader takes (config_sink.c), documented as supported
        sink = defs["sink"]["properties"]
        self.assertEqual(set(sink), {"type", "types", "command", "env", "path", "ack", "ack_timeout", *HTTP_SINK_KEYS,
                                     *JETSTREAM_SINK_KEYS})
        self.assertIsNone(re.search(r"(?i)planned|by this build", sink["type"]["description"]))
        for typ in SINK_TYPES:
            self.assertIn(f"\"{typ}\": ", sink["type"]["description"], typ)
        desc = defs["sink"]["description"]
        self.assertIn('Types in this build: "stdout", "exec", "unix", "pipe", "http" and "jetstream".', desc)
        self.assertIsNone(re.search(r"(?i)planned|refused", desc))
        for k in (*JETSTREAM_SINK_KEYS, "types"):
            self.assertIsNone(re.search(r"(?i)planned|by this build", sink[k]["description"]), k)
            if k != "types":
                self.assertIn("jetstream", sink[k]["description"], k)
        for k in STREAM_KEYS:
            self.assertTrue(sink["stream"]["properties"][k]["description"], k)
            self.assertIsNone(re.search(r"(?i)planned|by this build", sink["stream"]["properties"][k]["description"]), k)
        self.assertEqual(set(sink["stream"]["properties"]), set(STREAM_KEYS))
        self.assertEqual(sink["stream"]["required"], ["name"])
        self.assertIs(sink["stream"]["additionalProperties"], False)
        self.assertEqual(sink["stream"]["properties"]["name"]["maxLength"], 64)
        self.assertEqual(sink["stream"]["properties"]["create"]["default"], False)
        self.assertEqual(sink["stream"]["properties"]["replicas"]["default"], 1)
        self.assertEqual((sink["stream"]["properties"]["replicas"]["minimum"],
                          sink["stream"]["properties"]["replicas"]["maximum"]), (1, 5))
        dw = sink["stream"]["properties"]["duplicate_window"]
        self.assertEqual((dw["$ref"], dw["minimum"], dw["maximum"], dw["default"]),
                         ("#/$defs/duration", 1, 7 * 86400, "2m"))
        self.assertIn("1s to 7d", dw["description"])
        self.assertEqual((sink["window"]["minimum"], sink["window"]["maximum"], sink["window"]["default"]), (1, 4096, 256))
        self.assertIn("Default 256", sink["window"]["description"])
        self.assertEqual(sink["subject"]["maxLength"], 200)
        for ph in ("{route}", "{type}", "{id}"):
            self.assertIn(ph, sink["subject"]["description"])
        self.assertEqual(sink["servers"]["maxItems"], 256)
        self.assertIn("file:", sink["creds"]["description"])
        self.assertIn("jetstream: the longest to wait for one publish's PubAck (100ms to 1h)", sink["timeout"]["description"])
        for k in (*HTTP_SINK_KEYS, "types"):
            self.assertIsNone(re.search(r"(?i)planned|by this build", sink[k]["description"]), k)
            if k not in ("types",):
                self.assertIn("http", sink[k]["description"], k)
        self.assertEqual(set(sink["tls"]["properties"]), {"ca", "cert", "key"})
        self.assertEqual(sink["tls"]["dependentRequired"], {"cert": ["key"], "key": ["cert"]})
        self.assertEqual(set(sink["sign"]["properties"]), {"secret"})
        self.assertEqual(sink["sign"]["required"], ["secret"])
        self.assertEqual(sink["sign"]["properties"]["secret"]["$ref"], "#/$defs/secret")
        self.assertIn("whsec_", sink["sign"]["properties"]["secret"]["description"])
        self.assertIn("never", sink["sign"]["description"])
        self.assertEqual(sink["format"]["enum"], ["structured", "binary"])
        self.assertEqual(sink["format"]["default"], "structured")
        self.assertEqual(sink["headers"]["maxProperties"], 64)
        self.assertEqual(sink["url"]["maxLength"], 2048)
        for k, d in (("concurrency", "Default 8"), ("timeout", "Default \"10s\""), ("timeout", "100ms to 1h"),
                     ("concurrency", "1 to 256")):
            self.assertIn(d, sink[k]["description"], k)
        # per type: the http branch requires url and refuses the other types' keys, and the others refuse its keys
        branches = {b["if"]["properties"]["type"]["const"]: b["then"] for b in defs["sink"]["allOf"]}
        self.assertEqual(set(branches), set(SINK_TYPES))
        self.assertEqual(branches["http"]["required"], ["url"])
        self.assertEqual(branches["jetstream"]["required"], ["servers", "subject", "stream"])
        self.assertEqual(branches["jetstream"]["properties"]["timeout"], {"minimum": 1, "maximum": 3600})
        for typ, then in branches.items():
            own = {"http": HTTP_SINK_KEYS, "exec": ("command", "concurrency", "timeout", "env"),
                   "unix": ("path", "ack", "ack_timeout"), "pipe": ("command", "env", "ack_timeout"),
                   "jetstream": JETSTREAM_SINK_KEYS, "stdout": ()}[typ]
            for k in sink:
                if k in ("type", "types"):
                    continue
                self.assertIs(then["properties"].get(k) is False, k not in own, f"{typ}: {k}")
        # the route keys that used to be refused are not described as refused any more
        for k, desc in [("route", defs["route"]["description"])] + [(k, route[k]["description"])
                                                                   for k in ("profile", *ACCESS_ROUTE_KEYS)]:
            self.assertIsNone(re.search(r"(?i)planned|by this build", desc), k)
        self.assertEqual(defs["route"]["required"], ["path", "profile", "sinks"])  # secrets: by profile kind
        self.assertEqual(route["tolerance"]["maximum"], 3650 * 86400)
        self.assertIn("3650d", route["tolerance"]["description"])
        # profile: a name pattern (user profiles), every built-in named in the description
        prof = route["profile"]
        self.assertNotIn("enum", prof)
        rx = re.compile(prof["pattern"])
        builtins = sorted(f[:-5] for f in os.listdir(os.path.join(SCHEMAS, "profiles")) if f.endswith(".json"))
        self.assertEqual(builtins, sorted(BUILT_PROFILES), "a profile was added or removed in schemas/profiles")
        for p in builtins:
            self.assertTrue(rx.match(p), p)
            self.assertIn(f'"{p}"', prof["description"], p)
        for p in ("GitHub", "my.profile", "p" * 33, "", "a b"):
            self.assertIsNone(rx.match(p), p)
        self.assertIsNotNone(rx.match("p" * 32))
        # the per-kind rules name the right profiles
        kinds = {tuple(c["if"]["properties"]["profile"]["enum"]): c["then"] for c in defs["route"]["allOf"]}
        self.assertEqual(kinds[UNSIGNED_PROFILES]["properties"]["secrets"], False)
        self.assertEqual(kinds[TOKEN_PROFILES]["properties"]["token"], False)
        self.assertEqual(kinds[VERIFY_TOKEN_PROFILES]["required"], ["verify_token"])
        self.assertEqual(kinds[tuple(p for p in BUILT_PROFILES if p not in VERIFY_TOKEN_PROFILES)]
                         ["properties"]["verify_token"], False)
        self.assertEqual(kinds[tuple(p for p in BUILT_PROFILES if p not in JWT_PROFILES)]
                         ["properties"]["jwt_claims"], False)
        self.assertIn("pubsub-push", ROUTE_CLAIMS)  # Google: pin the push service account
        for p, claims in ROUTE_CLAIMS.items():  # one rule per set of claims, naming exactly its profiles
            names = tuple(q for q, c in ROUTE_CLAIMS.items() if c == claims)
            self.assertEqual(kinds[names]["required"], ["jwt_claims"], p)
            self.assertEqual(kinds[names]["properties"]["jwt_claims"]["required"], list(claims), p)
            self.assertIn(f'"{p}" needs "jwt_claims"', route["profile"]["description"])
        self.assertEqual(set(next(k for k, v in kinds.items() if v.get("required") == ["secrets"])),
                         set(BUILT_PROFILES) - set(UNSIGNED_PROFILES))

    def test_basic_config_validates_and_loads(self):
        self.assert_both_accept(hg.basic_config(self.tmp))

    def test_contract_example(self):
        """The contract's example uses every sink type, all supported now; its
        jetstream sink lacks the "stream" this build requires, so verbatim it
        is refused by both at $.sinks.log.stream, and with a stream added it
        is accepted by both."""
        full = copy.deepcopy(CONTRACT_EXAMPLE)
        self.assertEqual(sorted({s["type"] for s in full["sinks"].values()}), sorted(SINK_TYPES))
        self.assertEqual([json_path(e.absolute_path) + ": " + e.validator for e in self.v.iter_errors(full)],
                         ["$.sinks.log: required"], "the schema must refuse what this build refuses")
        cfg = with_stream(full)
        self.assertEqual(cfg["routes"], full["routes"])
        self.assertEqual(list(cfg["sinks"]), ["stream", "app", "orders", "worker", "orders_api", "log"])
        self.assertEqual(cfg["sinks"]["log"], {**full["sinks"]["log"], "stream": {"name": "HOOKS", "create": True}})
        self.assertEqual(errors(self.v, cfg), [])
        # the same config with real files runs through the loader too
        cert, key = hg.make_cert(self.tmp)
        env = {"IEX_SECRET": "iex-secret", "HUBEX_TOKEN": "hubex-token"}
        for c in (cfg, full):
            c["listen"][0]["tls"] = {"cert": cert, "key": key}
            c["data_dir"] = os.path.join(self.tmp, "data")
            c["routes"][0]["secrets"][1] = "file:" + self.secret_file
            c["routes"][2]["secrets"][0] = "file:" + self.secret_file
        self.assert_both_accept(cfg, env=env)
        p = self.check(cfg, env=env)
        self.assertIn("route: POST /hooks/gh name=gh profile=github secrets=1 tolerance=300s allow=1 sinks=stream",
                      p.stdout)
        self.assertIn("route: POST /hooks/hubex name=hubex profile=hubex secrets=1", p.stdout)
        self.assertNotIn("hubex-token", p.stdout + p.stderr)
        self.assertIn("sink: orders_api type=http url=http://127.0.0.1:9000/hooks format=structured concurrency=8 "
                      "timeout=10000ms types=*", p.stdout.splitlines())
        self.assertIn("sink: log type=jetstream servers=nats://127.0.0.1:4222 subject=hooks.{route}.{type} "
                      "stream=HOOKS create=yes replicas=1 window=256 types=*", p.stdout.splitlines())
        p = self.check(full, env=env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.sinks.log.stream: is required", p.stderr)
        self.assertNotIn("not supported", p.stderr)

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

    def test_unknown_sink_types_refused(self):
        """A sink type no build has (or a known one misspelt), added alone to a
        good config, is refused by both at its "type" as an unknown sink type,
        never as "not supported by this build yet"; every type of the
        contract's example is one this build has."""
        self.assertEqual({s["type"] for s in CONTRACT_EXAMPLE["sinks"].values()} - set(SINK_TYPES), set())
        for typ in UNKNOWN_SINK_TYPES:
            with self.subTest(typ):
                cfg = hg.basic_config(self.tmp)
                cfg["sinks"]["app"] = {"type": typ, "servers": ["nats://127.0.0.1:4222"], "subject": "hooks.x",
                                       "stream": {"name": "HOOKS"}}
                self.assertIn("$.sinks.app.type", [json_path(e.absolute_path) for e in self.v.iter_errors(cfg)])
                p = self.check(cfg)
                self.assertEqual(p.returncode, 1)
                self.assertIn(f"$.sinks.app.type: unknown sink type \"{typ}\"", p.stderr)
                self.assertNotIn("not supported", p.stderr)
        cfg = hg.basic_config(self.tmp)
        cfg["sinks"]["app"] = {"type": 7}
        self.assertNotEqual(errors(self.v, cfg), [])
        p = self.check(cfg)
        self.assertEqual(p.returncode, 1)
        self.assertIn("$.sinks.app.type: is required: \"stdout\", \"exec\", \"unix\", \"pipe\", \"http\" or "
                      "\"jetstream\"", p.stderr)

    def test_contract_route_features_one_at_a_time(self):
        """Each route feature of the contract that earlier builds refused (the
        profiles, allow, token, allow_unsigned), added alone to a good config,
        is accepted by both; `check` shows it on the route's line."""
        ex = CONTRACT_EXAMPLE
        cases = [(f"profile {p}", lambda c, p=p: route0(c).update(profile=p, **signed_route_keys(p)),
                  f"profile={p} secrets=1")
                 for p in BUILT_PROFILES if p not in UNSIGNED_PROFILES]
        cases += [(f"profile {p}", lambda c, p=p: unsigned_route(c, p, allow_unsigned=True, token="env:T_SECRET"),
                   f"profile={p} secrets=0 tolerance=300s allow=0 token=yes unsigned=yes")
                  for p in UNSIGNED_PROFILES]
        cases += [("allow", lambda c: route0(c).update(allow=ex["routes"][2]["allow"]), "allow=1 sinks=out"),
                  ("token", lambda c: route0(c).update(token="env:T_SECRET"), "allow=0 token=yes sinks=out"),
                  ("type", lambda c: route0(c).update(type="order.created"), "type=order.created"),
                  ("allow_unsigned false", lambda c: route0(c).update(allow_unsigned=False), "allow=0 sinks=out")]
        for name, mutate, shown in cases:
            with self.subTest(name):
                cfg = hg.basic_config(self.tmp)
                mutate(cfg)
                self.assertEqual(errors(self.v, cfg), [])
                p = self.check(cfg)
                self.assertEqual(p.returncode, 0, p.stderr)
                line = next(l for l in p.stdout.splitlines() if l.startswith("route: POST /hooks/generic "))
                self.assertIn(shown, line)
                self.assertNotIn("generic-secret", p.stdout)  # the token's value is never shown

    def test_allow_pattern_agrees_with_inet_pton(self):
        """The schema's pattern for an "allow" entry accepts exactly what the
        C library's inet_pton (the loader's parser) accepts, plus a prefix
        length in range; and the loader agrees on a sample."""
        import socket
        rx = re.compile(self.schema["$defs"]["route"]["properties"]["allow"]["items"]["pattern"])

        def pton(addr):
            for fam, bits in ((socket.AF_INET, 32), (socket.AF_INET6, 128)):
                try:
                    socket.inet_pton(fam, addr)
                    return bits
                except OSError:
                    pass
            return 0

        def expected(s):
            addr, slash, pfx = s.partition("/")
            bits = pton(addr)
            if not bits or not slash:
                return bool(bits) and not slash
            return re.fullmatch(r"0|[1-9][0-9]{0,2}", pfx) is not None and int(pfx) <= bits

        addrs = ["0.0.0.0", "10.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04",
                 "a.b.c.d", "::", "::1", "1::", "fe80::", "2001:db8::", "2001:db8:0:0:0:0:0:0", "1:2:3:4:5:6:7:8",
                 "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::2::3", ":1::", "1:::2", "12345::",
                 "g::1", "::ffff:10.0.0.0", "::10.0.0.1", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
                 "::ffff:256.0.0.0", "fe80::1%lo", "[::1]", "", " ::1", "::1 ", "FE80::A", "localhost"]
        samples = [a + p for a in addrs for p in ("", "/0", "/8", "/32", "/33", "/64", "/128", "/129", "/", "/08",
                                                   "/x", "/-1")]
        self.assertEqual([s for s in samples if bool(rx.match(s)) != expected(s)], [])
        # the loader on a sample (host bits are its own check: use prefixes it cannot trip on)
        good = [s for s in addrs if pton(s)]
        self.assertGreater(len(good), 15)
        cfg = hg.basic_config(self.tmp)
        route0(cfg).update(allow=good + [g + ("/0" if ":" in g else "/32") for g in good if ":" not in g] + ["::/0"])
        self.assert_both_accept(cfg)
        for bad in ("256.1.1.1", "1:2:3:4:5:6:7:8:9", "1::2::3", "fe80::1%lo", "[::1]", "10.0.0.0/33", "::/129",
                    "10.0.0.0/x", "10.0.0.0/-1"):
            with self.subTest(bad):
                cfg = hg.basic_config(self.tmp)
                route0(cfg).update(allow=[bad])
                self.assertNotEqual(errors(self.v, cfg), [])
                p = self.check(cfg)
                self.assertEqual(p.returncode, 1)
                self.assertIn("$.routes[0].allow[0]: must be an IPv4 or IPv6 address or CIDR", p.stderr)

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

    def test_operations_features_one_at_a_time(self):
        """Each operations feature (mutual TLS, the admin listener, the
        per-address limits, user, shutdown_timeout), added alone to a good
        config, is accepted by both; `check` shows the listener ones on the
        listener's line."""
        cert, key = hg.make_cert(self.tmp)
        cases = [
            ("tls client_ca", lambda c: c["listen"][0].update(tls={"cert": cert, "key": key, "client_ca": cert}),
             "listen: 127.0.0.1:0 https client-cert-required"),
            ("admin listener", lambda c: c["listen"].append({"address": "127.0.0.1:0", "admin": True}),
             "listen: 127.0.0.1:0 http admin"),
            ("mutual TLS on the admin listener", lambda c: c["listen"].append(
                {"address": "127.0.0.1:0", "admin": True, "tls": {"cert": cert, "key": key, "client_ca": cert}}),
             "listen: 127.0.0.1:0 https client-cert-required admin"),
            ("max_connections_per_ip", lambda c: c.update(limits={"max_connections_per_ip": 20}), "config ok"),
            ("rate_per_ip and rate_burst", lambda c: c.update(limits={"rate_per_ip": 2.5, "rate_burst": 10}),
             "config ok"),
            ("max_header_size", lambda c: c.update(limits={"max_header_size": "64KiB"}), "config ok"),
            ("user", lambda c: c.update(user="nobody"), "config ok"),
            ("shutdown_timeout", lambda c: c.update(shutdown_timeout="30s"), "config ok"),
        ]
        for name, mutate, shown in cases:
            with self.subTest(name):
                cfg = hg.basic_config(self.tmp)
                mutate(cfg)
                self.assert_both_accept(cfg)
                p = self.check(cfg)
                self.assertIn(shown, p.stdout.splitlines())
        # without them, check shows a plain listener
        p = self.check(hg.basic_config(self.tmp))
        self.assertIn("listen: 127.0.0.1:0 http", p.stdout.splitlines())

    def test_http_sink_keys_one_at_a_time(self):
        """Each key of an http sink, added alone to a minimal one on a route,
        is accepted by both; `check` shows what it changed on the sink's line
        and never a header value or the signing secret."""
        base = "sink: app type=http url=http://127.0.0.1:9/hooks format=structured concurrency=8 timeout=10000ms"
        sign_file = os.path.join(self.tmp, "whsec")
        with open(sign_file, "w") as f:
            f.write(STANDARD_SECRET + "\n")
        os.chmod(sign_file, 0o600)
        sock = os.path.join(self.tmp, "svc.sock")
        cases = [
            ("url only", {}, base + " types=*"),
            ("url https", {"url": "https://example.com:8443/in"},
             "sink: app type=http url=https://example.com:8443/in format=structured concurrency=8 timeout=10000ms types=*"),
            ("timeout", {"timeout": "1500ms"}, base.replace("10000ms", "1500ms") + " types=*"),
            ("timeout in seconds", {"timeout": 3600}, base.replace("10000ms", "3600000ms") + " types=*"),
            ("concurrency", {"concurrency": 3}, base.replace("concurrency=8", "concurrency=3") + " types=*"),
            ("format binary", {"format": "binary"}, base.replace("structured", "binary") + " types=*"),
            ("format structured", {"format": "structured"}, base + " types=*"),
            ("headers", {"headers": {"Authorization": "Bearer HEADER-VALUE-42"}}, base + " types=*"),
            # the edges both must accept: every token special in a name; a
            # tab and non-ASCII (obs-text) in a value
            ("headers, edges", {"headers": {"X!#$%&'*+-.^_`|~9": "a\tb \u00e9"}}, base + " types=*"),
            ("tls", {"tls": {"ca": self.secret_file, "cert": self.secret_file, "key": self.secret_file}},
             base + " types=*"),
            ("unix_socket", {"unix_socket": sock}, base + f" unix_socket={sock} types=*"),
            ("sign, literal", {"sign": {"secret": STANDARD_SECRET}}, base + " signed=yes types=*"),
            ("sign, env:", {"sign": {"secret": "env:HG_SIGN"}}, base + " signed=yes types=*"),
            ("sign, file:", {"sign": {"secret": "file:" + sign_file}}, base + " signed=yes types=*"),
            ("types", {"types": ["order.*", "refund.created"]}, base + " types=order.*,refund.created"),
        ]
        self.assertEqual({k for _, keys, _ in cases for k in keys} | {"url"}, set(HTTP_SINK_KEYS) | {"types"})
        for name, keys, shown in cases:
            with self.subTest(name):
                cfg = hg.basic_config(self.tmp)
                http_sink(route=True, **keys)(cfg)
                env = {"HG_SIGN": STANDARD_SECRET}
                self.assert_both_accept(cfg, env=env)
                p = self.check(cfg, env=env)
                self.assertEqual([l for l in p.stdout.splitlines() if l.startswith("sink: app ")], [shown])
                self.assertIn("route: POST /hooks/generic name=generic profile=generic secrets=1 tolerance=300s "
                              "allow=0 sinks=out,app", p.stdout)
                for secret in (STANDARD_SECRET, STANDARD_SECRET[6:], "HEADER-VALUE-42"):
                    self.assertNotIn(secret, p.stdout + p.stderr)

    def test_jetstream_sink_keys_one_at_a_time(self):
        """Each key of a jetstream sink, added alone to a minimal one on a
        route, is accepted by both; `check` shows what it changed on the sink's
        line (servers, subject, stream name, create, replicas, window, types)
        and nothing else: not the timeout, the duplicate window, the
        credentials file or the TLS files."""
        def line(servers="nats://127.0.0.1:4222", subject="hooks.{route}.{type}", name="HOOKS", create="no",
                 replicas=1, window=256, types="*"):
            return (f"sink: app type=jetstream servers={servers} subject={subject} stream={name} create={create} "
                    f"replicas={replicas} window={window} types={types}")
        creds = os.path.join(self.tmp, "nats.creds")
        with open(creds, "w") as f:
            f.write("-----BEGIN NATS USER JWT-----\neyJ0eXAi\n------END NATS USER JWT------\n")
        os.chmod(creds, 0o600)
        cases = [
            ("the required keys", {}, line()),
            ("two servers", {"servers": ["nats://10.0.0.5:4222", "tls://10.0.0.6:4443"]},
             line(servers="nats://10.0.0.5:4222,tls://10.0.0.6:4443")),
            ("subject", {"subject": "events.{id}"}, line(subject="events.{id}")),
            ("stream name", {"stream": stream(name="ORDERS")}, line(name="ORDERS")),
            ("stream create true", {"stream": stream(create=True)}, line(create="yes")),
            ("stream create false", {"stream": stream(create=False)}, line(create="no")),
            ("stream replicas", {"stream": stream(replicas=3)}, line(replicas=3)),
            ("stream duplicate_window", {"stream": stream(duplicate_window="10m")}, line()),
            ("window", {"window": 32}, line(window=32)),
            ("timeout", {"timeout": "2s"}, line()),
            ("timeout in seconds", {"timeout": 30}, line()),
            ("creds", {"creds": creds}, line()),
            ("creds, file:", {"creds": "file:" + creds}, line()),
            ("tls", {"tls": {"ca": self.secret_file, "cert": self.secret_file, "key": self.secret_file}}, line()),
            ("types", {"types": ["order.*", "refund.created"]}, line(types="order.*,refund.created")),
        ]
        keys = {k for _, ks, _ in cases for k in ks}
        self.assertEqual(keys | {"servers", "subject", "stream"}, set(JETSTREAM_SINK_KEYS) | {"types"})
        self.assertEqual({k for _, ks, _ in cases for k in ks.get("stream", {})}, set(STREAM_KEYS))
        for name, keys, shown in cases:
            with self.subTest(name):
                cfg = hg.basic_config(self.tmp)
                js_sink(route=True, **keys)(cfg)
                self.assert_both_accept(cfg)
                p = self.check(cfg)
                self.assertEqual([l for l in p.stdout.splitlines() if l.startswith("sink: app ")], [shown])
                self.assertIn("route: POST /hooks/generic name=generic profile=generic secrets=1 tolerance=300s "
                              "allow=0 sinks=out,app", p.stdout)
                self.assertNotIn(creds, p.stdout + p.stderr)
                self.assertNotIn(self.secret_file, p.stdout)
                self.assertNotIn("eyJ0eXAi", p.stdout + p.stderr)

    def test_jetstream_files_refused_by_the_loader_only(self):
        """Whether the credentials and TLS files can be read is beyond JSON
        Schema (documented): the schema accepts the config, the loader refuses
        it naming the key, and accepts it once the file is readable."""
        self.assertIn("a jetstream sink's \"creds\" file", self.schema["description"])
        missing = os.path.join(self.tmp, "later.creds")
        for keys, where in (({"creds": missing}, "$.sinks.app.creds: cannot read the credentials file"),
                            ({"creds": "file:" + missing}, "$.sinks.app.creds: cannot read the credentials file"),
                            ({"tls": {"ca": missing}}, f"$.sinks.app.tls.ca: cannot read {missing}"),
                            ({"tls": {"cert": self.secret_file, "key": missing}},
                             f"$.sinks.app.tls.key: cannot read {missing}")):
            with self.subTest(where):
                if os.path.exists(missing):
                    os.unlink(missing)
                cfg = hg.basic_config(self.tmp)
                js_sink(route=True, **keys)(cfg)
                self.assertEqual(errors(self.v, cfg), [])
                p = self.check(cfg)
                self.assertEqual(p.returncode, 1)
                self.assertIn(where, p.stderr)
                self.assertEqual(p.stdout, "")
                with open(missing, "w") as f:
                    f.write("x\n")
                os.chmod(missing, 0o600)
                self.assert_both_accept(cfg)

    def test_http_sign_secret_file_readable_by_others_refused_by_the_loader_only(self):
        path = os.path.join(self.tmp, "whsec")
        with open(path, "w") as f:
            f.write(STANDARD_SECRET)
        cfg = hg.basic_config(self.tmp)
        http_sink(route=True, sign={"secret": "file:" + path})(cfg)
        os.chmod(path, 0o604)
        self.assertEqual(errors(self.v, cfg), [])
        p = self.check(cfg)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"$.sinks.app.sign.secret: secret file {path} is readable by other users; chmod o-r", p.stderr)
        self.assertNotIn(STANDARD_SECRET[6:], p.stdout + p.stderr)
        os.chmod(path, 0o600)
        self.assert_both_accept(cfg)

    def test_world_readable_secret_file_refused_by_the_loader_only(self):
        """The file mode of a file: secret is beyond JSON Schema (documented);
        the loader refuses one other users can read, naming the key."""
        self.assertIn("readable by other users", self.schema["description"])
        for mutate, where in ((lambda c: route0(c).update(secrets=["file:" + self.secret_file]),
                               "$.routes[0].secrets[0]"),
                              (lambda c: route0(c).update(token="file:" + self.secret_file), "$.routes[0].token")):
            cfg = hg.basic_config(self.tmp)
            mutate(cfg)
            os.chmod(self.secret_file, 0o604)
            self.assertEqual(errors(self.v, cfg), [])
            p = self.check(cfg)
            self.assertEqual(p.returncode, 1, where)
            self.assertIn(f"{where}: secret file {self.secret_file} is readable by other users; chmod o-r",
                          p.stderr)
            os.chmod(self.secret_file, 0o640)
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



# Profiles (issue 16): schemas/profile.schema.json and the profile loader
# (`hookgate profiles list --profile-dir DIR`, the loader of serve and check)
# must agree on the keys of the profile language.  A base profile, changed
# one way per case.
def base_profile(**top):
    p = {"name": "acme", "description": "test profile", "signature": {"format": "value", "header": "X-Sig"},
         "id": [{"header": "X-Id"}]}
    p.update(top)
    return {k: v for k, v in p.items() if v is not None}


def sig(**keys):
    """A signature of format value in header X-Sig with keys (None drops one)."""
    s = {"format": "value", "header": "X-Sig", **keys}
    return {k: v for k, v in s.items() if v is not None}


def hs(**keys):
    """One GET handshake on ?c= answering it, with keys (None drops one)."""
    h = {"name": "check", "method": "GET", "when": [{"query": "c"}], "verify": "none",
         "answer": {"status": 200, "text": {"query": "c"}}, **keys}
    return [{k: v for k, v in h.items() if v is not None}]


def answer(**keys):
    return hs(answer={"status": 200, **keys})


HMAC_OF_C = {"hmac": "sha256", "encoding": "base64", "prefix": "sha256=", "of": {"query": "c"}}
JWT_HS = {"algorithms": ["HS256"], "issuer": "Upstash", "subject": "{url}",
          "body_hash": {"claim": "body", "encoding": "base64url"}}
MAILGUN = sig(header=None, from_body="/signature/signature", content="{timestamp}{json:/signature/token}",
              covers_body=False)

# (name, profile) accepted by both
PROFILES_OK = [
    ("the base", base_profile()),
    ("every algorithm and encoding", base_profile(signature=sig(algorithm="ecdsa-p256-sha256", encoding="base64url"))),
    ("several signature headers", base_profile(signature=sig(header=["A-Sig-1", "A-Sig-2", "A-Sig-3", "A-Sig-4"]))),
    ("kv with a separator, a timestamp entry", base_profile(
        signature={"format": "kv", "header": "Paddle-Signature", "separator": ";", "versions": {"h1": "hmac-sha256"},
                   "content": "{timestamp}:{body}"}, timestamp={"from": [{"signature": "ts"}]})),
    ("url, method, form, header and json placeholders", base_profile(
        signature=sig(content="{method}{url}{form}{header:X-A}{json:/a/b}{body_sha256}"))),
    ("signature in the body, covering a token and a timestamp", base_profile(
        signature=MAILGUN, timestamp={"from": [{"pointer": "/signature/timestamp"}], "tolerance": "5m"},
        nonce=[{"pointer": "/signature/token"}])),
    ("a timestamp in a signed body, in ms", base_profile(timestamp={"from": [{"pointer": "/ts"}], "unit": "ms"})),
    ("an rfc3339 timestamp header", base_profile(signature=sig(content="{body}{timestamp}"),
                                                 timestamp={"from": [{"header": "X-Ts"}], "unit": "rfc3339"})),
    ("token with a header and a prefix", base_profile(
        signature={"format": "token", "token_header": ["Authorization"], "token_prefix": "Bearer "})),
    ("token as the header's whole value", base_profile(
        signature={"format": "token", "token_header": "Authorization", "token_prefix": ""})),
    ("token in every item", base_profile(signature={"format": "token", "token_pointer": "/value/*/clientState"},
                                          accept={"status": 202})),
    ("basic", base_profile(signature={"format": "basic"}, accept={"status": 204, "body": "empty"})),
    ("jwt HS256 with a body hash", base_profile(signature={"format": "jwt", "header": "Upstash-Signature",
                                                           "jwt": JWT_HS})),
    ("jwt RS256/ES256 without a body hash", base_profile(signature={
        "format": "jwt", "header": "Authorization", "prefix": "Bearer ", "covers_body": False,
        "jwt": {"algorithms": ["RS256", "ES256"], "issuer": ["a", "b", "c", "d"], "audience": "{url}",
                "leeway": "5m"}})),
    ("jwt with route_claims, 1 and 4 names", base_profile(signature={
        "format": "jwt", "header": "Authorization", "prefix": "Bearer ", "covers_body": False,
        "jwt": {"algorithms": ["RS256"], "issuer": "https://accounts.google.com", "audience": "{url}",
                "route_claims": ["email"]}})),
    ("jwt HS256 with 4 route_claims", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, route_claims=["email", "email_verified", "azp", "c" * 64])})),
    ("a HEAD handshake without conditions", base_profile(handshakes=hs(method="HEAD", when=None,
                                                                       answer={"status": 200}))),
    ("a signed POST handshake answering JSON", base_profile(handshakes=hs(
        method="POST", when=[{"pointer": "/type", "equals": "url_verification"}], verify="signature",
        answer={"status": 200, "json": {"challenge": {"pointer": "/challenge"}}}))),
    ("a POST handshake on an integer", base_profile(handshakes=hs(
        method="POST", when=[{"pointer": "/type", "equals": 0}], verify="signature", answer={"status": 204}))),
    ("a verify_token handshake", base_profile(handshakes=hs(
        when=[{"query": "hub.mode", "equals": "subscribe"}, {"query": "hub.challenge"}], verify="verify_token",
        verify_token_query="hub.verify_token", answer={"status": 200, "text": {"query": "hub.challenge"}}))),
    # ({body} alone with JSON bodies: a token-like value is never such a body, so the HMAC
    # answer cannot sign an event)
    ("an HMAC answer, headers, a literal", base_profile(body="json", handshakes=answer(
        content_type="application/json", headers={"X-Content-Type-Options": "nosniff"},
        json={"response_token": HMAC_OF_C, "ok": {"literal": ""}, "h": {"header": "X-Okta-Verification-Challenge"}}))),
    ("four handshakes", base_profile(handshakes=hs() * 4)),
    ("type_when and proof", base_profile(
        type_when=[{"when": [{"header": "X-Type", "equals": "revocation"}], "type": "revocation"}] * 8,
        proof={"kind": "computed", "by": "x" * 200})),
    ("an unsigned profile with a handshake", base_profile(signature=None, unsigned=True, handshakes=hs())),
]

# (name, profile, the JSON path the loader names) refused by both
PROFILES_BAD = [
    ("unknown format", base_profile(signature=sig(format="hmac")), "$.signature.format"),
    ("unknown algorithm", base_profile(signature=sig(algorithm="ecdsa-p384-sha384")), "$.signature.algorithm"),
    ("unknown encoding", base_profile(signature=sig(encoding="base32")), "$.signature.encoding"),
    ("header and from_body", base_profile(signature=sig(from_body="/sig")), "$.signature.from_body"),
    ("neither header nor from_body", base_profile(signature=sig(header=None)), "$.signature.header"),
    ("separator on value", base_profile(signature=sig(separator=";")), "$.signature.separator"),
    ("separator of two characters", base_profile(
        signature={"format": "kv", "header": "S", "versions": {"v1": "hmac-sha256"}, "separator": ";;"}),
     "$.signature.separator"),
    ("unknown placeholder", base_profile(signature=sig(content="{query:x}{body}")), "$.signature.content"),
    ("content without the body", base_profile(signature=sig(content="{url}")), "$.signature.content"),
    ("covers_body false with the body", base_profile(
        signature=sig(content="{timestamp}{body}", covers_body=False), timestamp={"from": [{"header": "X-Ts"}]}),
     "$.signature.covers_body"),
    ("covers_body false without a timestamp", base_profile(signature=sig(content="{url}", covers_body=False)),
     "$.signature.covers_body"),
    ("covers_body on a token", base_profile(signature={"format": "token", "covers_body": False}),
     "$.signature.covers_body"),
    ("an unsigned body timestamp", base_profile(
        signature=sig(content="{json:/token}", covers_body=False), timestamp={"from": [{"pointer": "/ts"}]}),
     "$.timestamp.from"),
    ("a timestamp header not signed", base_profile(timestamp={"from": [{"header": "X-Ts"}]}),
     "$.signature.content"),
    ("unit us", base_profile(timestamp={"from": [{"pointer": "/ts"}], "unit": "us"}), "$.timestamp.unit"),
    ("token_pointer and token_header", base_profile(
        signature={"format": "token", "token_pointer": "/value/*/s", "token_header": "X-T"}),
     "$.signature.token_pointer"),
    ("token_prefix over 32 bytes", base_profile(signature={"format": "token", "token_prefix": "B" * 33}),
     "$.signature.token_prefix"),
    ("covers_body false without a nonce", base_profile(
        signature=MAILGUN, timestamp={"from": [{"pointer": "/signature/timestamp"}]}), "$.nonce"),
    ("covers_body false with a header nonce", base_profile(
        signature=MAILGUN, timestamp={"from": [{"pointer": "/signature/timestamp"}]}, nonce=[{"header": "X-N"}]),
     "$.nonce"),
    ("basic with a header", base_profile(signature={"format": "basic", "header": "Authorization"}),
     "$.signature.header"),
    ("token_header on value", base_profile(signature=sig(token_header="X-T")), "$.signature"),
    ("jwt without jwt", base_profile(signature={"format": "jwt", "header": "A"}), "$.signature.jwt"),
    ("jwt without header", base_profile(signature={"format": "jwt", "jwt": JWT_HS}), "$.signature.header"),
    ("jwt HS256 with RS256", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, algorithms=["HS256", "RS256"])}), "$.signature.jwt.algorithms"),
    ("jwt none", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(JWT_HS, algorithms=["none"])}),
     "$.signature.jwt.algorithms"),
    ("jwt without a body hash", base_profile(signature={"format": "jwt", "header": "A", "jwt": {
        "algorithms": ["HS256"]}}), "$.signature.jwt.body_hash"),
    ("jwt body hash in base64", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, body_hash={"claim": "body", "encoding": "base64"})}), "$.signature.jwt.body_hash"),
    ("jwt leeway over 5m", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(JWT_HS, leeway=301)}),
     "$.signature.jwt.leeway"),
    ("jwt with a secret", base_profile(signature={"format": "jwt", "header": "A", "jwt": JWT_HS, "secret": "raw"}),
     "$.signature.secret"),
    ("jwt route_claims empty", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, route_claims=[])}), "$.signature.jwt.route_claims"),
    ("jwt route_claims of 5", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, route_claims=["a", "b", "c", "d", "e"])}), "$.signature.jwt.route_claims"),
    ("jwt route_claims a string", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, route_claims="email")}), "$.signature.jwt.route_claims"),
    ("jwt route_claims an empty name", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, route_claims=["email", ""])}), "$.signature.jwt.route_claims"),
    ("jwt route_claims a name of 65 bytes", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, route_claims=["c" * 65])}), "$.signature.jwt.route_claims"),
    ("jwt route_claims a number", base_profile(signature={"format": "jwt", "header": "A", "jwt": dict(
        JWT_HS, route_claims=[1])}), "$.signature.jwt.route_claims"),
    ("jwt with a timestamp", base_profile(signature={"format": "jwt", "header": "A", "jwt": JWT_HS},
                                          timestamp={"from": [{"header": "X-Ts"}]}), "$.timestamp"),
    ("five handshakes", base_profile(handshakes=hs() * 5), "$.handshakes"),
    ("handshake name in capitals", base_profile(handshakes=hs(name="Check")), "$.handshakes[0].name"),
    ("handshake method PUT", base_profile(handshakes=hs(method="PUT")), "$.handshakes[0].method"),
    ("GET handshake without conditions", base_profile(handshakes=hs(when=None)), "$.handshakes[0].when"),
    ("GET handshake verified by signature", base_profile(handshakes=hs(verify="signature")),
     "$.handshakes[0].verify"),
    ("signature handshake of an unsigned profile", base_profile(signature=None, unsigned=True, handshakes=hs(
        method="POST", verify="signature")), "$.handshakes[0].verify"),
    ("verify_token without its query", base_profile(handshakes=hs(verify="verify_token")),
     "$.handshakes[0].verify_token_query"),
    ("verify_token_query without verify_token", base_profile(handshakes=hs(verify_token_query="t")),
     "$.handshakes[0].verify_token_query"),
    ("a pointer condition on GET", base_profile(handshakes=hs(when=[{"pointer": "/c"}])), "$.handshakes[0].when"),
    ("a condition with two sources", base_profile(handshakes=hs(when=[{"query": "c", "header": "X-C"}])),
     "$.handshakes[0].when[0]"),
    ("a condition equal to a list", base_profile(handshakes=hs(when=[{"query": "c", "equals": ["x"]}])),
     "$.handshakes[0].when[0].equals"),
    ("answer status 300", base_profile(handshakes=answer(status=300)), "$.handshakes[0].answer.status"),
    ("answer text and json", base_profile(handshakes=answer(text={"query": "c"}, json={"c": {"query": "c"}})),
     "$.handshakes[0].answer"),
    ("answer json empty", base_profile(handshakes=answer(json={})), "$.handshakes[0].answer.json"),
    ("answer header name with a space", base_profile(handshakes=answer(headers={"X A": "1"})),
     "$.handshakes[0].answer.headers.X A"),
    ("answer header value with a line break", base_profile(handshakes=answer(headers={"X-A": "1\r\nX-B: 2"})),
     "$.handshakes[0].answer.headers.X-A"),
    ("answer content type with a line break", base_profile(handshakes=answer(content_type="text/plain\n")),
     "$.handshakes[0].answer.content_type"),
    ("a pointer value on GET", base_profile(handshakes=answer(text={"pointer": "/c"})), "$.handshakes[0].answer"),
    ("an HMAC of a pointer on GET", base_profile(handshakes=answer(text=dict(HMAC_OF_C, of={"pointer": "/c"}))),
     "$.handshakes[0].answer"),
    ("an HMAC without encoding", base_profile(handshakes=answer(text={"hmac": "sha256", "of": {"query": "c"}})),
     "$.handshakes[0].answer.text"),
    ("an HMAC with md5", base_profile(handshakes=answer(text=dict(HMAC_OF_C, hmac="md5"))),
     "$.handshakes[0].answer.text"),
    ("an HMAC without of", base_profile(handshakes=answer(text={"hmac": "sha256", "encoding": "hex"})),
     "$.handshakes[0].answer.text.of"),
    ("an HMAC of an HMAC", base_profile(handshakes=answer(text=dict(HMAC_OF_C, of=HMAC_OF_C))),
     "$.handshakes[0].answer.text.of.of"),
    ("an HMAC answer of an unsigned profile", base_profile(signature=None, unsigned=True, handshakes=answer(
        text=HMAC_OF_C)), "$.handshakes[0].answer"),
    ("a prefix without an HMAC", base_profile(handshakes=answer(text={"query": "c", "prefix": "x"})),
     "$.handshakes[0].answer.text"),
    ("a value with two sources", base_profile(handshakes=answer(text={"query": "c", "literal": "x"})),
     "$.handshakes[0].answer.text"),
    ("type_when without type", base_profile(type_when=[{"when": [{"query": "c"}]}]), "$.type_when[0].type"),
    ("type_when without conditions", base_profile(type_when=[{"when": [], "type": "t"}]), "$.type_when[0].when"),
    ("accept status 201", base_profile(accept={"status": 201}), "$.accept.status"),
    ("accept body none", base_profile(accept={"body": "none"}), "$.accept.body"),
    ("proof of an unknown kind", base_profile(proof={"kind": "oracle", "by": "x"}), "$.proof"),
    ("proof without by", base_profile(proof={"kind": "sdk"}), "$.proof"),
    ("proof by over 200 bytes", base_profile(proof={"kind": "sdk", "by": "x" * 201}), "$.proof"),
    ("empty description", base_profile(description=""), "$.description"),
]


@unittest.skipIf(Draft202012Validator is None, "the jsonschema package is not installed for this interpreter")
class ProfileLanguage(hg.GatewayTest):
    """The profile schema and the profile loader agree on the profile
    language's keys (formats, placeholders, JWT, handshakes, type_when,
    accept, proof); the built-in profiles validate."""

    def setUp(self):
        super().setUp()
        self.schema, self.v = load_validator("profile.schema.json")

    def load(self, doc):
        """`hookgate profiles list` with doc as the one file of a directory."""
        d = os.path.join(self.tmp, f"p{len(os.listdir(self.tmp))}")
        os.mkdir(d)
        with open(os.path.join(d, doc["name"] + ".json"), "w") as f:
            json.dump(doc, f)
        return subprocess.run([hg.BIN, "profiles", "list", "--profile-dir", d], capture_output=True, text=True,
                              timeout=30)

    def test_builtin_profiles_validate(self):
        for f in sorted(os.listdir(os.path.join(SCHEMAS, "profiles"))):
            with self.subTest(f):
                with open(os.path.join(SCHEMAS, "profiles", f)) as fh:
                    self.assertEqual(errors(self.v, json.load(fh)), [])

    def test_accepted_by_both(self):
        for name, doc in PROFILES_OK:
            with self.subTest(name):
                self.assertEqual(errors(self.v, doc), [], json.dumps(doc))
                p = self.load(doc)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("acme ", p.stdout)

    def test_refused_by_both(self):
        for name, doc, where in PROFILES_BAD:
            with self.subTest(name):
                self.assertNotEqual(errors(self.v, doc), [], f"schema accepts: {name}")
                p = self.load(doc)
                self.assertEqual(p.returncode, 1, f"loader accepts: {name}")
                self.assertIn(f"acme.json: {where}: ", p.stderr)
                self.assertEqual(p.stdout, "")

if __name__ == "__main__":
    hg.main()
