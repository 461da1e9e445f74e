#!/bin/bash
# In a guest booted as the one that got stuck (nokaslr, the same kernel): print the kernel's text
# symbols, so that the host can name the addresses it read from the stuck guest's CPUs
# (run-in-guest.sh).
echo "kallsyms: begin"
grep ' [tT] ' /proc/kallsyms
echo "kallsyms: end"
