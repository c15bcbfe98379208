#!/usr/bin/env bash
# serving-stages.sh: where predict's throughput goes at c=32, stage by stage.
#
# Runs, side by side on one pinned CPU and alternating round by round:
#   empty    the serving benchmark's empty func-go handler (benchmarks/cmd/emptyfunc)
#   decode   predict, answering {} once the body is read and decoded
#   score    predict, scoring and answering, with no payload log
#   predict  predict as shipped (payload log on)
# The stages come from serving-stages.patch, applied to this checkout's HEAD
# in a worktree of its own; the shipped predict has no such switch.
# benchmarks/NOTES.md (eleventh pass) gives what it measured and why.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: benchmarks/experiments/serving-stages.sh [--rounds N] [--duration SECONDS] [--fixture DIR]

Measures predict's request throughput at concurrency 32 stage by stage
(decode only, decode and score, everything) against the empty func-go
handler: servers on CPU 1, wrk on CPU 0, rounds alternating.

  --rounds N          rounds of one run per server (default 3)
  --duration SECONDS  length of each run (default 6)
  --fixture DIR       the serving fixture of a bench run: DIR/serving-*/bucket
                      holds a champion and DIR/predict-bodies.jsonl the
                      request bodies (default: make bench-smoke's,
                      benchmarks/results/tmp/smoke/tmp)

Needs: git, go, wrk, curl, taskset, and two CPUs. Run make bench-smoke first.
USAGE
}

root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=3 duration=6 fixture=$root/benchmarks/results/tmp/smoke/tmp
while [[ $# -gt 0 ]]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	--fixture) fixture=${2:?--fixture needs a directory}; shift 2 ;;
	*) echo "serving-stages: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "serving-stages: --rounds $rounds: want a whole number of 1 or more" >&2; exit 2; }
[[ $duration =~ ^[1-9][0-9]*$ ]] || { echo "serving-stages: --duration $duration: want whole seconds, 1 or more" >&2; exit 2; }
for tool in git go wrk taskset curl; do
	command -v "$tool" >/dev/null || { echo "serving-stages: $tool is not installed" >&2; exit 2; }
done
[[ $(nproc) -ge 2 ]] || { echo "serving-stages: needs two CPUs (the servers on CPU 1, wrk on CPU 0)" >&2; exit 2; }
bodies=$fixture/predict-bodies.jsonl
bucket=$(ls -d "$fixture"/serving-*/bucket 2>/dev/null | head -1 || true)
if [[ ! -s $bodies || -z $bucket ]]; then
	echo "serving-stages: no serving fixture in $fixture (run make bench-smoke, or give --fixture)" >&2
	exit 2
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	git -C "$root" worktree remove --force "$work/src" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "building predict with the stage switch, and the empty handler"
git -C "$root" worktree add --quiet --detach "$work/src" HEAD
git -C "$work/src" apply "$root/benchmarks/experiments/serving-stages.patch" ||
	{ echo "serving-stages: serving-stages.patch no longer applies to functions/predict/handlers.go; update it" >&2; exit 1; }
(cd "$work/src" && CGO_ENABLED=0 go build -o "$work/predict" ./functions/predict/cmd &&
	CGO_ENABLED=0 go build -o "$work/emptyfunc" ./benchmarks/cmd/emptyfunc)

servers=(empty decode score predict)
declare -A port path
base=$((20000 + RANDOM % 20000))
for i in "${!servers[@]}"; do
	s=${servers[$i]}
	port[$s]=$((base + i))
	if [[ $s == empty ]]; then
		path[$s]=/
		LISTEN_ADDRESS=127.0.0.1:${port[$s]} taskset -c 1 "$work/emptyfunc" >"$work/$s.log" 2>&1 &
	else
		path[$s]=/v1/predict
		stage=$s
		[[ $s == predict ]] && stage=
		BENCH_PREDICT_STAGE=$stage LISTEN_ADDRESS=127.0.0.1:${port[$s]} CLAIMRISK_BUCKET=file://$bucket \
			LOG_LEVEL=warn taskset -c 1 "$work/predict" >"$work/$s.log" 2>&1 &
	fi
	pids+=($!)
done

lua=$root/benchmarks/wrk/post.lua
url() { echo "http://127.0.0.1:${port[$1]}${path[$1]}"; }
for s in "${servers[@]}"; do
	ok=
	for _ in $(seq 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			--data-binary "$(head -1 "$bodies")" "$(url "$s")" || true)
		[[ $code == 200 ]] && { ok=1; break; }
		sleep 0.1
	done
	[[ -n $ok ]] || { echo "serving-stages: $s did not answer 200 (its log: $work/$s.log)" >&2; cat "$work/$s.log" >&2; exit 1; }
	taskset -c 0 wrk -t1 -c32 -d3s -s "$lua" "$(url "$s")" -- "$bodies" >/dev/null # warm-up
done

# cpu_ticks is a process's user and system time, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
results=$work/results.tsv
echo "round by round (req/s, p99, server CPU per request):"
for r in $(seq "$rounds"); do
	for i in "${!servers[@]}"; do
		s=${servers[$i]}
		before=$(cpu_ticks "${pids[$i]}")
		line=$(taskset -c 0 wrk -t1 -c32 -d"${duration}s" -s "$lua" "$(url "$s")" -- "$bodies" | grep '^WRKJSON ')
		after=$(cpu_ticks "${pids[$i]}")
		requests=$(grep -o '"requests":[0-9]*' <<<"$line" | cut -d: -f2)
		dur=$(grep -o '"duration_us":[0-9]*' <<<"$line" | cut -d: -f2)
		p99=$(grep -o '"p99":[0-9]*' <<<"$line" | cut -d: -f2)
		status=$(grep -o '"status":[0-9]*' <<<"$line" | cut -d: -f2)
		[[ $status == 0 ]] || { echo "serving-stages: $s answered $status requests with an error status" >&2; exit 1; }
		awk -v r="$r" -v s="$s" -v n="$requests" -v d="$dur" -v p="$p99" -v c=$((after - before)) -v hz="$hz" \
			'BEGIN { printf "%s\t%s\t%.0f\t%d\t%.1f\n", r, s, n / (d / 1e6), p, c / hz * 1e6 / n }' >>"$results"
		tail -1 "$results" | awk -F'\t' '{ printf "  round %s  %-8s %7.0f req/s  p99 %5.2f ms  %5.1f us\n", $1, $2, $3, $4 / 1000, $5 }'
	done
done

echo
echo "medians over $rounds rounds (share: of the empty handler's req/s):"
printf '  %-8s %9s %7s %9s %14s\n' server req/s share p99 "CPU/request"
empty_rps=$(awk -F'\t' '$2 == "empty" {print $3}' "$results" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
for s in "${servers[@]}"; do
	median() { awk -F'\t' -v s="$s" -v k="$1" '$2 == s {print $k}' "$results" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
	rps=$(median 3) p99=$(median 4) cpu=$(median 5)
	awk -v s="$s" -v r="$rps" -v e="$empty_rps" -v p="$p99" -v c="$cpu" \
		'BEGIN { printf "  %-8s %9.0f %6.0f%% %6.2f ms %11.1f us\n", s, r, 100 * r / e, p / 1000, c }'
done
