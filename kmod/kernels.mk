# The kernels the abuse module is built for and tested on, chosen here and nowhere else
# (included by the top Makefile and kmod/Makefile; kmod/vmtest/lib.sh applies the same rule).
# KVERS: every kernel with headers (/lib/modules/V/build); GUEST_KVERS: those of them that
# also have a bootable image (/boot/vmlinuz-V), on which the guest suites run; KVER: the newest,
# which a plain `make` builds for. Any of them can be given on the command line.
KVERS ?= $(shell for v in $$(ls /lib/modules 2>/dev/null); do \
	[ -e /lib/modules/$$v/build/Makefile ] && echo $$v; done | sort -V)
GUEST_KVERS ?= $(foreach k,$(KVERS),$(if $(wildcard /boot/vmlinuz-$(k)),$(k)))
KVER ?= $(lastword $(KVERS))
KDIR ?= /lib/modules/$(KVER)/build
