#!/usr/bin/env bash
# Runs chunk's BenchmarkPathological and BenchmarkPathologicalOverhead COUNT
# times (default 3) and prints, for each input and chunker, the median CPU
# seconds per MB and bytes allocated per byte of input, with their range
# over the runs; rows marked "own" are BenchmarkPathologicalOverhead's, the
# chunker's cost beyond the tokenizer's index. Extra arguments go to go test
# (for example -bench 'BenchmarkPathological/random-words').
# With --from FILE it summarizes the benchmark output saved in FILE.
#
#   bash .ci/patho-table.sh [COUNT] [go test flags...]
#   bash .ci/patho-table.sh --from FILE
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
  if [ "${1:-}" = "--from" ]; then
    cat "$2"
    return
  fi
  count=${1:-3}
  shift || true
  go test ./chunk -run '^$' -bench BenchmarkPathological -benchtime 1x -count "$count" "$@"
}
run "$@" |
  awk '
    /^BenchmarkPathological(Overhead)?\// {
      name = $1; sub(/-[0-9]+$/, "", name)
      own = sub(/^BenchmarkPathologicalOverhead\//, "", name)
      sub(/^BenchmarkPathological\//, "", name)
      if (own) name = name " own"
      for (i = 2; i < NF; i++) {
        if ($(i+1) == "cpu-s/MB") cpu[name] = cpu[name] " " $i
        if ($(i+1) == "B/input") alloc[name] = alloc[name] " " $i
      }
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
    }
    function stats(list,   a, k, m, t, i, j) {
      m = split(list, a, " ")
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      if (m == 0) return "-"
      k = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
      return sprintf("%.3f [%.3f-%.3f]", k, a[1], a[m])
    }
    END {
      printf "%-40s %-26s %s\n", "input/chunker", "cpu-s/MB median [range]", "B/input median [range]"
      for (i = 1; i <= n; i++) printf "%-40s %-26s %s\n", order[i], stats(cpu[order[i]]), stats(alloc[order[i]])
    }'
