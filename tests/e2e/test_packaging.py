"""docker/: the Dockerfile, its config, compose.yml and the systemd unit.

There is no Docker engine on the development machines, so nothing here builds
an image. Instead the files are parsed and checked against the repository and
the real binary: the build stage is replayed from exactly the files it COPYs,
`cmake --install` is run for real, the config goes through `hookgate check`
and `hookgate serve`, the HEALTHCHECK command runs against that server, and
the compose consumer's command line is run against a gateway using the sink
from docker/hookgate.json."""
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys

import hg

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
DOCKER = os.path.join(ROOT, "docker")
DOCKERFILE = os.path.join(DOCKER, "Dockerfile")
CONFIG = os.path.join(DOCKER, "hookgate.json")
COMPOSE = os.path.join(DOCKER, "compose.yml")
UNIT = os.path.join(DOCKER, "hookgate.service")
BUILD_DIR = os.path.dirname(hg.BIN)
# what `cmake --install` uses without --prefix (a fresh configure, as in the image)
DEFAULT_PREFIX = "/usr/local"


# ---------------------------------------------------------------- parsers

def parse_dockerfile(path):
    """[{"name", "base", "instrs": [(INSTR, args-string)]}] per stage.
    Continuation lines are joined; comment lines (also inside a continued
    instruction) are dropped, as Docker does."""
    with open(path) as f:
        raw = f.read().split("\n")
    instrs, cur = [], None
    for line in raw:
        s = line.strip()
        if s.startswith("#") or (not s and cur is None):
            continue
        cur = (cur + " " if cur is not None else "") + (s[:-1].rstrip() if s.endswith("\\") else s)
        if not s.endswith("\\"):
            word, _, rest = cur.strip().partition(" ")
            instrs.append((word.upper(), rest.strip()))
            cur = None
    stages = []
    for ins, args in instrs:
        if ins == "FROM":
            t = args.split()
            stages.append({"base": t[0], "name": t[2] if len(t) > 2 and t[1].upper() == "AS" else None,
                           "instrs": []})
        elif stages:
            stages[-1]["instrs"].append((ins, args))
    return stages


def exec_form(args):
    """JSON (exec) form as a list, shell form as a one-element list."""
    return json.loads(args) if args.startswith("[") else [args]


def split_flags(args):
    toks = exec_form(args) if args.startswith("[") else shlex.split(args)
    flags = {}
    while toks and toks[0].startswith("--"):
        k, _, v = toks.pop(0)[2:].partition("=")
        flags[k] = v
    return flags, toks


def shell_commands(run_args):
    """The simple commands of a RUN line, split on && ; ||."""
    return [c.strip() for c in re.split(r"&&|\|\||;", run_args) if c.strip()]


def readme_first_command():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"```sh\n(.*?)```", text, re.S)
    line = m.group(1).strip().split("\n")[0]
    return [c.strip() for c in line.split("#")[0].split("&&") if c.strip()]


def yaml_subset(text):
    """A parser for the YAML compose.yml uses (block mappings, block lists of
    scalars, quoted or plain scalars, comments), for when PyYAML is missing.
    Scalars stay strings. Anything else is an error, not a guess."""
    lines = []
    for raw in text.split("\n"):
        s = raw
        if s.lstrip().startswith("#"):
            continue
        s = re.sub(r"\s+#.*$", "", s) if '"' not in s and "'" not in s else s
        if s.strip():
            lines.append((len(s) - len(s.lstrip(" ")), s.strip()))

    def scalar(v):
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            return v[1:-1]
        if v.startswith(("[", "{", "&", "*", "|", ">")):
            raise ValueError("unsupported YAML: " + v)
        return v

    def block(i, indent):
        if lines[i][1].startswith("- "):
            out = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                item = lines[i][1][2:].strip()
                if re.match(r"^[^\"']*:( |$)", item):
                    raise ValueError("unsupported YAML (mapping in a list): " + item)
                out.append(scalar(item))
                i += 1
            return out, i
        out = {}
        while i < len(lines) and lines[i][0] == indent:
            key, sep, rest = lines[i][1].partition(":")
            if not sep or key.startswith("- "):
                raise ValueError("unsupported YAML: " + lines[i][1])
            key, rest = scalar(key.strip()), rest.strip()
            i += 1
            if rest:
                out[key] = scalar(rest)
            elif i < len(lines) and (lines[i][0] > indent or
                                     (lines[i][0] == indent and lines[i][1].startswith("- "))):
                out[key], i = block(i, lines[i][0])
            else:
                out[key] = None
        return out, i

    val, i = block(0, lines[0][0])
    if i != len(lines):
        raise ValueError("unparsed YAML from: " + lines[i][1])
    return val


def load_compose():
    with open(COMPOSE) as f:
        text = f.read()
    try:
        import yaml
    except ImportError:
        return yaml_subset(text)
    return yaml.safe_load(text)


def parse_unit(path):
    """{key: [values]} of the [Service] section (and the others, by section)."""
    out, sec = {}, None
    with open(path) as f:
        for line in f:
            s = line.strip()
            if not s or s.startswith(("#", ";")):
                continue
            if s.startswith("["):
                sec = s.strip("[]")
                continue
            k, _, v = s.partition("=")
            out.setdefault(sec, {}).setdefault(k.strip(), []).append(v.strip())
    return out


# ---------------------------------------------------------------- tests

class Packaging(hg.GatewayTest):
    def setUp(self):
        super().setUp()
        self.stages = parse_dockerfile(DOCKERFILE)
        self.build = self.stages[0]
        self.runtime = self.stages[-1]
        with open(CONFIG) as f:
            self.cfg = json.load(f)

    # helpers
    def instrs(self, stage, name):
        return [a for i, a in stage["instrs"] if i == name]

    def one(self, stage, name):
        v = self.instrs(stage, name)
        self.assertEqual(len(v), 1, f"{name} in stage {stage['name'] or stage['base']}: {v}")
        return v[0]

    def entrypoint(self):
        return exec_form(self.one(self.runtime, "ENTRYPOINT"))

    def config_dest(self):
        """Where the runtime stage puts docker/hookgate.json."""
        dests = [t[-1] for f, t in map(split_flags, self.instrs(self.runtime, "COPY"))
                 if "from" not in f and "docker/hookgate.json" in t[:-1]]
        self.assertEqual(len(dests), 1, "docker/hookgate.json is COPYed once into the runtime stage")
        return dests[0]

    def unix_sink(self):
        sinks = [s for s in self.cfg["sinks"].values() if s["type"] == "unix"]
        self.assertEqual(len(sinks), 1, self.cfg["sinks"])
        return sinks[0]

    def listen_port(self):
        self.assertEqual(len(self.cfg["listen"]), 1)
        return int(self.cfg["listen"][0]["address"].rsplit(":", 1)[1])

    def runtime_uid(self):
        runs = " ".join(self.instrs(self.runtime, "RUN"))
        m = re.search(r"useradd\b[^&;]*?--uid[ =](\d+)", runs)
        self.assertIsNotNone(m, "the runtime stage creates its user with a fixed --uid")
        return int(m.group(1))

    def cmake_install(self, prefix):
        p = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", prefix],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    # --- Dockerfile
    def test_dockerfile_stages_on_debian_12_slim(self):
        self.assertGreaterEqual(len(self.stages), 2, "multi-stage")
        for s in self.stages:
            self.assertEqual(s["base"], "debian:12-slim")
        self.assertTrue(self.build["name"], "the build stage is named, for COPY --from")

    def test_copy_sources_exist_and_carry_no_build_dirs(self):
        checked = 0
        for stage in self.stages:
            for ins in ("COPY", "ADD"):
                for args in self.instrs(stage, ins):
                    flags, toks = split_flags(args)
                    self.assertGreaterEqual(len(toks), 2, args)
                    if "from" in flags:
                        continue
                    for src in toks[:-1]:
                        p = os.path.normpath(os.path.join(ROOT, src))
                        self.assertTrue(p == ROOT or p.startswith(ROOT + os.sep), src)
                        self.assertTrue(os.path.exists(p), f"{ins} {src}: not in the repository")
                        # a host build directory would bring a CMakeCache.txt naming
                        # another source dir, and the configure in the image would fail
                        for dirpath, _, files in os.walk(p):
                            self.assertNotIn("CMakeCache.txt", files, f"{ins} {src} copies {dirpath}")
                        checked += 1
        self.assertGreater(checked, 0)

    def test_run_scripts_exist_and_are_executable(self):
        scripts = []
        for stage in self.stages:
            for args in self.instrs(stage, "RUN"):
                for cmd in shell_commands(args):
                    w = shlex.split(cmd)
                    w = [t for t in w if "=" not in t.split("/")[0]][:1]  # skip VAR=value prefixes
                    if w and w[0].startswith("./"):
                        scripts.append(w[0])
        self.assertTrue(scripts, "the Dockerfile runs the repository's scripts")
        for s in scripts:
            p = os.path.join(ROOT, s)
            self.assertTrue(os.path.isfile(p), s)
            self.assertTrue(os.stat(p).st_mode & stat.S_IXUSR, s + " is not executable")

    def test_build_stage_runs_the_readme_build(self):
        readme = readme_first_command()
        scripts = [c for c in readme if c.split()[0].startswith("./scripts/")]
        self.assertTrue(scripts, readme)
        # the README then runs ./DIR/hookgate: DIR is the build dir to install from
        run_bin = [c.split()[0] for c in readme if c.split()[0].endswith("/hookgate")]
        self.assertEqual(len(run_bin), 1, readme)
        build_dir = os.path.dirname(os.path.normpath(run_bin[0]))
        cmds = [c for a in self.instrs(self.build, "RUN") for c in shell_commands(a)]
        for s in scripts:
            self.assertIn(s, cmds, "the build stage runs the README's " + s)
        self.assertIn("cmake --install " + build_dir, cmds)
        self.assertLess(cmds.index(scripts[-1]), cmds.index("cmake --install " + build_dir))

    def test_build_stage_replayed_from_its_copied_files(self):
        """Copy exactly what the build stage COPYs into an empty tree and run
        its RUN commands there (apt-get and scripts/deps, which only install
        the packages this host already has, are left out; cmake --install
        gets a temp prefix). The binary the runtime stage copies must come out."""
        root = os.path.join(self.tmp, "ctx")
        workdir = "/"
        for ins, args in self.build["instrs"]:
            if ins == "WORKDIR":
                workdir = os.path.join(workdir, args)
                os.makedirs(root + workdir, exist_ok=True)
            elif ins in ("COPY", "ADD"):
                flags, toks = split_flags(args)
                dest = os.path.join(workdir, toks[-1])
                for src in toks[:-1]:
                    sp = os.path.join(ROOT, src)
                    if os.path.isdir(sp):
                        shutil.copytree(sp, root + dest, symlinks=True, dirs_exist_ok=True)
                    else:
                        d = root + dest + (os.path.basename(src) if toks[-1].endswith("/") else "")
                        os.makedirs(os.path.dirname(d), exist_ok=True)
                        shutil.copy2(sp, d)
            elif ins == "RUN":
                for cmd in shell_commands(args):
                    w = shlex.split(cmd)
                    if w[0] in ("apt-get", "rm"):
                        continue
                    if w[0] == "./scripts/setup":
                        deps = root + workdir + "/scripts/deps"
                        self.assertTrue(os.path.exists(deps))
                        with open(deps, "w") as f:
                            f.write("#!/bin/sh\nexit 0\n")
                    if w[:2] == ["cmake", "--install"]:
                        w += ["--prefix", root + DEFAULT_PREFIX]
                    p = subprocess.run(w, cwd=root + workdir, capture_output=True, text=True, timeout=600)
                    self.assertEqual(p.returncode, 0, f"RUN {cmd}:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
        froms = [t for f, t in map(split_flags, self.instrs(self.runtime, "COPY")) if "from" in f]
        self.assertTrue(froms)
        for src in (t[0] for t in froms):
            self.assertTrue(os.path.isfile(root + src), src + " was not produced by the build stage")
        p = subprocess.run([root + self.entrypoint()[0], "version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("hookgate "), p.stdout)

    def test_entrypoint_is_where_cmake_install_puts_the_binary(self):
        prefix = os.path.join(self.tmp, "prefix")
        self.cmake_install(prefix)
        installed = os.path.join(prefix, "bin", "hookgate")
        self.assertTrue(os.path.isfile(installed) and os.access(installed, os.X_OK), installed)
        p = subprocess.run([installed, "version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        ep = self.entrypoint()
        self.assertEqual(ep, [DEFAULT_PREFIX + "/" + os.path.relpath(installed, prefix)])
        froms = [t for f, t in map(split_flags, self.instrs(self.runtime, "COPY")) if f.get("from")]
        self.assertIn([ep[0], ep[0]], froms, "the runtime stage copies the installed binary to the ENTRYPOINT")
        self.assertEqual({f["from"] for f, _ in map(split_flags, self.instrs(self.runtime, "COPY"))
                          if "from" in f}, {self.build["name"]})
        cmd = exec_form(self.one(self.runtime, "CMD"))
        self.assertEqual(cmd, ["serve", "-c", self.config_dest()])

    def test_runtime_stage_user_volume_healthcheck(self):
        user = self.one(self.runtime, "USER").split(":")[0]
        self.assertNotIn(user, ("root", "0", ""))
        self.assertNotEqual(self.runtime_uid(), 0)
        runs = " ".join(self.instrs(self.runtime, "RUN"))
        self.assertRegex(runs, r"useradd\b[^&;]*\b%s\b" % re.escape(user))
        vols = [v for a in self.instrs(self.runtime, "VOLUME") for v in exec_form(a) if v]
        vols = [x for v in vols for x in (v.split() if not v.startswith("[") else [v])]
        self.assertIn(self.cfg["data_dir"], vols)
        # USER comes after everything that needs root
        names = [i for i, _ in self.runtime["instrs"]]
        self.assertGreater(names.index("USER"), max(i for i, n in enumerate(names) if n == "RUN"))
        self.assertIn(str(self.listen_port()), self.one(self.runtime, "EXPOSE").split())
        hc = self.one(self.runtime, "HEALTHCHECK")
        self.assertRegex(hc, r"(^|\s)CMD\s")
        m = re.search(r"https?://([^/\s]+)(/\S*)", hc)
        self.assertIsNotNone(m, hc)
        self.assertEqual(m.group(2), "/healthz")
        self.assertEqual(m.group(1), "127.0.0.1:%d" % self.listen_port())

    def test_runtime_packages_cover_the_binary(self):
        """Each library the binary links directly comes from a package the
        runtime stage installs (or from libc6, which the base image has)."""
        if not shutil.which("dpkg") or not shutil.which("ldd") or not shutil.which("readelf"):
            self.skipTest("needs dpkg, ldd and readelf")
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                            subprocess.run(["readelf", "-d", hg.BIN], capture_output=True, text=True).stdout)
        self.assertTrue(needed)
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            if re.search(r"^HG_SANITIZE:BOOL=ON$", f.read(), re.M):  # scripts/test's ASan build
                needed = [n for n in needed if not re.match(r"lib(a|ub|t|l)san\.so", n)]
        where = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
            ["ldd", hg.BIN], capture_output=True, text=True).stdout, re.M))
        runs = " ".join(self.instrs(self.runtime, "RUN"))
        m = re.search(r"apt-get install ([^&;]*)", runs)
        self.assertIsNotNone(m)
        pkgs = {t for t in m.group(1).split() if not t.startswith(("-", ">"))} | {"libc6"}
        for lib in needed:
            self.assertIn(lib, where, lib)
            p = subprocess.run(["dpkg", "-S", os.path.realpath(where[lib])], capture_output=True, text=True)
            if p.returncode != 0:
                p = subprocess.run(["dpkg", "-S", where[lib]], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, f"{lib}: no package owns {where[lib]}")
            pkg = p.stdout.split(":")[0]
            self.assertIn(pkg, pkgs, f"{lib} comes from {pkg}, which the runtime stage does not install")
        self.assertNotIn("python3", pkgs, "the runtime image needs no Python")

    # --- docker/hookgate.json
    def test_config_passes_hookgate_check(self):
        env = dict(os.environ, HOOKGATE_SECRET="packaging-test-secret")
        p = subprocess.run([hg.BIN, "check", "-c", CONFIG], capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("config ok", p.stdout)
        self.assertIn("listen: 0.0.0.0:%d http" % self.listen_port(), p.stdout)
        self.assertRegex(p.stdout, r"sink: \S+ type=unix path=%s ack=true" % re.escape(self.unix_sink()["path"]))
        self.assertIn("type=stdout", p.stdout)
        self.assertNotIn("packaging-test-secret", p.stdout + p.stderr)
        env.pop("HOOKGATE_SECRET")
        p = subprocess.run([hg.BIN, "check", "-c", CONFIG], capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 1, "the secret must come from $HOOKGATE_SECRET")
        self.assertIn("HOOKGATE_SECRET", p.stderr)

    def serve_docker_config(self, sock=None):
        cfg = json.loads(json.dumps(self.cfg))
        cfg["listen"][0]["address"] = "127.0.0.1:0"
        cfg["data_dir"] = os.path.join(self.tmp, "data")
        if sock:
            for s in cfg["sinks"].values():
                if s["type"] == "unix":
                    s["path"] = sock
        return self.gateway(cfg, env={"HOOKGATE_SECRET": "packaging-test-secret"})

    def test_healthcheck_command_against_real_serve(self):
        g = self.serve_docker_config()  # nothing listens on the unix sink: it retries, fine
        hc = self.one(self.runtime, "HEALTHCHECK")
        cmd = re.split(r"(?:^|\s)CMD\s+", hc, maxsplit=1)[1]
        local = cmd.replace("127.0.0.1:%d" % self.listen_port(), "127.0.0.1:%d" % g.ports[0])
        self.assertNotEqual(local, cmd)
        p = subprocess.run(["sh", "-c", local], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(json.loads(p.stdout), {"status": "ok"})
        # the route of the config takes a signed event and the stdout sink prints it
        route = self.cfg["routes"][0]["path"]
        r = self.post_generic(g, b'{"event_id":"pkg-1","event":"order.created"}',
                              secret="packaging-test-secret", path=route)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([e["id"] for e in g.wait_events(1)], ["pkg-1"])
        g.stop()
        p = subprocess.run(["sh", "-c", local], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0, "the HEALTHCHECK fails when hookgate is down")

    # --- docker/compose.yml
    def test_yaml_subset_parser_agrees_with_pyyaml(self):
        """The fallback parser (used when python3-yaml is missing) reads
        compose.yml as PyYAML does."""
        try:
            import yaml
        except ImportError:
            self.skipTest("python3-yaml is not installed")
        with open(COMPOSE) as f:
            text = f.read()

        def norm(v):
            if isinstance(v, dict):
                return {str(k): norm(x) for k, x in v.items()}
            if isinstance(v, list):
                return [norm(x) for x in v]
            if isinstance(v, bool):
                return "true" if v else "false"
            return None if v is None else str(v)
        self.maxDiff = None
        self.assertEqual(yaml_subset(text), norm(yaml.safe_load(text)))

    def compose_paths(self, svc):
        """{container target: (source, read_only)} of a service's volumes."""
        out = {}
        for v in svc.get("volumes") or []:
            parts = v.split(":")
            out[parts[1]] = (parts[0], len(parts) > 2 and "ro" in parts[2].split(","))
        return out

    def test_compose_services_files_and_volumes(self):
        c = load_compose()
        svcs = c["services"]
        hgs, con = svcs["hookgate"], svcs["consumer"]
        ctx = os.path.normpath(os.path.join(DOCKER, hgs["build"]["context"]))
        self.assertEqual(ctx, ROOT, "the build context is the repository root")
        self.assertEqual(os.path.normpath(os.path.join(ctx, hgs["build"]["dockerfile"])), DOCKERFILE)
        self.assertIn("consumer", hgs["depends_on"])
        self.assertRegex(str(hgs["environment"]["HOOKGATE_SECRET"]), r"^\$\{HOOKGATE_SECRET(:?[?-][^}]*)?\}$")
        self.assertIn("%d:%d" % (self.listen_port(), self.listen_port()), [str(p) for p in hgs["ports"]])
        named = set(c.get("volumes") or {})
        hv = self.compose_paths(hgs)
        self.assertIn(self.cfg["data_dir"], hv)
        self.assertIn(hv[self.cfg["data_dir"]][0], named, "the data dir is a named volume")
        # the consumer script comes from the repository, read-only
        cv = self.compose_paths(con)
        cmd = con["command"]
        self.assertIsInstance(cmd, list)
        script = [a for a in cmd if a.endswith("unix-consumer.py")]
        self.assertEqual(len(script), 1, cmd)
        mounts = [t for t in cv if script[0].startswith(t.rstrip("/") + "/")]
        self.assertEqual(len(mounts), 1, cv)
        src, ro = cv[mounts[0]]
        self.assertTrue(ro, "handlers/ is mounted read-only")
        host = os.path.normpath(os.path.join(DOCKER, src, os.path.relpath(script[0], mounts[0])))
        self.assertEqual(host, os.path.join(ROOT, "handlers", "unix-consumer.py"))
        self.assertTrue(os.path.isfile(host))

    def test_compose_consumer_socket_is_the_sink_path(self):
        c = load_compose()
        hgs, con = c["services"]["hookgate"], c["services"]["consumer"]
        cmd = con["command"]
        i = next(n for n, a in enumerate(cmd) if a.endswith("unix-consumer.py"))
        args = [a for a in cmd[i + 1:] if a != "--ack"]  # as the script reads them
        self.assertEqual(len(args), 2, cmd)
        sink = self.unix_sink()
        self.assertEqual(args[0], sink["path"])
        self.assertEqual("--ack" in cmd, bool(sink.get("ack")))
        # the socket's directory is one volume shared by both containers
        sock_dir = os.path.dirname(sink["path"])
        hv, cv = self.compose_paths(hgs), self.compose_paths(con)
        self.assertIn(sock_dir, hv)
        self.assertIn(sock_dir, cv)
        self.assertEqual(hv[sock_dir][0], cv[sock_dir][0])
        self.assertIn(hv[sock_dir][0], set(c["volumes"]))
        # the consumer's output is on a named volume (it fsyncs before acking)
        out_dir = os.path.dirname(args[1])
        self.assertIn(out_dir, cv)
        self.assertIn(cv[out_dir][0], set(c["volumes"]))
        # the socket is created 0600: the consumer runs as hookgate's uid
        self.assertEqual(int(str(con["user"]).split(":")[0]), self.runtime_uid())
        # ...so every volume it writes to is handed to that uid first
        deps = con.get("depends_on") or {}
        inits = [c["services"][n] for n, d in deps.items() if (d or {}).get("condition") ==
                 "service_completed_successfully"] if isinstance(deps, dict) else []
        for target in (sock_dir, out_dir):
            ok = [s for s in inits if s["command"][:2] == ["chown", str(con["user"])]
                  and target in s["command"] and self.compose_paths(s).get(target, ("",))[0] == cv[target][0]]
            self.assertTrue(ok, f"nothing chowns {target} to {con['user']} before the consumer starts")

    def test_compose_consumer_command_gets_acked_events(self):
        """The consumer, run with the compose command line (paths moved into
        the temp dir), takes and acks what the docker config's unix sink sends."""
        con = load_compose()["services"]["consumer"]
        cmd = con["command"]
        i = next(n for n, a in enumerate(cmd) if a.endswith("unix-consumer.py"))
        sock, out = os.path.join(self.tmp, "events.sock"), os.path.join(self.tmp, "events.ndjson")
        args = [{self.unix_sink()["path"]: sock}.get(a, a) for a in cmd[i + 1:]]
        args = [out if a.endswith(".ndjson") else a for a in args]
        consumer = subprocess.Popen([sys.executable, os.path.join(ROOT, "handlers", "unix-consumer.py")] + args)
        try:
            self.assertTrue(hg.wait_for(lambda: os.path.exists(sock)))
            g = self.serve_docker_config(sock)
            for n in range(3):
                r = self.post_generic(g, b'{"event_id":"c-%d","event":"x"}' % n,
                                      secret="packaging-test-secret", path=self.cfg["routes"][0]["path"])
                self.assertEqual(r.status, 200, r.body)
            got = hg.wait_for(lambda: hg.read(out).count("\n") >= 3 and hg.read(out))
            self.assertEqual([json.loads(l)["id"] for l in got.split("\n")[:-1]], ["c-0", "c-1", "c-2"])
            g.stop()
            # acked: a restarted gateway sends nothing again
            os.unlink(out)
            g = self.serve_docker_config(sock)
            self.assertFalse(hg.wait_for(lambda: os.path.exists(out), timeout=1.5))
        finally:
            consumer.kill()
            consumer.wait()

    # --- docker/hookgate.service
    def test_compose_scale_example(self):
        """docker/compose.scale.yml (docs/scaling.md): the files it mounts
        exist, its config passes `hookgate check`, and the config's NATS
        servers are the compose file's three cluster nodes, with an R3 stream."""
        d = os.path.join(ROOT, "docker")
        with open(os.path.join(d, "compose.scale.yml")) as f:
            text = f.read()
        for ref in re.findall(r"\./([\w.-]+):/", text):
            self.assertTrue(os.path.exists(os.path.join(d, ref)), ref)
        self.assertIn("dockerfile: docker/Dockerfile", text)
        nodes = re.findall(r"^  (nats\d):$", text, re.M)
        self.assertEqual(nodes, ["nats1", "nats2", "nats3"])
        self.assertEqual(len(re.findall(r"^  (hookgate\d):$", text, re.M)), 2)
        cfg_path = os.path.join(d, "hookgate-scale.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        sink = cfg["sinks"]["stream"]
        self.assertEqual(sink["servers"], [f"nats://{n}:4222" for n in nodes])
        self.assertEqual(sink["stream"]["replicas"], 3)
        p = subprocess.run([hg.BIN, "check", "-c", cfg_path], capture_output=True, text=True,
                           env=dict(os.environ, HOOKGATE_SECRET="check-only"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("type=jetstream", p.stdout)
        with open(os.path.join(d, "scale-nginx.conf")) as f:
            conf = f.read()
        self.assertIn("server hookgate1:8080", conf)
        self.assertIn("server hookgate2:8080", conf)
        with open(os.path.join(ROOT, "docs", "scaling.md")) as f:
            self.assertIn("compose.scale.yml", f.read())

    def test_systemd_unit_matches_image_and_config(self):
        u = parse_unit(UNIT)
        svc = u["Service"]
        start = shlex.split(svc["ExecStart"][0])
        self.assertEqual(start[0], self.entrypoint()[0])
        self.assertEqual(start[1:], ["serve", "-c", self.config_dest()])
        self.assertEqual(svc["User"], [self.one(self.runtime, "USER").split(":")[0]])
        self.assertEqual(svc["Group"], svc["User"])
        rw = [p for v in svc["ReadWritePaths"] for p in v.split()]
        self.assertIn(self.cfg["data_dir"], rw)
        self.assertEqual(["/var/lib/" + d for d in svc["StateDirectory"]], [self.cfg["data_dir"]])
        want = {
            "Type": "simple", "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
            "KillSignal": "SIGTERM", "TimeoutStopSec": "30", "NoNewPrivileges": "yes",
            "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
            "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "LockPersonality": "yes",
            "MemoryDenyWriteExecute": "yes", "RestrictRealtime": "yes", "RestrictSUIDSGID": "yes",
            "SystemCallArchitectures": "native", "UMask": "0077", "LimitNOFILE": "65536",
            "EnvironmentFile": "-/etc/hookgate/env",
        }
        for k, v in want.items():
            self.assertEqual(svc.get(k), [v], k)
        ports = [int(l["address"].rsplit(":", 1)[1]) for l in self.cfg["listen"]]
        if min(ports) < 1024:
            self.assertIn("CAP_NET_BIND_SERVICE", " ".join(svc.get("AmbientCapabilities", [])))
        else:
            self.assertEqual(svc["CapabilityBoundingSet"], [""])
            self.assertNotIn("AmbientCapabilities", svc)

    def test_systemd_analyze_verify(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        # verify wants the binaries to exist: point the unit at a real `cmake --install`
        prefix = os.path.join(self.tmp, "prefix")
        self.cmake_install(prefix)
        with open(UNIT) as f:
            text = f.read()
        self.assertIn(DEFAULT_PREFIX + "/bin/hookgate", text)
        path = os.path.join(self.tmp, "hookgate.service")
        with open(path, "w") as f:
            f.write(text.replace(DEFAULT_PREFIX + "/bin/hookgate", prefix + "/bin/hookgate"))
        p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # unknown keys and bad values are only warnings: none may appear
        self.assertEqual(p.stderr.strip(), "", p.stderr)


if __name__ == "__main__":
    hg.main()
