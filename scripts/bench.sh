#!/usr/bin/env bash
# `make bench` / `make bench-quick`: build the release binaries, then run every benchmark
# scenario with the load generator on CPU 1 (the scenarios start the servers on CPU 0).
#
#   scripts/bench.sh          full run, rewrites docs/benchmarks.md, fails when a target is missed
#   scripts/bench.sh --quick  smoke run (small sizes, one run, timings not judged), report in
#                             target/bench-quick.md
# Extra arguments go to kalcord-bench (e.g. --only ping --runs 5).
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

CARGO="${CARGO:-cargo}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
extra=("$@")
quick=false
for arg in "${extra[@]}"; do [[ "$arg" == "--quick" ]] && quick=true; done

packages=(kalcord-bench kalcord-loadgen kalcord-standalone kalcord-api-gateway kalcord-gateway-shard
          kalcord-identity kalcord-interactions kalcord-meetings kalcord-notifications)
build_args=(build --release --locked --bins)
for package in "${packages[@]}"; do build_args+=(-p "$package"); done
"$CARGO" "${build_args[@]}"

for service in "postgres 5432" "redis 6379" "nats 4222"; do
  set -- $service
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
    echo "bench.sh: $1 is not listening on 127.0.0.1:$2; run \`make services\` first" >&2
    exit 2
  fi
done

if $quick; then
  report="$TARGET_DIR/bench-quick.md"
else
  report="docs/benchmarks.md"
fi
bench=("$TARGET_DIR/release/kalcord-bench" --write "$report" "${extra[@]}")
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if command -v taskset >/dev/null && [[ "$cpus" -ge 2 ]]; then
  exec taskset -c 1 "${bench[@]}"
else
  echo "bench.sh: taskset or a second CPU missing; servers and load share the CPUs" >&2
  exec "${bench[@]}"
fi
