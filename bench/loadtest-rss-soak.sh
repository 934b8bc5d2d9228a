#!/usr/bin/env bash
# Benchmark (not a test): RSS of a long fixed-rate `apictl loadtest` attack,
# sampled over time, beside the vegeta CLI doing the same attack at the same
# time against the same trivial loopback server. Memory should stay flat
# with duration. See bench/README.md.
#
# Usage: bench/loadtest-rss-soak.sh            (from the repository root)
# Env:   SOAK=10m  RATE=2000  EVERY=10  SCHEME=http|https  SKIP_VEGETA=1
#        SOAK_OUT=FILE (keep apictl's JSON report)
#        MAX_WORKERS=N (apictl --max-workers, vegeta -max-workers; default uncapped, an open model
#        that starts a worker and a connection for every stall of a busy
#        machine, and keeps them: RSS then follows the descriptors column)
set -euo pipefail

SOAK=${SOAK:-10m}
RATE=${RATE:-2000}
EVERY=${EVERY:-10}
SCHEME=${SCHEME:-http}
ADDR=${ADDR:-127.0.0.1:18090}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "-"; }

echo "# building apictl and the bench server" >&2
(cd "$root" && go build -o "$work/apictl" ./cmd/apictl && go build -o "$work/server" ./bench/server)
vegeta_bin=$(command -v vegeta || true)
if [[ -z "$vegeta_bin" && -x "$(go env GOPATH)/bin/vegeta" ]]; then vegeta_bin="$(go env GOPATH)/bin/vegeta"; fi
[[ -n "${SKIP_VEGETA:-}" ]] && vegeta_bin=""

tlsflag=() insecure=() vinsecure=()
if [[ $SCHEME == https ]]; then
	tlsflag=(-tls) insecure=(--insecure) vinsecure=(-insecure -http2=false)
fi
url="$SCHEME://$ADDR/"
"$work/server" -addr "$ADDR" "${tlsflag[@]}" 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 50); do
	if curl -kfsS "$url" >/dev/null 2>&1; then break; fi
	sleep 0.1
done

echo "# $SOAK at $RATE rps against $url${MAX_WORKERS:+, apictl --max-workers $MAX_WORKERS}, RSS every ${EVERY}s; $(nproc) cores, load average $(loadavg)"
capped=() vcapped=()
[[ -n "${MAX_WORKERS:-}" ]] && capped=(--max-workers "$MAX_WORKERS") vcapped=(-max-workers "$MAX_WORKERS")
"$work/apictl" loadtest "$url" "${insecure[@]}" "${capped[@]}" --rate "$RATE" --duration "$SOAK" --no-abort -q -o json \
	>"$work/apictl.json" 2>"$work/apictl.err" &
apid=$!
pids+=("$apid")
vpid=""
if [[ -n "$vegeta_bin" ]]; then
	echo "GET $url" >"$work/targets.txt"
	# (results to /dev/null: vegeta keeps nothing in memory, apictl keeps its figures)
	"$vegeta_bin" attack "${vinsecure[@]}" "${vcapped[@]}" -targets "$work/targets.txt" -rate "$RATE" -duration "$SOAK" >/dev/null &
	vpid=$!
	pids+=("$vpid")
fi
printf '%8s %10s %8s %10s %8s  %s\n' "elapsed" "apictl MB" "fds" "vegeta MB" "fds" "load average"
start=$(date +%s)
peak=0
first=""
while kill -0 "$apid" 2>/dev/null; do
	a=$(rss_mb "$apid")
	v="-" vf="-"
	[[ -n "$vpid" ]] && v=$(rss_mb "$vpid") && vf=$(fds "$vpid")
	printf '%7ss %10s %8s %10s %8s  %s\n' "$(($(date +%s) - start))" "$a" "$(fds "$apid")" "$v" "$vf" "$(loadavg)"
	if [[ $a != "-" ]]; then
		[[ -z "$first" && $(($(date +%s) - start)) -ge $EVERY ]] && first=$a
		peak=$(awk -v a="$a" -v p="$peak" 'BEGIN { print (a > p ? a : p) }')
		last=$a
	fi
	sleep "$EVERY"
done
wait "$apid" || true
[[ -n "$vpid" ]] && { wait "$vpid" || true; }
echo
echo "apictl: $(jq -r '.steps[0].requests' "$work/apictl.json") requests at $(jq -r '.steps[0].achieved_rate' "$work/apictl.json") req/s, success $(jq -r '.steps[0].success_ratio' "$work/apictl.json")"
[[ -n "${SOAK_OUT:-}" ]] && cp "$work/apictl.json" "$SOAK_OUT"
echo "apictl RSS: ${first:-?} MB after ${EVERY}s, ${last:-?} MB at the end, peak $peak MB"
