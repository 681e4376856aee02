# Shared by the bench scripts: `median` of numbers on stdin, and `timeit CMD…`, the median wall
# time in seconds of $runs runs of CMD (output discarded, failures ignored: tools that report
# findings exit non-zero).
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() {
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}
