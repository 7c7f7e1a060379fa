#!/usr/bin/env python3
"""sinks_lat.py - the arithmetic of tests/bench/sinks: drain rates and
2xx-to-sink latencies from the files the load generator and the receivers
write.

    sinks_lat.py drain RECV N [--marks] [--timeout S]
    sinks_lat.py lat FILL RECV [--marks] [--timeout S] [--after-seq N] [--base-lines K]

RECV is a receiver's file, one line per event it got: "SEQ T_NS"
(deliver_consumer --times, deliver_http_sink --times, sinks_js_sub), or with
--marks "T_NS SEQ" (deliver_mark, the exec handler).  T_NS is CLOCK_REALTIME
in ns.  An event received more than once counts at its first receipt.

drain: waits (polling RECV, up to --timeout seconds, default 120) until
every seq 1..N is there, then prints

    RESULT distinct=D first_ns=F last_ns=L seconds=S rate=R repeats=X

seconds runs from the first receipt of any of 1..N to the last receipt that
completed them; rate = N / seconds.  Exit 1 when the timeout passed first
(the line says what had arrived).

lat: FILL is fill's -T file, one line per accepted event: "SEQ T2XX_NS
LAT_NS INDEX", T2XX_NS the CLOCK_REALTIME when the load generator had read
the whole 2xx answer.  Waits (up to --timeout, default 15) until the
receiver has every accepted seq, then prints

    RESULT accepted=A received=R missing=M p50_ms= p90_ms= p99_ms= max_ms=
           min_ms= negative=K recv_rate= catchup_ms= req_p50_ms= req_p99_ms=

latency = receipt - 2xx, per event, over the received ones; negative: how
many reached the sink before the producer had read its 2xx; recv_rate: the
accepted events received per second, from the first to the last receipt;
catchup_ms: from the last 2xx to the last receipt; req_p50_ms, req_p99_ms: the
same from the request's first byte written instead of the 2xx (never
negative: it includes the store's commit).  Exit 0 even when some
are missing (the caller reports them).
"""
import argparse
import os
import sys
import time


class Tail:
    """Reads complete lines appended to a file since the last call.  While
    the file holds fewer than `wait_lines` lines, poll() only counts them
    (no parsing): the receivers share the CPU with the gateway being
    measured, and so does this."""

    def __init__(self, path, marks, wait_lines=0):
        self.path, self.marks, self.f, self.rest = path, marks, None, b""
        self.wait_lines, self.nlines, self.held = wait_lines, 0, []

    def poll(self, final=False):
        if self.f is None:
            if not os.path.exists(self.path):
                return []
            self.f = open(self.path, "rb")
        chunk = self.f.read()
        self.nlines += chunk.count(b"\n")
        self.held.append(chunk)
        if self.nlines < self.wait_lines and not final:
            return []
        data = self.rest + b"".join(self.held)
        self.held = []
        lines = data.split(b"\n")
        self.rest = lines.pop()
        out = []
        for ln in lines:
            p = ln.split()
            if len(p) < 2:
                continue
            a, b = int(p[0]), int(p[1])
            out.append((b, a) if self.marks else (a, b))  # (seq, t_ns)
        return out


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, int(p * len(sorted_vals)))
    return sorted_vals[i]


def cmd_drain(a):
    t = Tail(a.recv, a.marks, a.n)
    first = {}
    repeats = 0
    deadline = time.time() + a.timeout
    n = a.n
    have = 0
    last_t = 0
    while True:
        for seq, ts in t.poll(time.time() > deadline):
            if 1 <= seq <= n:
                if seq in first:
                    repeats += 1
                else:
                    first[seq] = ts
                    have += 1
                    if have == n:
                        last_t = ts
        if have >= n or time.time() > deadline:
            break
        time.sleep(0.05)
    if not first:
        print("RESULT distinct=0 first_ns=0 last_ns=0 seconds=0 rate=0 repeats=0")
        return 1
    f = min(first.values())
    last = last_t if have >= n else max(first.values())
    secs = (last - f) / 1e9
    print("RESULT distinct=%d first_ns=%d last_ns=%d seconds=%.6f rate=%.0f repeats=%d"
          % (have, f, last, secs, have / secs if secs > 0 else 0, repeats))
    return 0 if have >= n else 1


def cmd_lat(a):
    t2xx, tsend = {}, {}
    with open(a.fill) as f:
        for ln in f:
            p = ln.split()
            if len(p) >= 3 and int(p[0]) > a.after_seq:
                t2xx[int(p[0])] = int(p[1])
                tsend[int(p[0])] = int(p[1]) - int(p[2])
    t = Tail(a.recv, a.marks, a.base_lines + len(t2xx))
    got = {}
    deadline = time.time() + a.timeout
    while True:
        for seq, ts in t.poll(time.time() > deadline):
            if seq in t2xx and seq not in got:
                got[seq] = ts
        if len(got) >= len(t2xx) or time.time() > deadline:
            break
        time.sleep(0.05)
    lat = sorted((got[s] - t2xx[s]) / 1e6 for s in got)
    req = sorted((got[s] - tsend[s]) / 1e6 for s in got)
    neg = sum(1 for v in lat if v < 0)
    if got:
        r0, r1 = min(got.values()), max(got.values())
        rate = len(got) / ((r1 - r0) / 1e9) if r1 > r0 else 0
        catchup = (r1 - max(t2xx.values())) / 1e6
    else:
        rate, catchup = 0, float("nan")
    print("RESULT accepted=%d received=%d missing=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
          "max_ms=%.3f min_ms=%.3f negative=%d recv_rate=%.0f catchup_ms=%.1f "
          "req_p50_ms=%.3f req_p99_ms=%.3f"
          % (len(t2xx), len(got), len(t2xx) - len(got), pct(lat, 0.5), pct(lat, 0.9),
             pct(lat, 0.99), lat[-1] if lat else float("nan"), lat[0] if lat else float("nan"),
             neg, rate, catchup, pct(req, 0.5), pct(req, 0.99)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("drain")
    d.add_argument("recv")
    d.add_argument("n", type=int)
    d.add_argument("--marks", action="store_true")
    d.add_argument("--timeout", type=float, default=120)
    lt = sub.add_parser("lat")
    lt.add_argument("fill")
    lt.add_argument("recv")
    lt.add_argument("--marks", action="store_true")
    lt.add_argument("--timeout", type=float, default=15)
    lt.add_argument("--after-seq", type=int, default=0)
    lt.add_argument("--base-lines", type=int, default=0,
                    help="lines RECV had before this phase (parsing waits for base + accepted)")
    a = ap.parse_args()
    return cmd_drain(a) if a.cmd == "drain" else cmd_lat(a)


if __name__ == "__main__":
    sys.exit(main())
