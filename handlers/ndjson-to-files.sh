#!/bin/sh
# handlers/ndjson-to-files.sh - a consumer for hookgate's stdout sink.
#
# Reads CloudEvents envelopes, one JSON object per line, from standard input
# and appends each to DIR/<route>/<YYYY-MM-DD>.ndjson (DIR defaults to
# ./events).  Wire it in with a pipe; hookgate's logs stay on stderr:
#
#     ./build/hookgate serve -c hookgate.json | handlers/ndjson-to-files.sh /var/lib/events
#
# Delivery is at least once: after a crash hookgate prints again what it had
# not yet recorded as delivered, so a line may appear twice.  Consumers that
# must not act twice should key on the envelope's "id" (the producer's event
# id) together with "hookgateroute".
#
# Route names are limited by hookgate to [A-Za-z0-9_.-], and the date comes
# from the envelope's own receipt time, so no payload byte reaches a path.
# Needs jq.
set -eu
dir=${1:-./events}
mkdir -p "$dir"
while IFS= read -r line; do
    route=$(printf '%s\n' "$line" | jq -r '.hookgateroute')
    day=$(printf '%s\n' "$line" | jq -r '.hookgatereceived[0:10]')
    case $route in
    "" | . | .. | *[!A-Za-z0-9_.-]*) route=_invalid ;;
    esac
    case $day in
    [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;;
    *) day=unknown-date ;;
    esac
    mkdir -p "$dir/$route"
    printf '%s\n' "$line" >>"$dir/$route/$day.ndjson"
done
