#!/bin/bash
# In a guest booted as the one that got stuck (nokaslr, the same kernel, abuse loaded first as the
# tests load it): print the kernel's text symbols, so that the host can name the addresses it
# read from the stuck guest's CPUs (run-in-guest.sh).
insmod "$ABUSE_KO" 2>/dev/null
echo "kallsyms: begin"
grep ' [tT] ' /proc/kallsyms
echo "kallsyms: end"
