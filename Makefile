# vdmount: `make` builds what this machine can build, `make test` runs every test,
# `make bench` prints the performance figures. See README.md.

PREFIX ?= /usr/local
# jansi.noreset: Debian's Maven 3.8 otherwise ends its quiet output with colour resets (ESC [0m).
MVN ?= MAVEN_OPTS="$$MAVEN_OPTS -Djansi.noreset=true" mvn -B -q -Dstyle.color=never
# The kernels the module is built for and the guest suites boot (KVERS, GUEST_KVERS, KVER): chosen
# in kmod/kernels.mk, the one place that does.
include kmod/kernels.mk

# Debian/Ubuntu packages: to build and run vdmount, and in addition to run every test.
RUN_PACKAGES = openjdk-17-jdk-headless maven make gcc libc6-dev qemu-utils fuse3 util-linux kpartx libzstd1
# The guest suites run on two kernels: Debian 12's own (6.1) and its backports kernel (6.12, which
# has ublk). Both come from Debian 12's archive.
TEST_PACKAGES = $(RUN_PACKAGES) fdisk e2fsprogs dosfstools mtools zstd bc time libnbd-bin nbd-client fio qemu-system-common \
	qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64 \
	busybox-static cpio kmod build-essential openssl ewf-tools

# The start-up cache the launcher starts from (see bin/vdmount): for each Java found, an
# ahead-of-time cache (Java 24+) or a class-data archive (17-23) of the classes the short commands
# load, recorded by running them once on the sample. It names the jar by path, so it is made again
# wherever the jar is put. Its failure only costs speed.
define startup-cache
	@echo "recording the start-up caches for $(1)/vdmount.jar (faster starts)"
	@-mounter/record-startup-cache.sh $(abspath $(1))/vdmount.jar
endef

# The jar is built again only when a source, a resource or a build file changed: `make demo` and
# the test targets depend on it, and Maven takes half a minute even with nothing to do.
JAR = mounter/target/vdmount.jar
# Stands for the start-up caches recorded for the jar (see below).
STARTUP_CACHE = mounter/target/startup-cache.stamp
JAR_SOURCES := $(shell find pom.xml formats mounter picocli -path '*/target' -prune -o -path '*/src/test' -prune \
	-o -type f \( -name '*.java' -o -name pom.xml -o -path '*/src/main/resources/*' \) -print 2>/dev/null)

.PHONY: crashtest-qcow2 crashtest-serve crashtest-powercut all jar kmod kmod-all test javatest guest-suites guest-prep vmtest vmtest-java vmtest-nbd vmtest-ublk vmbench bench demo deps test-deps install uninstall clean sample

all: jar kmod

jar: $(JAR) $(STARTUP_CACHE)

$(JAR): $(JAR_SOURCES)
	@echo "building $(JAR) with Maven (a minute or so) ..."
	@$(MVN) package -DskipTests
	@echo "built $(JAR); run ./bin/vdmount --help"

# Recorded whenever the jar is newer, whoever built it: CI builds the jar with Maven itself, and
# the guest suites start some 150 JVMs under emulation, each a fifth faster from the cache.
$(STARTUP_CACHE): $(JAR)
	$(call startup-cache,mounter/target)
	@touch $@

kmod:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C kmod KVER=$(KVER); \
	else \
		echo "kmod: no kernel headers in $(KDIR): the abuse module was not built (apt-get install linux-headers-amd64)"; \
	fi

# The module for every kernel with headers (kmod/build/<version>/abuse.ko), for the guest suites.
kmod-all: kmod
	$(MAKE) -C kmod modules-all

test: javatest guest-suites

javatest:
	mvn -B --no-transfer-progress test

deps:
	@echo "updating the package lists (apt-get update) ..."
	@apt-get update -qq
	@echo "installing what vdmount needs to build and run (a few minutes on a fresh machine):"
	@echo "  $(RUN_PACKAGES)"
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(RUN_PACKAGES)

test-deps:
	@echo "updating the package lists (apt-get update) ..."
	@apt-get update -qq
	@echo "installing what vdmount and its tests need (several minutes on a fresh machine):"
	@echo "  $(TEST_PACKAGES)"
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(TEST_PACKAGES)

# The main job on the bundled sample: what the image is, its partitions, and its hash.
demo: jar
	@testdata/demo.sh

# The guest suites boot each of GUEST_KVERS under qemu. Without qemu or a kernel with its image and
# headers they cannot run: they say so loudly, and fail under CI ($CI or $VMTEST_REQUIRED set), which
# must never skip them. One rule for all three.
GUEST_READY := $(if $(and $(wildcard /usr/bin/qemu-system-x86_64),$(GUEST_KVERS)),yes)
GUEST_MISSING := qemu-system-x86, or a kernel image with its headers,
define guest-skip
	@echo "***********************************************************************"; \
	echo "*** $(1) SKIPPED: $(or $(2),$(GUEST_MISSING))"; \
	echo "*** is missing (make test-deps installs them)"; \
	echo "***********************************************************************"; \
	if [ -n "$$CI$$VMTEST_REQUIRED" ]; then exit 1; fi
endef
# The guest kernels that have the ublk driver (Debian's 6.12 does, 6.1 does not).
UBLK_KVERS := $(strip $(foreach k,$(GUEST_KVERS),$(if $(wildcard /lib/modules/$(k)/kernel/drivers/block/ublk_drv.ko*),$(k))))

# The module's own tests (kmod/vmtest/tests.sh), on each kernel in turn.
vmtest: jar
ifeq ($(GUEST_READY),yes)
	@$(MAKE) --no-print-directory -C kmod all modules-all
	@GUEST_KVERS="$(GUEST_KVERS)" kmod/vmtest/per-kernel.sh kmod/vmtest/vmtest.sh
else
	$(call guest-skip,KERNEL MODULE TESTS)
endif

# vdmount over the abuse module (every container, overlay, kill -9 takeover, kpartx), on every
# kernel at once (single-threaded TCG guests, one host CPU each).
vmtest-java: jar
ifeq ($(GUEST_READY),yes)
	@$(MAKE) --no-print-directory -C kmod all modules-all
	@testdata/make-disk-images.sh >/dev/null
	@GUEST_KVERS="$(GUEST_KVERS)" kmod/vmtest/per-kernel.sh --parallel mounter/src/test/vm/run-guest-tests.sh
else
	$(call guest-skip,GUEST TESTS OF THE MOUNTER OVER ABUSE)
endif

# vdmount over the kernel's nbd driver (Debian's kernels have it as a module): every container, auto
# choice and module loading, overlay, kill -9 of the server under a reader; every kernel at once.
vmtest-nbd: jar
ifeq ($(GUEST_READY),yes)
	@testdata/make-disk-images.sh >/dev/null
	@GUEST_KVERS="$(GUEST_KVERS)" kmod/vmtest/per-kernel.sh --parallel mounter/src/test/vm/run-nbd-tests.sh
else
	$(call guest-skip,GUEST TESTS OF THE NBD TRANSPORT)
endif

# vdmount over the kernel's ublk driver (every container, auto choice and module loading, read-only
# and --rw devices, overlay, kill -9 takeover under a reader, kpartx), on every guest kernel that has
# ublk_drv, at once.
vmtest-ublk: jar
ifeq ($(GUEST_READY),yes)
ifneq ($(UBLK_KVERS),)
	@testdata/make-disk-images.sh >/dev/null
	@GUEST_KVERS="$(UBLK_KVERS)" kmod/vmtest/per-kernel.sh --parallel mounter/src/test/vm/run-ublk-tests.sh
else
	$(call guest-skip,GUEST TESTS OF THE UBLK TRANSPORT,a guest kernel with ublk_drv (linux-image-6.12-amd64))
endif
else
	$(call guest-skip,GUEST TESTS OF THE UBLK TRANSPORT)
endif

# `make test`'s guest runs: every suite (the module's own, vdmount over abuse, over nbd, and over
# ublk where the kernel has it) on every guest kernel, one run per suite and kernel. Each run is
# one single-threaded TCG guest taking one host CPU: on the two CPUs of the machines this project
# is built on, two run at a time, the longest first, each one's output printed whole when it ends;
# every run goes to its end (-k), and any failure fails the whole.
#
# Images: every kind of image is attached on every kernel through at least one transport, and
# every transport attaches several kinds on every kernel (the ublk suite: one compressed, a chain,
# a new format and an E01 set), instead of every kind through every transport on every kernel.
# The formats are read above the transports, by one request path, so the full product ran the
# same reader code again at two to three minutes an image under emulation, and CI had reached 79
# of its 90 minutes. The readers themselves are checked byte for byte on the host (make javatest).
# Likewise --rw (VMTEST_RW_FORMATS): qcow2 and VMDK each written through abuse and nbd, one kernel
# each, and qcow2 through ublk. make vmtest-java, vmtest-nbd and vmtest-ublk still attach every
# image, and write every writable format, on every kernel.
GUEST_IMAGES_A = disk.raw deflate.qcow2 sparse.vmdk split.vmdk dynamic.vhdx
GUEST_IMAGES_B = plain.qcow2 chain-top.qcow2 stream.vmdk delta.vmdk dynamic.vdi
GUEST_IMAGES_UBLK = deflate.qcow2 delta.vmdk dynamic.vhdx evidence.E01
# $(call guest-images,FIRST,OTHER,KERNEL): FIRST on the first guest kernel, OTHER on the others;
# both on a lone kernel.
guest-images = $(if $(word 2,$(GUEST_KVERS)),$(if $(filter $(3),$(firstword $(GUEST_KVERS))),$(1),$(2)),$(1) $(2))
# Longest first (minutes, on an idle machine of this kind): vdmount over abuse 20, over ublk 15,
# over nbd 12, the module's own 7.
GUEST_RUNS = $(addprefix guest-run-java-,$(GUEST_KVERS)) $(addprefix guest-run-ublk-,$(UBLK_KVERS)) \
	$(addprefix guest-run-nbd-,$(GUEST_KVERS)) $(addprefix guest-run-kmod-,$(GUEST_KVERS))

guest-suites: guest-prep
ifeq ($(GUEST_READY),yes)
ifeq ($(UBLK_KVERS),)
	$(call guest-skip,GUEST TESTS OF THE UBLK TRANSPORT,a guest kernel with ublk_drv (linux-image-6.12-amd64))
endif
	@$(MAKE) --no-print-directory -k -j2 -Otarget $(GUEST_RUNS)
else
	$(call guest-skip,GUEST TESTS (MODULE, ABUSE, NBD, UBLK))
endif

# What every guest run needs, made once before they start side by side (they would race).
guest-prep: jar
ifeq ($(GUEST_READY),yes)
	@$(MAKE) --no-print-directory -C kmod all modules-all
	@testdata/make-disk-images.sh >/dev/null
endif

# One guest run each (not .PHONY: pattern rules do not apply to phony targets; no such file exists).
guest-run-kmod-%:
	@GUEST_KVERS=$* kmod/vmtest/per-kernel.sh kmod/vmtest/vmtest.sh
guest-run-java-%:
	@VMTEST_IMAGES="$(call guest-images,$(GUEST_IMAGES_A),$(GUEST_IMAGES_B),$*)" \
		VMTEST_RW_FORMATS="$(call guest-images,qcow2,vmdk,$*)" \
		GUEST_KVERS=$* kmod/vmtest/per-kernel.sh mounter/src/test/vm/run-guest-tests.sh
guest-run-nbd-%:
	@VMTEST_IMAGES="$(call guest-images,$(GUEST_IMAGES_B) evidence.E01,$(GUEST_IMAGES_A) disk-split.001,$*)" \
		VMTEST_RW_FORMATS="$(call guest-images,vmdk,qcow2,$*)" \
		GUEST_KVERS=$* kmod/vmtest/per-kernel.sh mounter/src/test/vm/run-nbd-tests.sh
guest-run-ublk-%:
	@VMTEST_IMAGES="$(GUEST_IMAGES_UBLK)" VMTEST_RW_FORMATS=qcow2 GUEST_KVERS=$* kmod/vmtest/per-kernel.sh mounter/src/test/vm/run-ublk-tests.sh

vmbench: jar
	@$(MAKE) --no-print-directory -C kmod all modules-all
	$(MAKE) -C kmod KVER=$(KVER) vmbench
	KVER=$(KVER) mounter/src/test/vm/run-guest-bench.sh

bench: jar
	@testdata/bench/run.sh

sample:
	@testdata/make-sample.sh

# The qcow2 kill -9 test, many times (the unit suite runs it 3 times): CRASH_RUNS=50 by default.
crashtest-qcow2:
	mvn -B -q -pl formats -am test -Dtest=Qcow2CrashTest -Dsurefire.failIfNoSpecifiedTests=false \
		-Dvdmount.crashRuns=$(or $(CRASH_RUNS),50)

# kill -9 of `vdmount serve --rw` under a random NBD write stream, CRASH_RUNS times (default 50) for
# each kind of image (qcow2 v3 with a backing file, qcow2 with extended L2 over a backing file,
# qcow2 with an external data file, qcow2 v2, compressed qcow2, monolithicSparse VMDK;
# CRASH_IMAGES=QCOW2_V2,... for some), a fresh image every 10 kills; it prints a summary table
# (the unit suite kills 3 times each).
crashtest-serve:
	mvn -B -q -pl formats,mounter -am test -Dtest=ServeKillTest -Dsurefire.failIfNoSpecifiedTests=false \
		-Dvdmount.crashRuns=$(or $(CRASH_RUNS),50) -Dvdmount.crashImages=$(CRASH_IMAGES)

# Power cuts while vdmount writes qcow2 (9 kinds of image, data files too) and VMDK (4 layouts): every write and
# fsync is logged, and POWER_CUTS states (default 200 per kind; the unit suite checks 12) are
# rebuilt as a power failure may leave the files: unsynced writes kept or lost sector by sector.
crashtest-powercut:
	mvn -B -q -pl formats -am test -Dtest='Qcow2PowerCutTest,VmdkPowerCutTest' -Dsurefire.failIfNoSpecifiedTests=false \
		-Dvdmount.powerCuts=$(or $(POWER_CUTS),200)

install: jar
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vdmount
	install -m 0644 mounter/target/vdmount.jar $(DESTDIR)$(PREFIX)/share/vdmount/vdmount.jar
	install -m 0755 bin/vdmount $(DESTDIR)$(PREFIX)/bin/vdmount
	$(call startup-cache,$(DESTDIR)$(PREFIX)/share/vdmount)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/vdmount $(DESTDIR)$(PREFIX)/share/vdmount/vdmount.jar \
		$(DESTDIR)$(PREFIX)/share/vdmount/vdmount-*.aot $(DESTDIR)$(PREFIX)/share/vdmount/vdmount-*.jsa
	rm -rf $(DESTDIR)$(PREFIX)/share/vdmount/vdmount-native
	-rmdir $(DESTDIR)$(PREFIX)/share/vdmount

clean:
	$(MVN) clean
	@if [ -f kmod/Makefile ]; then $(MAKE) -C kmod clean; fi
