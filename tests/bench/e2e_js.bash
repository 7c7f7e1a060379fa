# shellcheck shell=bash
# shellcheck disable=SC2034  # FAILED, INVALID, RES: run's globals
# tests/bench/e2e_js.bash - the end-to-end jetstream targets of tests/bench/run,
# sourced by it (it uses run's globals and helpers: WORK, REQS, RES, log,
# start_server, bench_get, ...).  See "End-to-end: HTTP -> JetStream" in
# tests/bench/README.md.
#
#   hookgate-js-r3    wrk -> one hookgate -> jetstream sink -> stream BENCH,
#                     replicas 3, on a 3-node nats-server cluster (loopback)
#   hookgate2-js-r3   the same with two hookgate instances (own data_dir and
#                     port each), wrk's connections split over both (one wrk
#                     process, one thread per instance), one stream
#
# Ports: hookgate instance I on PORT_BASE+5+I; nats-server node K: client
# PORT_BASE+7+K, cluster PORT_BASE+10+K, monitoring PORT_BASE+13+K.

E2E_JS_PIDS=()     # hookgate and nats-server processes of the current target
E2E_JS_NATS=()     # the nats-server ones among them
E2E_JS_HG=()       # the hookgate ones
E2E_JS_WATCH=      # e2e_js_watch, while it runs
E2E_JS_SAMPLER=    # the backlog sampler, while it runs
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-120}

e2e_js_stop_pid() { # PID: SIGTERM, wait up to 10 s, then SIGKILL
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM for 10 s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# Stop everything of the current target: the gateways first (so that they do
# not spend the shutdown reconnecting), then the cluster.
e2e_js_cleanup() {
    local p
    for p in $E2E_JS_SAMPLER $E2E_JS_WATCH "${E2E_JS_HG[@]}" "${E2E_JS_NATS[@]}"; do
        e2e_js_stop_pid "$p"
    done
    E2E_JS_PIDS=() E2E_JS_NATS=() E2E_JS_HG=() E2E_JS_WATCH='' E2E_JS_SAMPLER=''
}

# Called by run's argument check, once, when a js target is asked for.
e2e_js_check_tools() {
    command -v nats-server >/dev/null || die "missing tool: nats-server (Debian package nats-server)"
    pkg-config --exists libnats || die "missing libnats (Debian package libnats-dev)"
}

# Once, after the scratch dir exists: the helpers.
e2e_js_prepare() {
    log "building js_read and e2e_js_watch (libnats)"
    # shellcheck disable=SC2046
    cc -O2 -o "$WORK/js_read" "$ROOT/tests/tools/js_read.c" $(pkg-config --cflags --libs libnats)
    # shellcheck disable=SC2046
    cc -std=c11 -O2 -Wall -Wextra -Werror -o "$WORK/e2e_js_watch" "$HERE/e2e_js_watch.c" \
        $(pkg-config --cflags --libs libnats)
}

e2e_js_nats_url() { echo "nats://127.0.0.1:$((PORT_BASE + 7 + $1))"; }

# e2e_js_start_nats DIR: a 3-node cluster "hg" (the approach of
# tests/bench/deliver); returns once every node's /healthz answers 200
# (JetStream up, meta leader known).
e2e_js_start_nats() {
    local dir=$1 k p routes=
    for ((k = 1; k <= 3; k++)); do
        for p in $((PORT_BASE + 7 + k)) $((PORT_BASE + 10 + k)) $((PORT_BASE + 13 + k)); do
            if port_in_use "$p"; then
                log "port $p on 127.0.0.1 is already in use (set PORT_BASE)"
                return 1
            fi
        done
        routes+="${routes:+,}nats://127.0.0.1:$((PORT_BASE + 10 + k))"
    done
    for ((k = 1; k <= 3; k++)); do
        mkdir -m 700 "$dir/nats$k"
        nats-server -js -a 127.0.0.1 -p $((PORT_BASE + 7 + k)) -m $((PORT_BASE + 13 + k)) \
            -sd "$dir/nats$k" -n "node$k" --cluster_name hg \
            --cluster "nats://127.0.0.1:$((PORT_BASE + 10 + k))" --routes "$routes" \
            >"$dir/nats$k.log" 2>&1 &
        E2E_JS_NATS+=($!)
        E2E_JS_PIDS+=($!)
    done
    local deadline=$((SECONDS + 20))
    for ((k = 1; k <= 3; k++)); do
        until curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$((PORT_BASE + 13 + k))/healthz"; do
            if ((SECONDS >= deadline)); then
                log "nats-server node$k not healthy after 20 s; its log:"
                tail -n 20 "$dir/nats$k.log" | sed 's/^/    /' >&2
                return 1
            fi
            sleep 0.05
        done
    done
}

# e2e_js_metric PORT NAME: the sum of NAME's samples on hookgate's /metrics.
e2e_js_metric() {
    curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
        awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d\n", s }'
}

# e2e_js_sum NAME: NAME summed over every running instance.
e2e_js_sum() {
    local i tot=0
    for ((i = 1; i <= E2E_JS_NINST; i++)); do
        tot=$((tot + $(e2e_js_metric $((PORT_BASE + 5 + i)) "$1")))
    done
    echo "$tot"
}

# e2e_js_backlog_seq: "BACKLOG LAST_SEQ" summed over the instances, one
# /metrics request each (it runs on the drain clock).
e2e_js_backlog_seq() {
    local i
    for ((i = 1; i <= E2E_JS_NINST; i++)); do
        curl -s --max-time 5 "http://127.0.0.1:$((PORT_BASE + 5 + i))/metrics"
    done | awk 'index($1, "hookgate_backlog_events{") == 1 { b += $NF }
                $1 == "hookgate_last_seq" { s += $NF } END { printf "%d %d\n", b, s }'
}

# e2e_js_info KEY: a field of `js_read info` (msgs, replicas, leader, ...).
e2e_js_info() {
    "$WORK/js_read" info "$E2E_JS_URLS" BENCH 2>/dev/null | sed -n "s/^$1=//p"
}

# e2e_js_cpu PID...: CPU seconds (user + system) used so far.
e2e_js_cpu() {
    local p tot=0
    for p in "$@"; do
        [[ -r /proc/$p/stat ]] || continue
        tot=$((tot + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
    done
    awk -v t="$tot" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'
}

# e2e_js_wrk OUT START COUNT SECONDS [--latency]: one wrk process, THREADS
# threads per instance, CONNECTIONS in all, thread i on instance i mod NINST.
e2e_js_wrk() {
    local out=$1 start=$2 count=$3 secs=$4 i ports=
    shift 4
    for ((i = 1; i <= E2E_JS_NINST; i++)); do
        ports+="${ports:+,}$((PORT_BASE + 5 + i))"
    done
    local nt=$((THREADS * E2E_JS_NINST))
    E2E_JS_PORTS=$ports wrk -t"$nt" -c"$CONNECTIONS" -d"${secs}s" --timeout "$WRK_TIMEOUT" "$@" \
        -s "$HERE/e2e_js_post.lua" "http://127.0.0.1:$((PORT_BASE + 6))" -- /webhooks "$REQS" \
        "$nt" "$start" "$count" >"$out" 2>&1 || true
    grep -q '^BENCH ' "$out"
}

# e2e_js_fail T STATUS MESSAGE
e2e_js_fail() {
    log "$1: $3"
    RES[$1.status]=$2
    FAILED=1
    e2e_js_cleanup
}

e2e_js_target() { # hookgate-js-r3 | hookgate2-js-r3
    local t=$1 dir=$WORK/$1 i k
    E2E_JS_NINST=1
    [[ $t == hookgate2-* ]] && E2E_JS_NINST=2
    mkdir -p "$dir"
    if [[ ! -x $HOOKGATE ]]; then
        log "$t: $HOOKGATE does not exist or is not executable"
        RES[$t.status]="not built"
        FAILED=1
        return
    fi
    E2E_JS_URLS=$(for k in 1 2 3; do e2e_js_nats_url "$k"; done | paste -sd,)

    sync
    log "$t: starting a 3-node nats-server cluster"
    e2e_js_start_nats "$dir" || {
        e2e_js_fail "$t" "start failed" "nats-server did not become healthy"
        return
    }
    local servers
    servers=$(tr ',' '\n' <<<"$E2E_JS_URLS" | jq -R . | jq -s .)
    for ((i = 1; i <= E2E_JS_NINST; i++)); do
        local port=$((PORT_BASE + 5 + i))
        mkdir -m 700 "$dir/data$i"
        write_hookgate_config "$dir/config$i.tmp" "127.0.0.1:$port" false "$dir/data$i"
        jq --argjson s "$servers" '.sinks = {out: {type: "jetstream", servers: $s,
            subject: "hooks.{route}.{type}",
            stream: {name: "BENCH", create: true, replicas: 3}, window: 256}}' \
            "$dir/config$i.tmp" >"$dir/config$i.json"
        rm -f "$dir/config$i.tmp"
        log "$t: starting hookgate $i on port $port (jetstream sink, stream BENCH R3, window 256)"
        if ! start_server "$t" "http://127.0.0.1:$port/webhooks" /dev/null "$dir/stderr$i.log" \
            "$HOOKGATE" serve -c "$dir/config$i.json"; then
            e2e_js_fail "$t" "start failed" "hookgate $i did not start"
            return
        fi
        E2E_JS_HG+=("$SERVER_PID")
        E2E_JS_PIDS+=("$SERVER_PID")
        SERVER_PID=
        # The first instance creates the stream; the second only checks it.
        # Start them one after the other so that they do not race to create.
        # Wait for the stream's leader too: until it is elected, STREAM.INFO
        # is answered (replicas 3, no leader) but a publish gets "no
        # responders" and is retried after the sink's backoff.
        local deadline=$((SECONDS + READY_TIMEOUT))
        until [[ $(e2e_js_info replicas) == 3 && -n $(e2e_js_info leader) ]]; do
            if ((SECONDS >= deadline)); then
                e2e_js_fail "$t" "start failed" "stream BENCH (R3) not there ${READY_TIMEOUT}s after hookgate $i started"
                return
            fi
            sleep 0.1
        done
    done
    RES[$t.js_leader]=$(e2e_js_info leader)

    log "$t: warm-up ${WARMUP}s"
    if ! e2e_js_wrk "$dir/warmup.txt" "$N" "$WARMUP_N" "$WARMUP"; then
        log "$t: wrk failed during warm-up:"
        sed 's/^/    /' "$dir/warmup.txt" >&2
        e2e_js_fail "$t" "wrk failed" "wrk failed"
        return
    fi
    # Start the measured run with an empty backlog, so that what is left at
    # its end is its own.
    local t0=$SECONDS
    until (($(e2e_js_sum hookgate_backlog_events) == 0)); do
        if ((SECONDS - t0 >= DRAIN_TIMEOUT)); then
            e2e_js_fail "$t" "drain failed" "the warm-up's backlog did not drain in ${DRAIN_TIMEOUT}s"
            return
        fi
        sleep 0.05
    done
    RES[$t.js_warm_drain]=$((SECONDS - t0))
    RES[$t.js_stored_start]=$(e2e_js_sum hookgate_last_seq)

    local cpu_hg0 cpu_nats0
    cpu_hg0=$(e2e_js_cpu "${E2E_JS_HG[@]}")
    cpu_nats0=$(e2e_js_cpu "${E2E_JS_NATS[@]}")
    # The drain clock: connected now, started by $dir/go once the load stops.
    "$WORK/e2e_js_watch" "$(e2e_js_nats_url 1)" BENCH "$dir/go" "$DRAIN_TIMEOUT" \
        >"$dir/watch.txt" 2>"$dir/watch.log" &
    E2E_JS_WATCH=$!
    # The backlog once a second during the load: bounded or growing?
    (
        sleep 1
        while :; do
            read -r b _ < <(e2e_js_backlog_seq)
            echo "$b" >>"$dir/backlog.txt"
            sleep 1
        done
    ) &
    E2E_JS_SAMPLER=$!
    log "$t: measuring ${DURATION}s, $CONNECTIONS connections over $E2E_JS_NINST instance(s)," \
        "$((THREADS * E2E_JS_NINST)) wrk thread(s)"
    if ! e2e_js_wrk "$dir/wrk.txt" 0 "$N" "$DURATION" --latency; then
        log "$t: wrk failed:"
        sed 's/^/    /' "$dir/wrk.txt" >&2
        e2e_js_fail "$t" "wrk failed" "wrk failed"
        return
    fi
    local t_end
    t_end=$(date +%s%N)
    # The load has stopped: what is stored, and what is not yet in the stream.
    local backlog stored
    read -r backlog stored < <(e2e_js_backlog_seq)
    kill "$E2E_JS_SAMPLER" 2>/dev/null || true
    RES[$t.js_backlog]=$backlog
    RES[$t.js_stored_end]=$stored
    local rc=0
    echo "$stored $t_end" >"$dir/go.tmp"
    mv "$dir/go.tmp" "$dir/go"
    wait "$E2E_JS_WATCH" || rc=$?
    E2E_JS_WATCH=
    wait "$E2E_JS_SAMPLER" 2>/dev/null || true
    E2E_JS_SAMPLER=
    RES[$t.js_samples]=$(paste -sd' ' "$dir/backlog.txt" 2>/dev/null || true)
    RES[$t.js_cpu_hg]=$(awk -v a="$cpu_hg0" -v b="$(e2e_js_cpu "${E2E_JS_HG[@]}")" \
        'BEGIN { printf "%.1f", b - a }')
    RES[$t.js_cpu_nats]=$(awk -v a="$cpu_nats0" -v b="$(e2e_js_cpu "${E2E_JS_NATS[@]}")" \
        'BEGIN { printf "%.1f", b - a }')
    if [[ $VERBOSE == 1 ]]; then
        sed 's/^/    /' "$dir/wrk.txt" >&2
    fi
    RES[$t.js_drain_s]=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' "$dir/watch.txt")
    RES[$t.js_first_msgs]=$(sed -n 's/.* first_msgs=\([0-9]*\).*/\1/p' "$dir/watch.txt")
    ((rc == 0)) || RES[$t.js_drain_failed]=1

    # Settle (requests in flight when wrk stopped may commit a moment later),
    # then compare the stream with the stores and with what wrk saw.
    t0=$SECONDS
    until (($(e2e_js_sum hookgate_backlog_events) == 0)) || ((SECONDS - t0 >= 10)); do
        sleep 0.1
    done
    RES[$t.js_backlog_final]=$(e2e_js_sum hookgate_backlog_events)
    RES[$t.js_stored]=$(e2e_js_sum hookgate_last_seq)
    RES[$t.js_msgs]=$(e2e_js_info msgs)
    RES[$t.js_dups]=$(e2e_js_sum hookgate_publish_duplicates_total)
    RES[$t.js_retries]=$(e2e_js_sum hookgate_delivery_retries_total)
    local split=
    for ((i = 1; i <= E2E_JS_NINST; i++)); do
        split+="${split:+/}$(e2e_js_metric $((PORT_BASE + 5 + i)) hookgate_last_seq)"
    done
    RES[$t.js_split]=$split
    local died=
    for i in "${E2E_JS_HG[@]}" "${E2E_JS_NATS[@]}"; do
        kill -0 "$i" 2>/dev/null || died=1
    done
    e2e_js_cleanup

    local key
    for key in rps p50_us p99_us ok non200 sent reused wrapped err_connect err_read err_write \
        err_timeout codes; do
        RES[$t.$key]=$(bench_get "$dir/wrk.txt" "$key")
    done
    RES[$t.errors]=$((${RES[$t.err_connect]} + ${RES[$t.err_read]} + ${RES[$t.err_write]} +
        ${RES[$t.err_timeout]}))
    RES[$t.warm_ok]=$(bench_get "$dir/warmup.txt" ok)
    RES[$t.warm_reused]=$(bench_get "$dir/warmup.txt" reused)
    RES[$t.warm_bad]=$(($(bench_get "$dir/warmup.txt" non200) +
        $(bench_get "$dir/warmup.txt" err_connect) + $(bench_get "$dir/warmup.txt" err_read) +
        $(bench_get "$dir/warmup.txt" err_write) + $(bench_get "$dir/warmup.txt" err_timeout)))
    local lo hi msgs=${RES[$t.js_msgs]:-0} stored_f=${RES[$t.js_stored]}
    lo=$((${RES[$t.warm_ok]} - ${RES[$t.warm_reused]} + ${RES[$t.ok]} - ${RES[$t.reused]}))
    ((lo < 0)) && lo=0
    hi=$(($(bench_get "$dir/warmup.txt" sent) + ${RES[$t.sent]}))
    RES[$t.js_lo]=$lo
    RES[$t.js_hi]=$hi
    RES[$t.status]=ok
    local why=
    ((${RES[$t.non200]} == 0 && ${RES[$t.errors]} == 0 && ${RES[$t.warm_bad]} == 0)) ||
        why+="${why:+; }non-200 or socket errors"
    [[ -z $died ]] || why+="${why:+; }a hookgate or nats-server died during the run"
    [[ -z ${RES[$t.js_drain_failed]:-} ]] ||
        why+="${why:+; }the stream did not reach the $stored events stored at the end of the load within ${DRAIN_TIMEOUT}s"
    ((msgs == stored_f)) || why+="${why:+; }the stream holds $msgs messages, the stores $stored_f events"
    ((stored_f >= lo && stored_f <= hi)) ||
        why+="${why:+; }$stored_f events stored, expected $lo..$hi from wrk's counts"
    ((${RES[$t.js_backlog_final]} == 0)) ||
        why+="${why:+; }backlog ${RES[$t.js_backlog_final]} after the drain"
    if [[ -n $why ]]; then
        RES[$t.status]=INVALID
        RES[$t.js_why]=$why
        INVALID=1
    fi
    [[ $KEEP == 1 ]] || rm -rf "$dir"/data* "$dir"/nats[123]
    log "$t: $(printf '%.0f' "${RES[$t.rps]}") req/s, p50 ${RES[$t.p50_us]} us," \
        "p99 ${RES[$t.p99_us]} us; backlog at the end ${RES[$t.js_backlog]}," \
        "stream complete ${RES[$t.js_drain_s]} s after the load"
}

# The lines below run's table.
e2e_js_report() {
    local t any=0
    for t in $TARGETS; do
        [[ $t == *-js-r3 && -n ${RES[$t.rps]:-} ]] || continue
        if ((!any)); then
            echo
            echo "End to end (HTTP -> hookgate -> JetStream stream BENCH, R3 on 3 local nodes):"
            any=1
        fi
        local rate
        rate=$(awk -v n="$((${RES[$t.js_stored_end]} - ${RES[$t.js_stored_start]}))" \
            -v d="$(bench_get "$WORK/$t/wrk.txt" duration_us)" -v s="${RES[$t.js_drain_s]:-0}" \
            'BEGIN { printf "%.0f", n / (d / 1e6 + s) }')
        printf '%s: at the end of the load %d of %d stored events not yet published (hookgate_backlog_events), stream had %d;' \
            "$t" "${RES[$t.js_backlog]}" "${RES[$t.js_stored_end]}" "${RES[$t.js_first_msgs]:-0}"
        printf ' it held all %d %.3f s after the load stopped%s\n' "${RES[$t.js_stored_end]}" \
            "${RES[$t.js_drain_s]:-0}" "${RES[$t.js_drain_failed]:+ (TIMED OUT)}"
        printf '    stream %d msgs = stored %d (per instance %s), 200s %d (+%d warm-up), expected %d..%d;' \
            "${RES[$t.js_msgs]:-0}" "${RES[$t.js_stored]}" "${RES[$t.js_split]}" "${RES[$t.ok]}" \
            "${RES[$t.warm_ok]}" "${RES[$t.js_lo]}" "${RES[$t.js_hi]}"
        printf ' publish duplicates %d, retries %d; CPU s during load + drain: hookgate %s, nats-server %s; warm-up drained in ~%ds\n' \
            "${RES[$t.js_dups]}" "${RES[$t.js_retries]}" "${RES[$t.js_cpu_hg]}" \
            "${RES[$t.js_cpu_nats]}" "${RES[$t.js_warm_drain]}"
        printf '    backlog during the load, about once a second: %s\n' "${RES[$t.js_samples]:--}"
        if [[ -n ${RES[$t.js_drain_failed]:-} ]] ||
            awk -v s="${RES[$t.js_drain_s]:-0}" 'BEGIN { exit !(s >= 1) }'; then
            printf '    publishing did NOT keep up: ingest %.0f req/s, publish (events of the measured run / (load + drain)) ~%s events/s\n' \
                "${RES[$t.rps]}" "$rate"
        else
            printf '    publishing kept up, less than 1 s behind ingest: ingest %.0f req/s, publish ~%s events/s (measured-run events / (load + drain))\n' \
                "${RES[$t.rps]}" "$rate"
        fi
        [[ -n ${RES[$t.js_why]:-} ]] && echo "WARNING: $t is INVALID: ${RES[$t.js_why]}"
    done
    return 0
}
