#!/usr/bin/env python3
"""Leak sweep: no secret and no expected signature in anything hookgate shows.

    python3 tests/leaks/sweep.py DIR      sweep the records in DIR
    python3 tests/leaks/sweep.py --selftest

DIR is the $HG_LEAK_DIR of an end-to-end run (tests/e2e/hg.py fills it; see
"Leak capture" there): rec-*.jsonl hold what the gateways showed (stderr logs,
answers and /metrics scrapes, CLI output, socket reads, envelope attributes),
needles-*.jsonl what must never be in them (configured secrets, HMAC keys,
signatures and auth headers the tests sent or computed).

Each needle is searched raw, as hex (lower and upper case), as base64 (standard
and URL-safe, at each of the three byte alignments, so it is also found inside
a longer base64 string, padded or not), JSON-escaped and percent-encoded.  A
`whsec_` secret is searched both whole and as the key it decodes to (hg.py
records both).  Signature needles are not searched in output that exists to
show signatures (`hookgate sign`'s stdout, marked sig_ok), nor is the token
`hookgate sign` prints for a token profile (hubex, ultimate-multisite: the
"signature" is the token; hg.py lists it in that record's allow_hex).

Prints every hit (record, what it is, 80 characters around the match with the
match masked) and "leak sweep: N records, M needles, K hits".  Exits 1 on a
hit, on a capture error, and when there are no records or no needles (a sweep
over nothing proves nothing).
"""
import base64
import bisect
import glob
import json
import os
import re
import sys
import tempfile
import urllib.parse

MIN_LEN = 8  # see keep()
GRAM, STRIDE = 8, 8  # forms of >= GRAM + STRIDE - 1 bytes are found through the gram index
CHUNK = 4 << 20  # records are searched in batches of about this many bytes
SEP = b"\n\0\x01\0\x01\0\x01\0\n"  # between records of a batch; a hit across it is dropped


def keep(b):
    """Whether needle b is searched; else the reason it is not.

    - Shorter than 8 bytes: the tests' short secrets ("x", "k", "gh", "nope",
      "t0k", "hunter2") are also ordinary words of other tests: swept with
      them, 15 test files gave 16,000+ chance hits ("x" and "k" everywhere,
      "nope" is another test's URL path and profile name, which the gateway
      rightly names in its errors).  The tests that configure such a secret
      assert its absence themselves (e.g. test_http_sink's URL password).
    - Fewer than 4 distinct bytes ("t" * 256, b"k" * 24, "x" * 32, "ab" * 32):
      filler that tests also use as padding, bodies and forged signatures, so
      it matches by chance; no real secret or digest looks like that.
    """
    if len(b) < MIN_LEN:
        return "shorter than %d bytes" % MIN_LEN
    if len(set(b)) < 4:
        return "fewer than 4 distinct bytes"
    return None


def forms(b):
    """{form bytes: form name} of needle b."""
    out = {b: "raw", b.hex().encode(): "hex", b.hex().upper().encode(): "HEX"}
    for k in range(3):  # the needle at byte offset k (mod 3) of a longer base64-encoded string
        e = base64.b64encode(b"\0" * k + b)
        core = e[(0, 2, 3)[k]:((k + len(b)) * 8) // 6]  # only characters fixed by b alone
        if len(core) >= MIN_LEN:
            out.setdefault(core, "base64@%d" % k)
            out.setdefault(core.translate(bytes.maketrans(b"+/", b"-_")), "base64url@%d" % k)
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return out
    out.setdefault(json.dumps(s)[1:-1].encode(), "json-escaped")
    out.setdefault(json.dumps(s, ensure_ascii=False)[1:-1].encode(), "json-escaped")
    out.setdefault(urllib.parse.quote(s, safe="").encode(), "percent-encoded")
    return out


def load_needles(d):
    """[(bytes, {classes}, [origins])], {reason: count} of the excluded, bad lines."""
    by = {}
    bad = 0
    for path in sorted(glob.glob(os.path.join(d, "needles-*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    n = json.loads(line)
                    b = bytes.fromhex(n["hex"])
                except (ValueError, KeyError, TypeError):
                    bad += 1  # a test process killed in mid-write (ctest timeout)
                    continue
                e = by.setdefault(b, (set(), []))
                e[0].add(n.get("cls", "secret"))
                if len(e[1]) < 3 and n.get("origin") not in e[1]:
                    e[1].append(n.get("origin"))
    needles, excluded = [], {}
    for b, (cls, origins) in by.items():
        why = keep(b)
        if why:
            excluded[why] = excluded.get(why, 0) + 1
        else:
            needles.append((b, cls, origins))
    return needles, excluded, bad


SANITIZER = re.compile(rb"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |WARNING: ThreadSanitizer")


def records(d):
    """(file, line number, record) of every record in d; bad lines counted in the last one."""
    for path in sorted(glob.glob(os.path.join(d, "rec-*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                try:
                    r = json.loads(line)
                    r["data"] = r.pop("text").encode("utf-8", "surrogateescape")
                except (ValueError, KeyError, TypeError, AttributeError):
                    yield path, i, None
                    continue
                yield path, i, r


class Index:
    def __init__(self, needles):
        self.forms = {}  # form -> [(needle index, form name)]
        for i, (b, _, _) in enumerate(needles):
            for f, name in forms(b).items():
                self.forms.setdefault(f, []).append((i, name))
        self.grams, self.short = {}, []
        for f in self.forms:
            if len(f) >= GRAM + STRIDE - 1:  # one of its first STRIDE grams starts at a multiple of STRIDE
                for off in range(STRIDE):
                    self.grams.setdefault(f[off:off + GRAM], []).append((f, off))
            else:
                self.short.append(f)

    def search(self, data):
        """{(start, form)} of every occurrence of a form in data."""
        hits = set()
        grams = self.grams
        for p in range(0, len(data) - GRAM + 1, STRIDE):
            cands = grams.get(data[p:p + GRAM])
            if cands:
                for f, off in cands:
                    s = p - off
                    if s >= 0 and data.startswith(f, s):
                        hits.add((s, f))
        for f in self.short:
            s = data.find(f)
            while s >= 0:
                hits.add((s, f))
                s = data.find(f, s + 1)
        return hits


def printable(b):
    return b.decode("utf-8", "backslashreplace").encode("unicode_escape").decode("ascii")


def allowed(r):
    """Spans of r's data that hold a value the output exists to show (allow_hex)."""
    if "allowed" not in r:
        r["allowed"] = []
        for h in r.get("allow_hex") or ():
            v = bytes.fromhex(h)
            s = r["data"].find(v) if v else -1
            while s >= 0:
                r["allowed"].append((s, s + len(v)))
                s = r["data"].find(v, s + 1)
    return r["allowed"]


def masked(data, spans, s, e, tag):
    """40 bytes either side of data[s:e], which becomes tag; the other spans in
    that window (merged where they overlap) become <<...>>."""
    merged = []
    for a, b in sorted(spans + [(s, e)]):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    lo, hi = max(0, s - 40), min(len(data), e + 40)
    out, p = [], lo
    for a, b in merged:
        if b <= lo or a >= hi:
            continue
        out.append(printable(data[p:max(p, a)]))
        out.append(tag if a <= s < b else "<<...>>")
        p = max(p, b)
    out.append(printable(data[p:max(p, hi)]))
    return "".join(out)


def sweep(d, out=sys.stdout, max_shown=100):
    """Returns the exit status."""
    needles, excluded, bad_needles = load_needles(d)
    idx = Index(needles)
    nrec, kinds, bad_recs, errors, hits, reports = 0, {}, 0, [], [], []

    def run(batch):
        data = SEP.join(r["data"] for _, _, r in batch)
        starts, pos = [], 0
        for _, _, r in batch:
            starts.append(pos)
            pos += len(r["data"]) + len(SEP)
        for s, f in sorted(idx.search(data)):
            j = bisect.bisect_right(starts, s) - 1
            path, line, r = batch[j]
            rs = s - starts[j]
            if rs + len(f) > len(r["data"]):
                continue  # across a separator
            if any(a <= rs and rs + len(f) <= b for a, b in allowed(r)):
                continue  # inside a value this output exists to show
            owners = [(i, name) for i, name in idx.forms[f]
                      if not (r.get("sig_ok") and needles[i][1] == {"signature"})]
            if owners:
                hits.append((path, line, r, rs, f, owners))

    batch, size = [], 0
    for path, line, r in records(d):
        if r is None:
            bad_recs += 1
            continue
        nrec += 1
        kinds[r.get("kind")] = kinds.get(r.get("kind"), 0) + 1
        if r.get("kind") == "capture-error":
            errors.append((path, line, r))
        if r.get("kind") in ("stderr", "cli") and SANITIZER.search(r["data"]):
            reports.append((path, line, r))
        batch.append((path, line, r))
        size += len(r["data"])
        if size >= CHUNK:
            run(batch)
            batch, size = [], 0
    if batch:
        run(batch)

    spans = {}  # (path, line) -> every hit span of that record, all masked in each context
    for path, line, r, s, f, owners in hits:
        spans.setdefault((path, line), []).append((s, s + len(f)))
    for n, (path, line, r, s, f, owners) in enumerate(hits):
        if n == max_shown:
            print(f"... and {len(hits) - max_shown} more hits", file=out)
            break
        i, name = owners[0]
        b, cls, origins = needles[i]
        tag = f"<<{'/'.join(sorted(cls))} #{i} as {name}, {len(f)} bytes>>"
        ctx = masked(r["data"], spans[(path, line)], s, s + len(f), tag)
        print(f"LEAK {os.path.basename(path)}:{line} [{r.get('kind')}] {r.get('what')}\n"
              f"     test {r.get('test')}; needle #{i} from {', '.join(map(str, origins))}\n"
              f"     ...{ctx}...", file=out)
    for path, line, r in errors:
        print(f"CAPTURE ERROR {os.path.basename(path)}:{line} {r.get('what')}: {printable(r['data'][:300])}", file=out)
    print("records by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=str)), file=out)
    print("needles by class: " + ", ".join(
        f"{c} {sum(1 for n in needles if c in n[1])}" for c in ("secret", "signature")) +
        "; not searched: " + (", ".join(f"{v} {k}" for k, v in sorted(excluded.items())) or "none") +
        (f"; {bad_needles} unreadable lines" if bad_needles else ""), file=out)
    if bad_recs:
        print(f"{bad_recs} unreadable record lines (a test process killed mid-write?)", file=out)
    print(f"leak sweep: {nrec} records, {len(needles)} needles, {len(hits)} hits", file=out)
    if not nrec or not needles:
        print("FAIL: nothing to sweep (was HG_LEAK_DIR set for the tests?)", file=out)
        return 1
    if errors:
        print(f"FAIL: {len(errors)} capture errors", file=out)
        return 1
    # the same records are the whole suite's gateway stderr: a sanitizer
    # report anywhere in it fails the run, also from a test that passed
    for path, line, r in reports[:10]:
        m = SANITIZER.search(r["data"])
        print(f"SANITIZER {os.path.basename(path)}:{line} [{r.get('kind')}] test {r.get('test')}: "
              f"{printable(r['data'][m.start():m.start() + 300])}", file=out)
    print(f"sanitizer reports: {len(reports)}", file=out)
    return 1 if hits or reports else 0


def selftest():
    """The sweep finds a needle in its encoded forms, masks it, honours sig_ok,
    and fails on an empty directory."""
    import io
    secret = b"selftest-secret->?~Zq9v3"  # its base64 has + and /
    sig = bytes(range(100, 132))
    ok = True

    def check(name, cond):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + name)
        ok = ok and cond

    def write(d, recs, needles):
        with open(os.path.join(d, "needles-1-x.jsonl"), "w") as f:
            for b, cls in needles:
                f.write(json.dumps({"hex": b.hex(), "cls": cls, "origin": "selftest"}) + "\n")
        with open(os.path.join(d, "rec-1-x.jsonl"), "w") as f:
            for text, sig_ok in recs:
                f.write(json.dumps({"kind": "stderr", "what": "selftest", "test": "selftest",
                                    "sig_ok": sig_ok, "text": text.decode("utf-8", "surrogateescape")}) + "\n")

    clean = [(b'{"level":"warn","msg":"request rejected","path":"/hooks/x","status":401}', False),
             (b"hookgate_requests_total{route=\"x\",status=\"401\"} 3", False),
             (b"webhook-signature: v1," + base64.b64encode(sig), True)]  # sig_ok: hookgate sign's stdout
    # the secret, base64-encoded inside a longer base64 string at offset 1 (mod 3), no padding
    b64_inside = base64.b64encode(b"x" + secret + b"yz").rstrip(b"=")
    cases = [("base64 inside a longer string", b'{"msg":"dump","blob":"' + b64_inside + b'"}', "base64@1"),
             ("url-safe base64", base64.urlsafe_b64encode(b"\xfb\xff" + secret), "base64url@2"),
             ("upper-case hex of a signature", b"expected " + sig.hex().upper().encode(), "HEX"),
             ("raw secret", b"key=" + secret, "raw"),
             ("base64 of a signature where signatures are not expected",
              b"sig " + base64.b64encode(sig), "base64@0")]
    for name, text, form in cases:
        with tempfile.TemporaryDirectory() as d:
            write(d, clean + [(text, False)], [(secret, "secret"), (sig, "signature"), (b"t0k", "secret")])
            buf = io.StringIO()
            rc = sweep(d, out=buf)
            o = buf.getvalue()
            check(f"{name}: exit 1, one hit as {form}, masked",
                  rc == 1 and "1 hits" in o and f"as {form}" in o and secret.decode() not in o
                  and b64_inside.decode() not in o and sig.hex() not in o.lower())
            if rc != 1:
                print(o)
    with tempfile.TemporaryDirectory() as d:
        write(d, clean, [(secret, "secret"), (sig, "signature")])
        buf = io.StringIO()
        check("clean records (a signature only where sig_ok): exit 0",
              sweep(d, out=buf) == 0 and "0 hits" in buf.getvalue())
    with tempfile.TemporaryDirectory() as d:  # hookgate sign -p hubex prints its token
        write(d, clean, [(secret, "secret"), (sig, "signature")])
        with open(os.path.join(d, "rec-1-x.jsonl"), "a") as f:
            for allow in ([secret.hex()], []):
                f.write(json.dumps({"kind": "cli", "what": "sign", "sig_ok": True, "allow_hex": allow,
                                    "text": "X-Hookgate-Token: " + secret.decode()}) + "\n")
        buf = io.StringIO()
        rc = sweep(d, out=buf)
        check("a token where the record allows it: no hit; where it does not: a hit",
              rc == 1 and "1 hits" in buf.getvalue())
    with tempfile.TemporaryDirectory() as d:
        check("no records at all: exit 1", sweep(d, out=io.StringIO()) == 1)
    with tempfile.TemporaryDirectory() as d:
        write(d, clean, [])
        check("no needles: exit 1", sweep(d, out=io.StringIO()) == 1)
    with tempfile.TemporaryDirectory() as d:
        write(d, clean + [(b"ValueError: boom", False)], [(secret, "secret")])
        with open(os.path.join(d, "rec-1-x.jsonl"), "a") as f:
            f.write(json.dumps({"kind": "capture-error", "what": "hg.curl", "text": "ValueError: boom"}) + "\n")
        check("a capture error: exit 1", sweep(d, out=io.StringIO()) == 1)
    print("selftest " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main(argv):
    if argv[1:] == ["--selftest"]:
        return selftest()
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return sweep(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
