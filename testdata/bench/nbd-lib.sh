# What the NBD benchmarks (nbd.sh, nbd-tls.sh, nbd-write.sh) share; sourced, not run.

# wait_for_port PORT: until a server listens on 127.0.0.1:PORT (at most 10 s); fails otherwise.
wait_for_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# best OLD NEW: the better of two results "N ..." by their first field (OLD may be empty). The
# host is shared: a burst of someone else's work should not decide a figure.
best() {
    if [ -z "$1" ]; then echo "$2"; return; fi
    read -r a _ <<< "$1"; read -r b _ <<< "$2"
    if [ "$a" -ge "$b" ]; then echo "$1"; else echo "$2"; fi
}
