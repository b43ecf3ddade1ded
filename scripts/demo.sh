#!/usr/bin/env bash
# demo.sh — the click-count demo behind `make demo`.
#
# Generates and builds examples/clickcount and its load generator clickgen, starts
# clickcount with its embedded broker on a free loopback port, produces 10000 clicks
# with clickgen, waits until the counts the application writes match the ones clickgen
# computed itself, prints them, and stops the application with SIGTERM, which must
# commit and exit 0. Exits non-zero if any step fails.
#
# Needs Go and librocksdb-dev (the Makefile installs packages; this script does not).
# Environment: GO (default go), CLICKS (default 10000), DEMO_TIMEOUT (default 30s).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
CLICKS=${CLICKS:-10000}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-30s}

work=$(mktemp -d "${TMPDIR:-/tmp}/gofka-demo.XXXXXX")
app_pid=""
cleanup() {
	local status=$?
	if [[ -n "$app_pid" ]] && kill -0 "$app_pid" 2>/dev/null; then
		kill -TERM "$app_pid" 2>/dev/null || true
		wait "$app_pid" 2>/dev/null || true
	fi
	if [[ $status -ne 0 && -s "$work/clickcount.log" ]]; then
		echo "--- clickcount log (last 40 lines) ---" >&2
		tail -n 40 "$work/clickcount.log" >&2
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '==> %s\n' "$*"; }
fail() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

# port_open PORT: whether something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a loopback port nothing listens on (the kernel's ephemeral range is
# avoided so that outgoing connections do not take it in the meantime).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		if ! port_open "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

step "generating examples/clickcount/gofka_gen.go"
"$GO" run ./cmd/gofkagen examples/clickcount

step "building clickcount and clickgen into $work"
"$GO" build -o "$work/clickcount" ./examples/clickcount
"$GO" build -o "$work/clickgen" ./examples/clickcount/clickgen

port=$(free_port) || fail "no free loopback port found"
step "starting clickcount with an embedded broker on 127.0.0.1:$port"
"$work/clickcount" run \
	--embedded-listen "127.0.0.1:$port" \
	--state-dir "$work/state" \
	--commit-interval 1s \
	>"$work/clickcount.log" 2>&1 &
app_pid=$!

deadline=$((SECONDS + 20))
until port_open "$port"; do
	kill -0 "$app_pid" 2>/dev/null || fail "clickcount exited before its broker listened"
	((SECONDS < deadline)) || fail "the embedded broker did not listen on 127.0.0.1:$port within 20s"
	sleep 0.1
done

step "producing $CLICKS clicks and verifying the counts in user-click-counts"
"$work/clickgen" --brokers "127.0.0.1:$port" --n "$CLICKS" --timeout "$DEMO_TIMEOUT" --verify ||
	fail "clickgen failed (see its messages above)"

step "stopping clickcount (SIGTERM)"
kill -TERM "$app_pid"
app_status=0
wait "$app_pid" || app_status=$?
app_pid=""
if [[ $app_status -ne 0 ]]; then
	fail "clickcount exited with status $app_status after SIGTERM, want 0"
fi
grep -E 'level=(INFO|WARN|ERROR) msg=(stopped|committed)' "$work/clickcount.log" | tail -n 2 || true
step "demo passed"
