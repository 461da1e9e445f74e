# vdmount: `make` builds what this machine can build, `make test` runs every test,
# `make bench` prints the performance figures. See README.md.

PREFIX ?= /usr/local
MVN ?= mvn -B -q
# The kernel the module is built for: the newest with headers installed, unless given.
KVER ?= $(shell ls /lib/modules 2>/dev/null | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build

# Debian/Ubuntu packages: to build and run vdmount, and in addition to run every test.
RUN_PACKAGES = openjdk-17-jdk-headless maven make gcc libc6-dev qemu-utils fuse3 util-linux kpartx
TEST_PACKAGES = $(RUN_PACKAGES) fdisk e2fsprogs dosfstools mtools zstd bc time libnbd-bin nbd-client fio qemu-system-common \
	qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod build-essential

# The start-up cache the launcher starts from (see bin/vdmount): for each Java found, an
# ahead-of-time cache (Java 24+) or a class-data archive (17-23) of the classes the short commands
# load, recorded by running them once on the sample. It names the jar by path, so it is made again
# wherever the jar is put. Its failure only costs speed.
define startup-cache
	-mounter/record-startup-cache.sh $(abspath $(1))/vdmount.jar
endef

.PHONY: all jar kmod test javatest vmtest vmtest-java vmtest-nbd vmbench bench demo deps test-deps install uninstall clean sample

all: jar kmod

jar:
	$(MVN) package -DskipTests
	$(call startup-cache,mounter/target)
	@echo "built mounter/target/vdmount.jar; run ./bin/vdmount --help"

kmod:
	@if [ -f kmod/Makefile ] && [ -d "$(KDIR)" ]; then \
		$(MAKE) -C kmod KVER=$(KVER); \
	elif [ -f kmod/Makefile ]; then \
		echo "kmod: no kernel headers in $(KDIR): the abuse module was not built (apt-get install linux-headers-amd64)"; \
	fi

test: javatest vmtest vmtest-java vmtest-nbd

javatest:
	mvn -B --no-transfer-progress test

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(RUN_PACKAGES)

test-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_PACKAGES)

# The main job on the bundled sample: what the image is, its partitions, and its hash.
demo: jar
	testdata/demo.sh

# The kernel tests boot Debian's kernel under qemu (see kmod/vmtest). Without qemu, the kernel
# image or headers, they cannot run: say so loudly, and fail under CI, which must never skip them.
vmtest: jar
	@if [ -f kmod/Makefile ]; then \
		if [ -x /usr/bin/qemu-system-x86_64 ] && ls /boot/vmlinuz-* >/dev/null 2>&1 && [ -d "$(KDIR)" ]; then \
			$(MAKE) -C kmod KVER=$(KVER) vmtest; \
		else \
			echo "***********************************************************************"; \
			echo "*** KERNEL TESTS SKIPPED: qemu-system-x86, linux-image-amd64 or     ***"; \
			echo "*** linux-headers-amd64 missing (see .ci/run for the packages)      ***"; \
			echo "***********************************************************************"; \
			if [ -n "$$CI" ]; then exit 1; fi; \
		fi; \
	fi

# vdmount over the abuse module in the guest (every container, overlay, kill -9 takeover, kpartx).
vmtest-java: jar kmod
	@if [ -x /usr/bin/qemu-system-x86_64 ] && ls /boot/vmlinuz-* >/dev/null 2>&1 && [ -d "$(KDIR)" ]; then \
		mounter/src/test/vm/run-guest-tests.sh; \
	else \
		echo "*** GUEST TESTS OF THE MOUNTER SKIPPED: qemu-system-x86, linux-image-amd64 or headers missing ***"; \
		if [ -n "$$CI$$VMTEST_REQUIRED" ]; then exit 1; fi; \
	fi

# vdmount over the kernel's nbd driver in the guest (Debian's kernel has nbd as a module): every
# container, auto choice and module loading, overlay, kill -9 of the server under a reader.
vmtest-nbd: jar
	@if [ -x /usr/bin/qemu-system-x86_64 ] && ls /boot/vmlinuz-* >/dev/null 2>&1; then \
		mounter/src/test/vm/run-nbd-tests.sh; \
	else \
		echo "*** GUEST TESTS OF THE NBD TRANSPORT SKIPPED: qemu-system-x86 or linux-image-amd64 missing ***"; \
		if [ -n "$$CI$$VMTEST_REQUIRED" ]; then exit 1; fi; \
	fi

vmbench: jar
	$(MAKE) -C kmod KVER=$(KVER) vmbench
	mounter/src/test/vm/run-guest-bench.sh

bench: jar
	testdata/bench/run.sh

sample:
	testdata/make-sample.sh

install: jar
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vdmount
	install -m 0644 mounter/target/vdmount.jar $(DESTDIR)$(PREFIX)/share/vdmount/vdmount.jar
	install -m 0755 bin/vdmount $(DESTDIR)$(PREFIX)/bin/vdmount
	$(call startup-cache,$(DESTDIR)$(PREFIX)/share/vdmount)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/vdmount $(DESTDIR)$(PREFIX)/share/vdmount/vdmount.jar \
		$(DESTDIR)$(PREFIX)/share/vdmount/vdmount-*.aot $(DESTDIR)$(PREFIX)/share/vdmount/vdmount-*.jsa
	-rmdir $(DESTDIR)$(PREFIX)/share/vdmount

clean:
	$(MVN) clean
	@if [ -f kmod/Makefile ]; then $(MAKE) -C kmod clean; fi
