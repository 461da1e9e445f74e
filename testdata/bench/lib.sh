# Sourced by the bench scripts: alternating timed runs, medians and spreads, and the table's rows.
# Every figure is the median of $BENCH_RUNS runs (default 5) of vdmount and of the tool it is
# compared with, taking turns, so that a burst of other work on a shared machine hits both; the
# ratio is the median of each turn's ratio, and its spread the lowest and highest of them. The CPU
# ratio compares CPU seconds (user + system, every thread) the same way: on a machine shared with
# other work it moves far less than wall time, and says whether a slower run did more work.

BENCH_RUNS=${BENCH_RUNS:-5}
bench_tmp=$(mktemp -d /tmp/vdmount-bench.XXXXXX)
trap 'rm -rf "$bench_tmp"' EXIT

# timed CMD...: runs it (output to /dev/null, errors kept); sets $wall (s, 3 decimals), $cpu (s),
# $rss (KiB).
timed() {
    start=$(date +%s%N)
    /usr/bin/time -f '%M %U %S' -o "$bench_tmp/rss" "$@" >/dev/null 2>"$bench_tmp/err" || {
        echo "bench: failed: $* ($(grep -v 'exit status' "$bench_tmp/err" | tail -n 1))" >&2
        return 1
    }
    end=$(date +%s%N)
    wall=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
    read -r rss user sys < <(tail -n 1 "$bench_tmp/rss")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
}

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.3f\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
lowest() { sort -g | head -n 1; }
highest() { sort -g | tail -n 1; }

# The table: one row per figure.
header() {
    printf '%-9s %-34s %-7s %10s %-24s %6s %-12s %6s %8s\n' section what java vdmount "compared with" ratio \
        "spread" "cpu" "peak RSS"
}
# row SECTION WHAT JAVA VDMOUNT REFERENCE RATIO SPREAD CPU-RATIO RSS
row() {
    printf '%-9s %-34s %-7s %10s %-24s %6s %-12s %6s %8s\n' "$@"
}

# compare SECTION WHAT JAVA PREPARE VDMOUNT-CMD REFERENCE-NAME REFERENCE-CMD
# Runs PREPARE (a shell command, e.g. removing the last output) before each run, then the two
# commands (shell commands) in turn, $BENCH_RUNS times each, and prints their row (times in s).
compare() {
    local section=$1 what=$2 java=$3 prepare=$4 ours=$5 name=$6 theirs=$7 a _
    : > "$bench_tmp/ours" ; : > "$bench_tmp/theirs" ; : > "$bench_tmp/ratios" ; : > "$bench_tmp/rsses"
    : > "$bench_tmp/ours.cpu" ; : > "$bench_tmp/cpu-ratios"
    for _ in $(seq "$BENCH_RUNS"); do
        eval "$prepare"
        timed sh -c "$ours" || return 0
        a=$wall ac=$cpu
        echo "$cpu" >> "$bench_tmp/ours.cpu"
        echo "$wall" >> "$bench_tmp/ours"
        echo "$rss" >> "$bench_tmp/rsses"
        eval "$prepare"
        timed sh -c "$theirs" || return 0
        echo "$wall" >> "$bench_tmp/theirs"
        awk -v a="$a" -v b="$wall" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }' >> "$bench_tmp/ratios"
        awk -v a="$ac" -v b="$cpu" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }' >> "$bench_tmp/cpu-ratios"
    done
    eval "$prepare"
    row "$section" "$what" "$java" "$(median < "$bench_tmp/ours") s" "$name $(median < "$bench_tmp/theirs") s" \
        "$(median < "$bench_tmp/ratios")" "$(lowest < "$bench_tmp/ratios")-$(highest < "$bench_tmp/ratios")" \
        "$(median < "$bench_tmp/cpu-ratios")" "$(( $(highest < "$bench_tmp/rsses") / 1024 ))M"
}

# The Javas to run on: every one the launcher finds ("version<TAB>binary<TAB>build" lines).
javas() {
    VDMOUNT_LAUNCHER=jdks "$top/bin/vdmount"
}
