#!/usr/bin/env python3
"""handlers/unix-consumer.py - a consumer for hookgate's `unix` sink.

Listens on a UNIX stream socket, reads one CloudEvents envelope per line,
handles it (here: appends it to a file; put your own code in `handle`), and,
with --ack, writes the event's id back on a line of its own once it is
handled, so that hookgate counts it as delivered only then.

Wire it in:
    "sinks": {"app": {"type": "unix", "path": "/run/app/events.sock", "ack": true}}
and run, before or after hookgate (it reconnects with backoff):
    handlers/unix-consumer.py /run/app/events.sock /var/lib/app/events.ndjson --ack

Delivery is at least once: an event that was sent but not acked when the
connection broke is sent again on the next connection.  Make `handle`
idempotent on (hookgateroute, id).
"""
import json
import os
import socket
import sys


def handle(event, out):
    out.write(json.dumps(event, separators=(",", ":")) + "\n")
    out.flush()
    os.fsync(out.fileno())  # handled = on disk, before the ack


def serve(path, out_path, ack):
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o600)
    srv.listen(1)
    with open(out_path, "a") as out:
        while True:
            conn, _ = srv.accept()
            with conn, conn.makefile("rb") as lines:
                for raw in lines:
                    event = json.loads(raw)
                    handle(event, out)
                    if ack:
                        conn.sendall(event["id"].encode() + b"\n")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--ack"]
    if len(args) != 2:
        sys.exit("usage: unix-consumer.py SOCKET OUTFILE [--ack]")
    serve(args[0], args[1], "--ack" in sys.argv)
