#!/bin/sh
# handlers/exec-append.sh - an exec-sink handler: appends each event to a
# dated NDJSON file, one file per event type.
#
# hookgate runs it once per event (argv from the config, no shell), with the
# CloudEvents envelope on stdin and HOOKGATE_EVENT_ID, HOOKGATE_EVENT_TYPE,
# HOOKGATE_SOURCE, HOOKGATE_ROUTE, HOOKGATE_SEQ and HOOKGATE_ATTEMPT in its
# environment.  Exit 0 = delivered; anything else is retried, then dead-lettered.
#
# Wire it in:
#   "sinks": {"archive": {"type": "exec",
#                         "command": ["/opt/hookgate/handlers/exec-append.sh", "/var/lib/events"],
#                         "timeout": "10s", "types": ["order.*"]}}
#
# The event type chooses the file name, so it is reduced to [A-Za-z0-9_.-]
# first: a type made of dot-dot climbs cannot leave the directory.  The
# date is the envelope's receipt time.  Needs jq.
set -eu
dir=${1:-./events}
envelope=$(cat)
day=$(printf '%s\n' "$envelope" | jq -r '.hookgatereceived[0:10]')
case $day in
[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;;
*) echo "exec-append: no receipt date in the envelope" >&2; exit 65 ;;
esac
type=$(printf '%s' "${HOOKGATE_EVENT_TYPE:-unknown}" | tr -c 'A-Za-z0-9_.-' '_')
case $type in
"" | . | ..) type=unknown ;;
esac
mkdir -p "$dir/$day"
printf '%s\n' "$envelope" | jq -c . >>"$dir/$day/$type.ndjson"
