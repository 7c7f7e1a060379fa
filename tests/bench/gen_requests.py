#!/usr/bin/env python3
"""Generate unique, validly signed webhook requests for the benchmark.

Each request is for the "generic" scheme: a JSON body of exactly --body-size
bytes (default 1024)

    {"event_id":"evt_<run>_<index>","event":"order.created",
     "data":{"order_id":<index>,"note":"<padding>"}}

signed with X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, body)>.

Output format (read by post.lua):

    line 1:   "#hookbench v1 count=N reclen=R siglen=S bodylen=B\\n"
    then N fixed-length records of R bytes each: "<signature>\\t<body>\\n"

Every record has the same length, so a wrk thread can seek straight to its
own slice (offset = header + i * R) and stream it without loading the whole
file into memory.
"""

import argparse
import hashlib
import hmac
import os
import secrets
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--count", type=int, default=400000, help="number of requests")
    ap.add_argument("-o", "--out", required=True, help="output file")
    ap.add_argument("--secret", default=os.environ.get("BENCH_SECRET"),
                    help="HMAC secret (default: $BENCH_SECRET)")
    ap.add_argument("--body-size", type=int, default=1024, help="exact body size in bytes")
    ap.add_argument("--run-id", default=None,
                    help="id prefix making event ids unique across runs (default: random)")
    args = ap.parse_args()

    if not args.secret:
        ap.error("no secret: pass --secret or set BENCH_SECRET")
    if args.count < 1:
        ap.error("--count must be >= 1")

    run_id = args.run_id or secrets.token_hex(4)
    key = args.secret.encode()
    width = len(str(args.count - 1))

    def body_for(i: int, pad: int) -> bytes:
        return ('{"event_id":"evt_%s_%0*d","event":"order.created",'
                '"data":{"order_id":%d,"note":"%s"}}'
                % (run_id, width, i, i, "x" * pad)).encode()

    # Padding needed so the body is exactly body_size; order_id has a
    # variable number of digits, so compute it per index from the width.
    base_len = len(body_for(0, 0)) - 1  # minus the single digit of order_id 0
    if base_len + width > args.body_size:
        ap.error("--body-size too small for the fixed part of the body (%d)"
                 % (base_len + width))
    siglen = len("sha256=") + 64
    reclen = siglen + 1 + args.body_size + 1

    digest = hashlib.sha256
    with open(args.out, "wb", buffering=1 << 20) as f:
        f.write(("#hookbench v1 count=%d reclen=%d siglen=%d bodylen=%d\n"
                 % (args.count, reclen, siglen, args.body_size)).encode())
        pads = {}
        for i in range(args.count):
            digits = len(str(i))
            pad = pads.get(digits)
            if pad is None:
                pad = pads[digits] = args.body_size - base_len - digits
            body = body_for(i, pad)
            sig = hmac.new(key, body, digest).hexdigest()
            f.write(b"sha256=" + sig.encode() + b"\t" + body + b"\n")
    if len(body_for(args.count - 1, pads[len(str(args.count - 1))])) != args.body_size:
        print("gen_requests: internal error: body size mismatch", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
