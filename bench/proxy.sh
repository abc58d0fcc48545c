#!/usr/bin/env bash
# `./x bench proxy`: our engine (gatehouse-proxy) against Debian's nginx configured as Cisco's
# OpenResty reverse proxy runs it (bench/proxy/nginx.conf.in), in the same run, in front of the
# same upstream, under the same load: requests per second and CPU time per request of the proxy
# process(es), for two paths:
#
#   static  GET /desktop/assets/bench.js, no credentials: both proxies answer from their cache
#           (the engine's static cache, nginx's proxy_cache, each 24 h); the upstream is asked
#           once, by the first request.
#   pass    GET /desktop/assets/bench.js?v=1, no credentials: a static file with a query, which
#           both pass on to the upstream every time without keeping it (the engine's rule for
#           queries; nginx told likewise with proxy_cache_bypass/proxy_no_cache $args): the
#           same work for both, forwarding alone.
#   auth    GET /finesse/api/SystemInfo with an agent's Basic credentials: the engine checks
#           them (against Finesse once, then its 15-minute cache of a keyed hash) and forwards
#           over its kept-alive upstream connections; nginx has no edge authentication (Cisco's
#           does it in Lua) and only passes the request on. So on this path the engine does
#           more work than nginx does.
#
# Fairness. Each proxy gets one core and one thread of work: both are pinned to core 1
# (`taskset -c 1`), nginx with `worker_processes 1`, the engine with GATEHOUSE_PROXY_WORKERS=1
# (one worker thread serving the connections; its other thread is the main thread, which
# accepts them and watches the configuration file, as nginx's master process watches). The load generator (wrk, one thread, HTTP/1.1 over TLS, kept-alive connections) and
# the upstream run on core 0 (the upstream on core 2 when the machine has one). Both proxies
# close a client connection after 500 requests (the installer's keepalive_requests), so TLS
# handshakes are in the figures, amortised alike. The engine runs every check it runs in
# production: its rate and connection limits are raised for the one client address, not
# bypassed (listing 127.0.0.1 as a forwarder would exempt it from bans and rates altogether);
# nginx looks up its limit_req and limit_conn zones likewise. Neither writes an access log.
#
# The upstream is the appliance simulator (gatehouse-sim: a Finesse node, rustls and axum on
# one tokio worker): the same for both proxies, and what the engine is built to face. It needs
# about 9-11 µs of CPU per forwarded request, so beside wrk on core 0 it keeps up with a proxy
# serving ~50k requests/s; past that, core 0 (wrk and the upstream) fills before the proxy's
# core, which each run shows (the proxy's own CPU share, each core's busy share, the
# upstream's CPU per request). The proxy's CPU time per request stays its own either way, which
# is why it is the figure to compare; a plain nginx upstream would not change it.
# CPU time per request is read from /proc/<pid>/stat (utime + stime; for nginx the master,
# its workers, and the children it reaped) before and after each measured interval.
#
# Settings (environment): PROXY_BENCH_SECONDS (8 per measure), PROXY_BENCH_WARMUP (2),
# PROXY_BENCH_ROUNDS (3; medians are reported), PROXY_BENCH_CONNECTIONS (64),
# PROXY_BENCH_PAIRED_ROUNDS (3; 0: none) rounds of the forwarded paths with both proxies loaded
# at once (see `paired`), PROXY_BENCH_NO_BUILD (set: use the binaries already in the target
# directory),
# PROXY_BENCH_HOLD (set: start and check both proxies, print their pids and ports, and wait
# for an interrupt instead of measuring; for profiling with perf or strace).
# Needs: wrk, nginx, openssl, curl, python3, taskset (./x bench proxy installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
HOST_CARGO=${HOST_CARGO:-cargo}
SECS=${PROXY_BENCH_SECONDS:-8}
WARMUP=${PROXY_BENCH_WARMUP:-2}
ROUNDS=${PROXY_BENCH_ROUNDS:-3}
CONNS=${PROXY_BENCH_CONNECTIONS:-64}
# Raised limits: far above what one core can serve, so nothing is refused; still checked.
RATE=1000000
CONN_LIMIT=4096
AGENT=agent1
AGENT_PASSWORD='Agent!pass1'
INTERNAL=finesse1.sim.test

log() { printf '\033[1;34m==>\033[0m [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

for tool in wrk nginx openssl curl python3 taskset; do
    command -v "$tool" >/dev/null || die "$tool is missing (./x bench proxy installs it)"
done
CORES=$(nproc)
[ "$CORES" -ge 2 ] || die "needs 2 cores (one for the proxy, one for the load)"
PROXY_CORE=1
LOAD_CORE=0
UPSTREAM_CORE=$([ "$CORES" -ge 3 ] && echo 2 || echo 0)

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TMP=$(mktemp -d -t gatehouse-proxy-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${PROXY_BENCH_NO_BUILD:-}" ]; then
    log "building gatehouse-proxy (profile proxy: as deployed) and gatehouse-sim (release)"
    SQLX_OFFLINE=true "$HOST_CARGO" build --quiet --profile proxy -p proxy
    SQLX_OFFLINE=true "$HOST_CARGO" build --quiet --release -p sim
fi
PROXY_BIN=$TARGET_DIR/proxy/gatehouse-proxy
SIM_BIN=$TARGET_DIR/release/gatehouse-sim

free_ports() {
    python3 -c '
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}
read -r ENGINE_PORT NGINX_PORT STATUS_PORT SIM_PORT <<<"$(free_ports 4)"

# The upstream: one simulated Finesse node with one agent.
cat >"$TMP/fleet.toml" <<EOF
[[cluster]]
name = "Bench"

[[cluster.node]]
fqdn = "$INTERNAL"
kind = "finesse"
password = "Admin!pass1"
ssh_port = 0
https_ports = [$SIM_PORT]

[[cluster.node.agent]]
id = "$AGENT"
password = "$AGENT_PASSWORD"
first_name = "Ada"
last_name = "Agent"
EOF
log "starting the upstream (gatehouse-sim, core $UPSTREAM_CORE)"
RUST_LOG=warn TOKIO_WORKER_THREADS=1 taskset -c "$UPSTREAM_CORE" \
    "$SIM_BIN" --fleet "$TMP/fleet.toml" --state "$TMP/fleet.state.json" 2>"$TMP/sim.log" &
SIM_PID=$!
PIDS+=("$SIM_PID")
for _ in $(seq 300); do
    grep -q 'nodes running' "$TMP/sim.log" && break
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$TMP/sim.log" >&2; die "the simulator did not start"; }
    sleep 0.1
done
grep -q 'nodes running' "$TMP/sim.log" || die "the simulator did not start within 30 s"
# Its tomcat certificate (self-signed, for its FQDN): what both proxies trust upstream.
openssl s_client -connect "127.0.0.1:$SIM_PORT" -servername "$INTERNAL" </dev/null 2>/dev/null \
    | openssl x509 >"$TMP/upstream.pem"
grep -q 'BEGIN CERTIFICATE' "$TMP/upstream.pem" || die "could not read the simulator's certificate"

# The proxies' listener certificate (RSA-2048, as the installer's are usually) for localhost:
# wrk takes the TLS server name from the URL, and the engine routes by that name.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$TMP/edge.key" -out "$TMP/edge.pem" 2>/dev/null

# Our engine: one listener, one Finesse route to the simulator, its trust; defaults otherwise
# (the installer's), but for the per-address limits.
python3 - "$TMP" "$ENGINE_PORT" "$STATUS_PORT" "$SIM_PORT" "$INTERNAL" "$RATE" "$CONN_LIMIT" <<'EOF'
import json, sys
tmp, port, status, sim, internal, rate, conns = sys.argv[1:]
config = {
    "schema": 1, "version": 1, "pair": "bench",
    "listeners": [{"address": f"127.0.0.1:{port}",
                   "certificates": [{"certificate": f"{tmp}/edge.pem", "key": f"{tmp}/edge.key"}]}],
    "routes": [{"external": f"localhost:{port}", "internal": f"{internal}:8445",
                "address": f"127.0.0.1:{sim}", "component": "finesse"}],
    "limits": {"rates": {"finesse": {"per_second": int(rate), "burst": int(rate)}},
               "http1_connections": int(conns)},
    "upstream": {"trust": [open(f"{tmp}/upstream.pem").read()]},
    "status": {"address": f"127.0.0.1:{status}"},
}
json.dump(config, open(f"{tmp}/engine.json", "w"), indent=2)
EOF
"$PROXY_BIN" check "$TMP/engine.json" >/dev/null || die "the engine refuses the bench configuration"

mkdir -p "$TMP/nginx"
user_line=""
# As root, nginx would run its worker as nobody, who cannot enter the temporary directory.
[ "$(id -u)" = 0 ] && user_line="user root;"
sed -e "s|@USER@|$user_line|" -e "s|@DIR@|$TMP/nginx|g" -e "s|@PORT@|$NGINX_PORT|" \
    -e "s|@UPSTREAM@|127.0.0.1:$SIM_PORT|" -e "s|@CERT@|$TMP/edge.pem|" -e "s|@KEY@|$TMP/edge.key|" \
    -e "s|@TRUST@|$TMP/upstream.pem|" -e "s|@INTERNAL@|$INTERNAL|" -e "s|@RATE@|$RATE|g" \
    -e "s|@CONNECTIONS@|$CONN_LIMIT|" bench/proxy/nginx.conf.in >"$TMP/nginx/nginx.conf"
nginx -t -q -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" \
    || die "nginx refuses the bench configuration"

log "starting gatehouse-proxy and nginx (both on core $PROXY_CORE)"
GATEHOUSE_PROXY_LOG=warn GATEHOUSE_PROXY_WORKERS=1 taskset -c "$PROXY_CORE" \
    "$PROXY_BIN" run --config "$TMP/engine.json" --instance bench 2>"$TMP/engine.log" &
ENGINE_PID=$!
PIDS+=("$ENGINE_PID")
taskset -c "$PROXY_CORE" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")

STATIC_PATH=/desktop/assets/bench.js
AUTH_PATH=/finesse/api/SystemInfo
AUTH_HEADER="Authorization: Basic $(printf '%s:%s' "$AGENT" "$AGENT_PASSWORD" | base64)"
declare -A PORT_OF=([engine]=$ENGINE_PORT [nginx]=$NGINX_PORT)
PASS_PATH="$STATIC_PATH?v=1"
declare -A PATH_OF=([static]=$STATIC_PATH [pass]=$PASS_PATH [auth]=$AUTH_PATH)

# One request through each proxy on each path must be a 200 with what the simulator serves.
for proxy in engine nginx; do
    for _ in $(seq 50); do
        curl -s -o /dev/null --cacert "$TMP/edge.pem" "https://localhost:${PORT_OF[$proxy]}/" && break
        sleep 0.1
    done
done
for proxy in engine nginx; do
    for path in static pass auth; do
        body=$(curl -sS --cacert "$TMP/edge.pem" -H "$AUTH_HEADER" -w '\n%{http_code}' \
            "https://localhost:${PORT_OF[$proxy]}${PATH_OF[$path]}") || die "$proxy: $path: no answer"
        code=${body##*$'\n'}
        [ "$code" = 200 ] || die "$proxy answered $code to ${PATH_OF[$path]}: ${body%$'\n'*}"
        case $path in
            static | pass) expect='simulated desktop file' ;;
            auth) expect='<SystemInfo>' ;;
        esac
        [[ $body == *"$expect"* ]] || die "$proxy: unexpected answer to ${PATH_OF[$path]}: $body"
    done
done
if [ -n "${PROXY_BENCH_HOLD:-}" ]; then
    # For profiling: everything up and checked; load it by hand until interrupted.
    log "holding: engine pid $ENGINE_PID port $ENGINE_PORT, nginx pid $NGINX_PID port $NGINX_PORT; Ctrl-C ends"
    echo "wrk -t1 -c$CONNS -d8s -H '$AUTH_HEADER' https://localhost:$ENGINE_PORT$AUTH_PATH" >&2
    sleep infinity & wait $!
fi
tls_of() {
    openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null \
        | awk '/^New, /{print $2 " " $5}'
}

# utime + stime of PIDS, in clock ticks; for nginx's master also what its exited children
# used (cutime + cstime), and its live children (the worker, the cache manager and loader).
ticks_of() {
    local pid total=0 f
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        f=$(sed 's/^.*) //' "/proc/$pid/stat")
        # After the name: state is field 3, so utime (14) and stime (15) are words 12 and 13,
        # cutime and cstime words 14 and 15.
        total=$((total + $(awk '{print $12 + $13 + $14 + $15}' <<<"$f")))
    done
    echo "$total"
}
proxy_pids() {
    case $1 in
        engine) echo "$ENGINE_PID" ;;
        nginx) echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true) ;;
    esac
}
# Busy ticks of one core since boot (user + nice + system + irq + softirq + steal).
core_busy() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
core_total() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# Runs wrk against PROXY on PATH for SECONDS; prints: requests seconds rps cpu_us_per_request
# proxy_cpu% proxy_core_busy% load_core_busy% upstream_cpu_us_per_request p50 p99 errors.
# proxy_cpu is the proxy's own CPU time over the interval (100: it had its core to itself and
# used all of it: the proxy was the bottleneck); a core's busy share counts anything on it.
measure() {
    local proxy=$1 path=$2 secs=$3 out="$TMP/wrk.out"
    local pids headers=()
    [ "$path" = auth ] && headers=(-H "$AUTH_HEADER")
    read -r -a pids <<<"$(proxy_pids "$proxy")"
    local t0 u0 pb0 pt0 lb0 lt0 w0
    t0=$(ticks_of "${pids[@]}"); u0=$(ticks_of "$SIM_PID")
    pb0=$(core_busy $PROXY_CORE); pt0=$(core_total $PROXY_CORE)
    lb0=$(core_busy $LOAD_CORE); lt0=$(core_total $LOAD_CORE)
    w0=$(date +%s%N)
    taskset -c "$LOAD_CORE" wrk -t1 -c"$CONNS" -d"${secs}s" --latency "${headers[@]}" \
        "https://localhost:${PORT_OF[$proxy]}${PATH_OF[$path]}" >"$out" 2>&1 || true
    local t1 u1 pb1 pt1 lb1 lt1 w1
    t1=$(ticks_of "${pids[@]}"); u1=$(ticks_of "$SIM_PID")
    pb1=$(core_busy $PROXY_CORE); pt1=$(core_total $PROXY_CORE)
    lb1=$(core_busy $LOAD_CORE); lt1=$(core_total $LOAD_CORE)
    w1=$(date +%s%N)
    awk -v dt=$((t1 - t0)) -v du=$((u1 - u0)) -v hz="$HZ" -v wall=$(((w1 - w0) / 1000000)) \
        -v pb=$((pb1 - pb0)) -v pt=$((pt1 - pt0)) -v lb=$((lb1 - lb0)) -v lt=$((lt1 - lt0)) '
        / requests in / { n = $1; s = $4; sub(/s,$/, "", s) }
        /^Requests\/sec:/ { rps = $2 }
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
        /^ +50% / { p50 = ms($2) } /^ +99% / { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { err += $NF }
        /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
        END {
            if (n == 0) { print "0 0 0 0 0 0 0 0 - - 0"; exit }
            printf "%d %s %.0f %.1f %.0f %.0f %.0f %.1f %.2f %.2f %d\n", n, s, rps, dt * 1e6 / hz / n,
                100 * dt / hz * 1000 / wall, pt ? 100 * pb / pt : 0, lt ? 100 * lb / lt : 0,
                du * 1e6 / hz / n, p50, p99, err + 0
        }' "$out"
}

engine_threads=$(awk '/^Threads:/{print $2}' "/proc/$ENGINE_PID/status")
nginx_workers=$(pgrep -P "$NGINX_PID" | while read -r p; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done | grep -c 'worker process' || true)
log "measuring: $ROUNDS rounds of ${SECS} s per proxy and path (after ${WARMUP} s of warm-up), $CONNS connections"

declare -A RESULTS=()
for round in $(seq "$ROUNDS"); do
    # Alternate which proxy goes first, so neither always meets a warmer machine.
    order=(engine nginx)
    [ $((round % 2)) = 0 ] && order=(nginx engine)
    for path in static pass auth; do
        for proxy in "${order[@]}"; do
            measure "$proxy" "$path" "$WARMUP" >/dev/null
            line=$(measure "$proxy" "$path" "$SECS")
            RESULTS[$proxy.$path.$round]=$line
            read -r n s rps cpu pcpu pbusy lbusy up p50 p99 err <<<"$line"
            printf '  round %d  %-6s %-6s %7s req/s  %5s µs CPU/req  proxy CPU %3s%%  cores %s/%s %3s%%/%3s%% busy  upstream %5s µs/req  p50 %5s ms  p99 %5s ms  errors %s\n' \
                "$round" "$proxy" "$path" "$rps" "$cpu" "$pcpu" "$PROXY_CORE" "$LOAD_CORE" "$pbusy" "$lbusy" "$up" "$p50" "$p99" "$err" >&2
        done
    done
done

# Paired rounds: both proxies loaded at once, each by a wrk of its own over the same window, so
# that whatever else the machine (a shared virtual machine's host) does weighs on both alike;
# a round's figure is the ratio of their CPU time per request. Both share core 1 then, so each
# serves fewer requests per wake-up and both figures are higher than alone; the ratio is what
# compares. Prints: engine_us nginx_us engine/nginx errors.
paired() {
    local path=$1 secs=$2 headers=() e n e0 n0 e1 n1 w
    [ "$path" = auth ] && headers=(-H "$AUTH_HEADER")
    read -r -a e <<<"$(proxy_pids engine)"
    read -r -a n <<<"$(proxy_pids nginx)"
    e0=$(ticks_of "${e[@]}"); n0=$(ticks_of "${n[@]}")
    taskset -c "$LOAD_CORE" wrk -t1 -c"$CONNS" -d"${secs}s" "${headers[@]}" \
        "https://localhost:$ENGINE_PORT${PATH_OF[$path]}" >"$TMP/paired.engine" 2>&1 &
    w=$!
    taskset -c "$LOAD_CORE" wrk -t1 -c"$CONNS" -d"${secs}s" "${headers[@]}" \
        "https://localhost:$NGINX_PORT${PATH_OF[$path]}" >"$TMP/paired.nginx" 2>&1 || true
    wait "$w" || true
    e1=$(ticks_of "${e[@]}"); n1=$(ticks_of "${n[@]}")
    awk -v de=$((e1 - e0)) -v dn=$((n1 - n0)) -v hz="$HZ" '
        FNR == 1 { f++ }
        / requests in / { req[f] = $1 }
        /Non-2xx or 3xx responses:/ { err += $NF }
        /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
        END {
            if (!req[1] || !req[2]) { print "0 0 0 0"; exit }
            a = de * 1e6 / hz / req[1]; b = dn * 1e6 / hz / req[2]
            printf "%.1f %.1f %.3f %d\n", a, b, a / b, err + 0
        }' "$TMP/paired.engine" "$TMP/paired.nginx"
}
PAIRED_ROUNDS=${PROXY_BENCH_PAIRED_ROUNDS:-3}
declare -A PAIRED_RESULTS=()
if [ "$PAIRED_ROUNDS" -gt 0 ]; then
    log "paired: $PAIRED_ROUNDS rounds of ${SECS} s per path, both proxies loaded at once"
    for path in pass auth; do
        paired "$path" "$WARMUP" >/dev/null
        for round in $(seq "$PAIRED_ROUNDS"); do
            line=$(paired "$path" "$SECS")
            PAIRED_RESULTS[$path.$round]=$line
            read -r a b ratio err <<<"$line"
            printf '  paired %d  %-6s engine %5s µs CPU/req  nginx %5s µs CPU/req  engine/nginx %s  errors %s\n' \
                "$round" "$path" "$a" "$b" "$ratio" "$err" >&2
        done
    done
fi

median() { tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
field() { # field N of every round of PROXY.PATH
    local r out=()
    for r in $(seq "$ROUNDS"); do out+=("$(awk -v i="$3" '{print $i}' <<<"${RESULTS[$1.$2.$r]}")"); done
    echo "${out[*]}"
}

echo
echo "Proxy engine vs nginx: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo))"
echo "load average before the run: $LOAD_BEFORE (1, 5, 15 min; 0 is an idle machine)"
echo "engine: gatehouse-proxy $("$PROXY_BIN" --version | awk '{print $2}'), 1 worker (GATEHOUSE_PROXY_WORKERS=1; $engine_threads OS threads in all), core $PROXY_CORE"
echo "nginx:  $(nginx -v 2>&1 | sed 's/^nginx version: //'), $nginx_workers worker process (worker_processes 1), core $PROXY_CORE"
echo "client TLS: engine $(tls_of "$ENGINE_PORT"), nginx $(tls_of "$NGINX_PORT"); upstream: gatehouse-sim (1 tokio worker, core $UPSTREAM_CORE)"
echo "load: wrk, 1 thread, $CONNS connections, HTTP/1.1, core $LOAD_CORE; ${SECS} s per measure, median of $ROUNDS rounds"
echo
printf '| path | proxy | requests/s | CPU µs/request | proxy CPU | core %s / core %s busy | upstream CPU µs/request | p99 latency | errors |\n' "$PROXY_CORE" "$LOAD_CORE"
printf '|---|---|---|---|---|---|---|---|---|\n'
for path in static pass auth; do
    for proxy in engine nginx; do
        case $path in
            static) what="$STATIC_PATH (cache)" ;;
            pass) what="$PASS_PATH (forwarded, no credentials)" ;;
            auth) what="$AUTH_PATH (Basic)" ;;
        esac
        errors=$(field "$proxy" "$path" 11 | tr ' ' '\n' | awk '{s += $1} END {print s + 0}')
        printf '| %s | %s | %s | %s | %s %% | %s / %s %% | %s | %s ms | %s |\n' "$what" "$proxy" \
            "$(field "$proxy" "$path" 3 | median)" "$(field "$proxy" "$path" 4 | median)" \
            "$(field "$proxy" "$path" 5 | median)" "$(field "$proxy" "$path" 6 | median)" \
            "$(field "$proxy" "$path" 7 | median)" "$(field "$proxy" "$path" 8 | median)" \
            "$(field "$proxy" "$path" 10 | tr ' ' '\n' | sort -g | tail -1)" "$errors"
    done
done
if [ "$PAIRED_ROUNDS" -gt 0 ]; then
    echo
    echo "Paired: both proxies loaded at once (a wrk each, the same ${SECS} s), so that the machine's"
    echo "other load weighs on both alike; they share core $PROXY_CORE, so both figures are higher"
    echo "than alone, and the ratio is the figure to read (below 1: the engine spends less)."
    echo
    printf '| path | engine CPU µs/request | nginx CPU µs/request | engine / nginx, median (rounds) | errors |\n'
    printf '|---|---|---|---|---|\n'
    for path in pass auth; do
        rounds=() ; es=() ; ns=() ; errs=0
        for round in $(seq "$PAIRED_ROUNDS"); do
            read -r a b ratio err <<<"${PAIRED_RESULTS[$path.$round]}"
            rounds+=("$ratio"); es+=("$a"); ns+=("$b"); errs=$((errs + err))
        done
        printf '| %s | %s | %s | **%s** (%s) | %s |\n' "${PATH_OF[$path]}" \
            "$(echo "${es[*]}" | median)" "$(echo "${ns[*]}" | median)" \
            "$(echo "${rounds[*]}" | median)" "$(echo "${rounds[*]}" | sed 's| | / |g')" "$errs"
    done
fi
echo
echo "The auth path is not the same work: the engine checks the agent's credentials on every"
echo "request (a keyed hash, cached 15 min) and nginx, without Cisco's Lua, only passes them on."
echo "Medians of the rounds; errors: non-2xx answers and socket errors, all rounds; p99: the"
echo "worst round's. Requests per second move with whatever else the machine runs;"
echo "CPU time per request, the proxy's own, is the steadier figure."
echo
echo "engine's own count of its answers (status port):"
curl -s "http://127.0.0.1:$STATUS_PORT/metrics" | grep -E '^gatehouse_proxy_(requests_total|cache)' | sed 's/^/  /' || true
# What each process logged (warnings and errors only), but the simulator's start.
for name in engine nginx upstream; do
    case $name in
        engine) f=$TMP/engine.log ;;
        nginx) f=$TMP/nginx/error.log ;;
        upstream) f=$TMP/sim.log ;;
    esac
    lines=$(grep -cvE 'nodes running|: ssh ' "$f" || true)
    [ "$lines" = 0 ] && continue
    echo "$name logged $lines lines, the last ones:"
    grep -vE 'nodes running|: ssh ' "$f" | tail -5 | sed 's/^/  /'
done
kill -0 "$ENGINE_PID" 2>/dev/null || echo "the engine is no longer running"
kill -0 "$NGINX_PID" 2>/dev/null || echo "nginx is no longer running"
