#!/usr/bin/env python3
"""handlers/pipe-worker.py - a worker for hookgate's `pipe` sink.

hookgate starts this program once, at boot, and keeps it running: it writes
one CloudEvents envelope per line to its stdin, and the worker writes each
event's id back on its stdout once the event is handled.  If the worker
exits, hookgate starts it again (with backoff) and sends the events it had
not acknowledged.  Anything the worker prints on stderr goes to hookgate's
log.

Wire it in:
    "sinks": {"worker": {"type": "pipe",
                         "command": ["python3", "/opt/hookgate/handlers/pipe-worker.py",
                                     "/var/lib/app/events.ndjson"]}}

Here "handled" means appended to the file given as argument and fsync'd;
put your own code in `handle`.  Delivery is at least once: make `handle`
idempotent on (hookgateroute, id).
"""
import json
import os
import sys


def handle(event, out):
    out.write(json.dumps(event, separators=(",", ":")) + "\n")
    out.flush()
    os.fsync(out.fileno())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: pipe-worker.py OUTFILE")
    with open(sys.argv[1], "a") as out:
        for raw in sys.stdin.buffer:
            event = json.loads(raw)
            handle(event, out)
            sys.stdout.write(event["id"] + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
