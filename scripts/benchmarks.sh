#!/usr/bin/env bash
# Runs every benchmark behind a README table, one after another (never two at once on this
# machine), each writing its runs' raw reports to benchmarks/runs/NAME-COMMIT/. Run again at the
# same commit, each resumes where it stopped. `skilang summary benchmarks/runs/NAME-COMMIT` then
# writes a table again from the reports alone.
#
# Usage: scripts/benchmarks.sh [NAME...]   (names: addition approximate ste poker sudoku visudo warcraft
# addition-100 imbalance train fairness engines; default all but train, fairness and engines: engines is the
# table of every engine on every task, from the others' completed runs, running only what is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export SKILANG_DATA="${SKILANG_DATA:-$(cd ../shared/data 2>/dev/null && pwd || echo data)}"
bench() { cargo bench --quiet -p skilang --bench "$@"; }

for name in "${@:-addition approximate ste poker sudoku visudo warcraft addition-100 imbalance}"; do
    for n in $name; do
        echo "== $n ($(date -u +%H:%M))"
        case "$n" in
            addition) SKILANG_BENCH_N=1,2,4,15 bench addition ;;
            addition-100) SKILANG_BENCH_N=100 bench addition ;;
            approximate)
                SKILANG_BENCH_N=1,2,4 SKILANG_BENCH_INFERENCE=topk bench addition
                SKILANG_BENCH_N=1,2 SKILANG_BENCH_INFERENCE=sample bench addition
                SKILANG_BENCH_N=4,15 SKILANG_BENCH_INJECTION=em SKILANG_BENCH_INFERENCE=bp bench addition ;;
            ste) bench ste ;;
            poker)
                bench poker
                SKILANG_BENCH_SHARE=labelled SKILANG_BENCH_FRACTIONS=0.1,0.01 \
                    SKILANG_BENCH_INJECTIONS=supervised,constraining bench poker
                SKILANG_BENCH_SAMPLED=50000 SKILANG_BENCH_INJECTIONS=constraining bench poker ;;
            sudoku) bench sudoku ;;
            visudo) bench visudo ;;
            warcraft) bench warcraft ;;
            train) bench train ;;
            fairness) bench fairness ;;
            engines) bench engines ;;
            imbalance) bench imbalance ;;
            *) echo "unknown benchmark: $n" >&2; exit 2 ;;
        esac
    done
done
