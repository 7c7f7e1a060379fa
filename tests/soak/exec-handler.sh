#!/bin/sh
# tests/soak/exec-handler.sh LOG - the exec-sink handler of tests/soak/crashloop.
#
# hookgate runs it once per event (no shell in between) with the envelope on
# stdin, which it does not need: the event's id, seq and attempt are in its
# environment.  It appends one line "ID<TAB>SEQ<TAB>ATTEMPT" to LOG with a
# single write(2) on an O_APPEND descriptor (dash's printf writes its output
# once), so concurrent handlers never interleave inside a line, and exits 0:
# delivered.  A handler left running by a kill -9 of the gateway still
# finishes its line; the crash loop counts every line.
printf '%s\t%s\t%s\n' "$HOOKGATE_EVENT_ID" "$HOOKGATE_SEQ" "$HOOKGATE_ATTEMPT" >>"$1"
