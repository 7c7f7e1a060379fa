"""The operator's console in a real browser (issue 18, docs/console.md).

One gateway with a public listener (route `orders`, generic profile, stdout sink
`out`) and an admin listener with `admin.token`; tests/browser/console.mjs drives
its page /ui/ in headless Chromium (playwright-core, pinned in tests/browser):
sign in, see an event sent now appear in the live tail, open it, replay it to its
sink, find a request with a wrong signature among the rejected ones, look at the
sinks, routes and charts, send a test event, sign out, and no console error or
CSP violation on the way.  This file then checks the sink's side of it: the
replayed event reached stdout a second time, the test event once; every page's
screenshot is a PNG, and no page holds the admin token.

Chromium (/usr/bin/chromium, or $HG_CHROMIUM), Node.js 18+ and
tests/browser/node_modules are installed by scripts/deps --test and scripts/test;
without them the test FAILS and says what to run.  $HG_NODE names another node
binary; $HG_UI_ARTIFACTS names the directory for the screenshots and page HTML (else
console-screenshots/ beside the binary: build/console-screenshots after
scripts/test).  With $HG_LEAK_DIR, each page's HTML is
recorded for tests/leaks/sweep.py like every answer hg.curl() gets.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hg  # noqa: E402

BROWSER = os.path.join(hg.ROOT, "tests", "browser")
SCRIPT = os.path.join(BROWSER, "console.mjs")
RUNTIME = os.path.join(hg.ROOT, "tests", "sdk", "runtime", "node_modules")
CHROMIUM = os.environ.get("HG_CHROMIUM", "/usr/bin/chromium")
HOW = ("run scripts/deps --test (as root: it installs chromium and Node.js), then `npm ci --no-audit --no-fund` "
       "in tests/browser (scripts/test does both)")
PAGES = ("signin", "events", "event", "rejected", "sinks", "send")
PNG = b"\x89PNG\r\n\x1a\n"
TOKEN = "console-admin-" + os.urandom(12).hex()
SECRET = hg.ENV["T_SECRET"]


def node_version_ok(v):
    m = re.match(r"v?(\d+)\.", v or "")
    return bool(m) and int(m.group(1)) >= 18  # playwright-core 1.61's engines: node >= 18


def find_node():
    """(node binary, None) or (None, why not): $HG_NODE, else node on PATH (18+),
    else the pinned runtime of tests/sdk/runtime where scripts/test installed it."""
    if os.environ.get("HG_NODE"):
        n = os.environ["HG_NODE"]
        return (n, None) if os.access(n, os.X_OK) else (None, f"HG_NODE={n} is not an executable")
    n = shutil.which("node")
    if n:
        v = subprocess.run([n, "-v"], capture_output=True, text=True).stdout.strip()
        if node_version_ok(v):
            return n, None
    for r in sorted(glob.glob(os.path.join(RUNTIME, "node-linux-*", "bin", "node"))):
        if os.access(r, os.X_OK):
            return r, None
    return None, ("node (Node.js 18 or later) is not installed: " if not n else f"{n} is older than Node.js 18: ") + HOW


def missing():
    """Why the browser test cannot run, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (Debian package chromium): " + HOW
    installed = os.path.join(BROWSER, "node_modules", ".package-lock.json")
    if not os.path.exists(os.path.join(BROWSER, "node_modules", "playwright-core", "package.json")):
        return "tests/browser/node_modules is missing: " + HOW
    if os.path.exists(installed) and \
            os.path.getmtime(os.path.join(BROWSER, "package-lock.json")) > os.path.getmtime(installed):
        return "tests/browser/package-lock.json is newer than tests/browser/node_modules: " + HOW
    return None


def script(path, text):
    with open(path, "w") as f:
        f.write("#!/bin/sh\nset -eu\n" + text)
    os.chmod(path, 0o755)
    return path


class ConsoleBrowser(hg.GatewayTest):
    maxDiff = 2000

    def test_console_in_chromium(self):
        why = missing()
        node, nwhy = find_node()
        if why or nwhy:
            self.fail(why or nwhy)
        cfg = hg.basic_config(
            self.tmp,
            listen=[{"address": "127.0.0.1:0"}, {"address": "127.0.0.1:0", "admin": True}],
            routes=[{"name": "orders", "path": "/hooks/orders", "profile": "generic", "secrets": ["env:T_SECRET"],
                     "sinks": ["out"], "keep_rejected_bodies": True}],
            admin={"token": "env:HG_CONSOLE_TOKEN"})
        g = self.gateway(cfg, env={"HG_CONSOLE_TOKEN": TOKEN})
        hg.leak_needle(TOKEN, "secret", "console admin token")
        public, admin = self.ports(g)
        hook = f"http://127.0.0.1:{public}/hooks/orders"

        # HG_SEND: one signed event per run (ids evt_console_1, _2, ...), its seq on stdout;
        # each body is kept so that its signature becomes a needle of the leak sweep below
        sent = os.path.join(self.tmp, "sent")
        os.makedirs(sent)
        send = script(os.path.join(self.tmp, "send.sh"), f"""
dir={shlex.quote(sent)}
n=$(ls "$dir" | wc -l); n=$((n + 1))
body='{{"event_id":"evt_console_'$n'","event":"order.created","data":{{"order_id":'$n'}}}}'
printf '%s' "$body" >"$dir/$n.json"
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac {shlex.quote(SECRET)} -hex | awk '{{print $NF}}')
answer=$(curl -sS --max-time 20 -H "X-Webhook-Signature: sha256=$sig" -H 'Content-Type: application/json' \\
    --data-binary "$body" {shlex.quote(hook)})
seq=$(printf '%s' "$answer" | sed -n 's/.*"seq": *\\([0-9][0-9]*\\).*/\\1/p')
[ -n "$seq" ] || {{ echo "send.sh: no seq in the answer: $answer" >&2; exit 1; }}
echo "$seq"
""")
        bad = script(os.path.join(self.tmp, "bad.sh"), f"""
curl -sS --max-time 20 -o /dev/null -H "X-Webhook-Signature: sha256=$(printf '0%.0s' $(seq 64))" \\
    -H 'Content-Type: application/json' --data-binary '{{"event_id":"evt_forged","event":"order.created"}}' \\
    {shlex.quote(hook)}
""")
        # the test's artefacts: beside the binary under test (build/console-screenshots,
        # build-asan/console-screenshots), so they outlive the run
        art = os.environ.get("HG_UI_ARTIFACTS") or os.path.join(os.path.dirname(hg.BIN), "console-screenshots")
        shutil.rmtree(art, ignore_errors=True)
        os.makedirs(art, exist_ok=True)
        env = dict(os.environ, HG_UI_URL=f"http://127.0.0.1:{admin}/ui/", HG_TOKEN=TOKEN, HG_SEND=send, HG_BAD=bad,
                   HG_ARTIFACTS=art, HG_CHROMIUM=CHROMIUM)
        try:
            p = subprocess.run([node, SCRIPT], cwd=BROWSER, env=env, capture_output=True, text=True, timeout=240)
            out, err, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, err, rc = e.stdout or "", e.stderr or "", "timeout (240 s)"
            out, err = (x.decode(errors="replace") if isinstance(x, bytes) else x for x in (out, err))
        print(out, end="")
        self.record(art, sent)
        if rc != 0:
            self.fail(f"tests/browser/console.mjs exited {rc} (screenshots and HTML in {art}):\n{out[-3000:]}\n"
                      f"stderr: {err[-2000:]}\ngateway stderr: {g.stderr()[-1500:]}")

        for name in PAGES:
            with open(os.path.join(art, name + ".png"), "rb") as f:
                head = f.read(16)
            self.assertTrue(head.startswith(PNG), f"{name}.png is not a PNG ({head!r})")
            self.assertGreater(os.path.getsize(os.path.join(art, name + ".png")), 1000, f"{name}.png is tiny")
        for path in glob.glob(os.path.join(art, "*.html")):
            with open(path, encoding="utf-8", errors="replace") as f:
                self.assertNotIn(TOKEN, f.read(), f"{os.path.basename(path)} holds the admin token")
        self.assertNotIn(TOKEN, g.stderr(), "the gateway logged the admin token")

        # the sink's side: the replayed event reached stdout twice, the test event once
        m = re.search(r"^REPLAYED (\d+) (\S+)$", out, re.M)
        self.assertTrue(m, "console.mjs printed no REPLAYED line")
        seq = int(m.group(1))
        self.assertEqual(m.group(2), "out")
        twice = hg.wait_for(lambda: len([e for e in g.events() if e.get("hookgateseq") == seq]) >= 2, timeout=15)
        self.assertTrue(twice, f"event {seq} reached stdout {len([e for e in g.events() if e.get('hookgateseq') == seq])}"
                               " time(s) after the replay; expected 2")
        m = re.search(r"^SENT (\d+)$", out, re.M)
        self.assertTrue(m, "console.mjs printed no SENT line")
        seq2 = int(m.group(1))
        got = hg.wait_for(lambda: [e for e in g.events() if e.get("hookgateseq") == seq2], timeout=15)
        self.assertTrue(got, f"the test event (seq {seq2}) never reached stdout")
        self.assertEqual(got[0].get("hookgateroute"), "orders")

    def test_assets_hold_no_inline_code(self):
        """gateway/ui: no inline script, style or event handler (the CSP would block
        them), and app.js writes no HTML from strings."""
        ui = os.path.join(hg.ROOT, "gateway", "ui")
        with open(os.path.join(ui, "index.html")) as f:
            html = f.read()
        self.assertNotRegex(html, r"(?i)<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:")
        for m in re.finditer(r"(?is)<script\b([^>]*)>(.*?)</script>", html):
            self.assertIn("src=", m.group(1), "an inline <script>")
            self.assertEqual(m.group(2).strip(), "", "an inline <script>")
        with open(os.path.join(ui, "app.js")) as f:
            js = f.read()
        self.assertNotRegex(js, r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.style\b|eval\(|"
                                r"new Function|localStorage|sessionStorage")

    def ports(self, g):
        """(public port, admin port): the admin listener is the one that serves /ui/."""
        self.assertEqual(len(g.ports), 2, f"listening on {g.ports}")
        ui = [p for p in g.ports if hg.curl(f"http://127.0.0.1:{p}/ui/").status == 200]
        self.assertEqual(len(ui), 1, f"/ui/ answers 200 on {ui} of {g.ports}")
        return [p for p in g.ports if p != ui[0]][0], ui[0]

    def record(self, art, sent):
        """Leak capture: each page's HTML as a record, each signature HG_SEND sent as a needle."""
        for path in sorted(glob.glob(os.path.join(sent, "*.json"))):
            with open(path, "rb") as f:
                hg.sign_generic(SECRET, f.read())  # hmac.new: its digest becomes a needle
        for path in sorted(glob.glob(os.path.join(art, "*.html"))):
            with open(path, "rb") as f:
                hg.leak_record("page", "console page " + os.path.basename(path), f.read())


if __name__ == "__main__":
    hg.main()
