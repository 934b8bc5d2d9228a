#!/usr/bin/env bash
# Benchmark (not a test): the maximum request rate of `apictl loadtest`
# against the vegeta CLI (same library version), wrk and hey, all hitting one
# trivial loopback server in the same run, over plain http and over HTTPS
# (TLS 1.3, keep-alive, HTTP/1.1, a server of its own with a self-signed
# certificate), then the peak RSS of a 1M-request `apictl loadtest` attack.
# See bench/README.md.
#
# Usage: bench/loadtest-max-rate.sh            (from the repository root)
# Env:   DURATION=10s  CONCURRENCY=64  RUNS=2  SCHEMES="http https"
#        REQUESTS=1000000  SKIP_RSS=1  SKIP_VEGETA_RSS=1
set -euo pipefail

DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-64}
REQUESTS=${REQUESTS:-1000000}
RUNS=${RUNS:-2}
SCHEMES=${SCHEMES:-http https}
ADDR=${ADDR:-127.0.0.1:18080}
TLS_ADDR=${TLS_ADDR:-127.0.0.1:18443}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
need jq || { echo "bench: jq is needed to read JSON results" >&2; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "# building apictl and the bench server" >&2
(cd "$root" && go build -o "$work/apictl" ./cmd/apictl && go build -o "$work/server" ./bench/server)
vegeta_bin=$(command -v vegeta || true)
if [[ -z "$vegeta_bin" && -x "$(go env GOPATH)/bin/vegeta" ]]; then vegeta_bin="$(go env GOPATH)/bin/vegeta"; fi

"$work/server" -addr "$ADDR" 2>"$work/server.log" &
pids+=($!)
"$work/server" -addr "$TLS_ADDR" -tls 2>"$work/server-tls.log" &
pids+=($!)
for u in "http://$ADDR/" "https://$TLS_ADDR/"; do
	for _ in $(seq 50); do
		if curl -kfsS "$u" >/dev/null 2>&1; then break; fi
		sleep 0.1
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# maxrate SCHEME RUN: every generator in turn, as fast as it goes, then the ratios.
maxrate() {
	local scheme=$1 run=$2 url insecure=() vinsecure=()
	declare -A rate
	if [[ $scheme == https ]]; then
		url="https://$TLS_ADDR/"
		insecure=(--insecure)
		vinsecure=(-insecure -http2=false)
	else
		url="http://$ADDR/"
	fi
	echo
	echo "## $scheme, run $run: $DURATION each, $CONCURRENCY workers/connections, $url, $(nproc) cores, load average $(loadavg)"

	# apictl: open-model engine capped at CONCURRENCY workers, rate 0 = as fast as they go.
	"$work/apictl" loadtest "$url" "${insecure[@]}" --rate 0 --max-workers "$CONCURRENCY" --duration "$DURATION" \
		--no-abort -q -o json >"$work/apictl.json" || true
	rate[apictl]=$(jq -r '.steps[0].achieved_rate' "$work/apictl.json")
	echo "apictl loadtest     $(printf '%10.0f' "${rate[apictl]}") req/s  (success $(jq -r '.steps[0].success_ratio' "$work/apictl.json"))  load $(loadavg)"

	sleep 1
	if [[ -n "$vegeta_bin" ]]; then
		echo "GET $url" >"$work/targets.txt"
		"$vegeta_bin" attack "${vinsecure[@]}" -targets "$work/targets.txt" -rate 0 -max-workers "$CONCURRENCY" -duration "$DURATION" \
			>"$work/vegeta.bin"
		"$vegeta_bin" report -type json "$work/vegeta.bin" >"$work/vegeta.json"
		rate[vegeta]=$(jq -r '.rate' "$work/vegeta.json")
		echo "vegeta attack       $(printf '%10.0f' "${rate[vegeta]}") req/s  (success $(jq -r '.success' "$work/vegeta.json"))  load $(loadavg)"
	else
		echo "vegeta: not installed (go install github.com/tsenart/vegeta/v12@v12.13.0), skipped"
	fi

	sleep 1
	if need wrk; then
		wrk -t 2 -c "$CONCURRENCY" -d "$DURATION" "$url" >"$work/wrk.txt"
		rate[wrk]=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
		echo "wrk                 $(printf '%10.0f' "${rate[wrk]}") req/s  load $(loadavg)"
	else
		echo "wrk: not installed (apt-get install wrk), skipped"
	fi

	sleep 1
	if need hey; then
		# (hey does not verify certificates and speaks HTTP/1.1 unless -h2)
		hey -z "$DURATION" -c "$CONCURRENCY" "$url" >"$work/hey.txt"
		rate[hey]=$(awk '/Requests\/sec:/ {print $2}' "$work/hey.txt")
		echo "hey                 $(printf '%10.0f' "${rate[hey]}") req/s  load $(loadavg)"
	else
		echo "hey: not installed (apt-get install hey), skipped"
	fi

	local wgoal=0.9
	[[ $scheme == https ]] && wgoal=0.8
	[[ -n "${rate[vegeta]:-}" ]] && echo "$scheme run $run: apictl / vegeta CLI = $(ratio "${rate[apictl]}" "${rate[vegeta]}")  (goal >= 1.3)"
	[[ -n "${rate[wrk]:-}" ]] && echo "$scheme run $run: apictl / wrk        = $(ratio "${rate[apictl]}" "${rate[wrk]}")  (goal >= $wgoal)"
	[[ -n "${rate[hey]:-}" ]] && echo "$scheme run $run: apictl / hey        = $(ratio "${rate[apictl]}" "${rate[hey]}")"
	last_rate=${rate[apictl]}
	return 0
}

last_rate=0
for run in $(seq "$RUNS"); do
	for scheme in $SCHEMES; do
		maxrate "$scheme" "$run"
		[[ $scheme == http ]] && http_rate=$last_rate
		sleep 1
	done
done

if [[ -z "${SKIP_RSS:-}" ]]; then
	URL="http://$ADDR/"
	echo "GET $URL" >"$work/targets.txt"
	# About REQUESTS requests as fast as CONCURRENCY workers go (a fixed rate
	# the machine cannot hold would be stopped as "generator behind").
	d=$(awk -v n="$REQUESTS" -v r="${http_rate:-$last_rate}" 'BEGIN { printf "%d", 1.1 * n / r + 1 }')
	echo
	echo "## peak RSS: apictl loadtest $URL --rate 0 --max-workers $CONCURRENCY --duration ${d}s (~$REQUESTS requests), load average $(loadavg)"
	# (exit code 3 only says the objectives were missed on a busy machine)
	/usr/bin/time -v "$work/apictl" loadtest "$URL" --rate 0 --max-workers "$CONCURRENCY" --duration "${d}s" --no-abort -q -o json \
		>"$work/rss.json" 2>"$work/rss.txt" || true
	rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/rss.txt")
	echo "apictl:  $(jq -r '.steps[0].requests' "$work/rss.json") requests at $(jq -r '.steps[0].achieved_rate' "$work/rss.json") req/s, peak RSS $((rss / 1024)) MB  (goal < 150 MB)"
	if [[ -n "$vegeta_bin" && -z "${SKIP_VEGETA_RSS:-}" ]]; then
		/usr/bin/time -v "$vegeta_bin" attack -targets "$work/targets.txt" -rate 0 -max-workers "$CONCURRENCY" -duration "${d}s" \
			>"$work/vrss.bin" 2>"$work/vrss.txt" || true
		vrss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/vrss.txt")
		echo "vegeta attack (results to a file): $("$vegeta_bin" report -type json "$work/vrss.bin" | jq -r '.requests') requests, peak RSS $((vrss / 1024)) MB"
	fi
fi
