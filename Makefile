# vdmount: `make` builds what this machine can build, `make test` runs every test,
# `make bench` prints the performance figures. See README.md.

PREFIX ?= /usr/local
# jansi.noreset: Debian's Maven 3.8 otherwise ends its quiet output with colour resets (ESC [0m).
MVN ?= MAVEN_OPTS="$$MAVEN_OPTS -Djansi.noreset=true" mvn -B -q -Dstyle.color=never
# The kernel the module is built for: the newest with headers installed, unless given.
KVER ?= $(shell ls /lib/modules 2>/dev/null | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build

# Debian/Ubuntu packages: to build and run vdmount, and in addition to run every test.
RUN_PACKAGES = openjdk-17-jdk-headless maven make gcc libc6-dev qemu-utils fuse3 util-linux kpartx
TEST_PACKAGES = $(RUN_PACKAGES) fdisk e2fsprogs dosfstools mtools zstd bc time libnbd-bin nbd-client fio qemu-system-common \
	qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod build-essential openssl

# The class-data archive the launcher starts from (see bin/vdmount): the classes that the short
# commands load, recorded by running them once on the sample, as qcow2 and (when qemu-img is
# there to convert it) as VMDK. It names the jar by path, so it is made again wherever the jar is
# put. Its failure only costs speed.
define class-archive
	@echo "recording the class-data archive $(1)/vdmount.jsa (faster starts)"
	@rm -f $(abspath $(1))/vdmount.jsa $(abspath $(1))/training.vmdk
	@-qemu-img convert -f qcow2 -O vmdk testdata/sample/sample.qcow2 $(abspath $(1))/training.vmdk 2>/dev/null
	@java -XX:ArchiveClassesAtExit=$(abspath $(1))/vdmount.jsa -Xlog:cds=off -Xlog:cds+dynamic=off \
		-cp $(abspath $(1))/vdmount.jar org.vdmount.mounter.ClassArchiveTraining testdata/sample/sample.qcow2 \
		$$(ls $(abspath $(1))/training.vmdk 2>/dev/null) >/dev/null 2>&1 \
		|| echo "  (not recorded: commands start a little slower)"
	@rm -f $(abspath $(1))/training.vmdk
endef

# The jar is built again only when a source, a resource or a build file changed: `make demo` and
# the test targets depend on it, and Maven takes half a minute even with nothing to do.
JAR = mounter/target/vdmount.jar
JAR_SOURCES := $(shell find pom.xml formats mounter picocli -path '*/target' -prune -o -path '*/src/test' -prune \
	-o -type f \( -name '*.java' -o -name pom.xml -o -path '*/src/main/resources/*' \) -print 2>/dev/null)

.PHONY: all jar kmod test javatest vmtest vmtest-java vmtest-nbd vmbench bench demo deps test-deps install uninstall clean sample

all: jar kmod

jar: $(JAR)

$(JAR): $(JAR_SOURCES)
	@echo "building $(JAR) with Maven (a minute or so) ..."
	@$(MVN) package -DskipTests
	$(call class-archive,mounter/target)
	@echo "built $(JAR); run ./bin/vdmount --help"

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
	@testdata/bench/run.sh

sample:
	@testdata/make-sample.sh

install: jar
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vdmount
	install -m 0644 mounter/target/vdmount.jar $(DESTDIR)$(PREFIX)/share/vdmount/vdmount.jar
	install -m 0755 bin/vdmount $(DESTDIR)$(PREFIX)/bin/vdmount
	$(call class-archive,$(DESTDIR)$(PREFIX)/share/vdmount)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/vdmount $(DESTDIR)$(PREFIX)/share/vdmount/vdmount.jar \
		$(DESTDIR)$(PREFIX)/share/vdmount/vdmount.jsa
	-rmdir $(DESTDIR)$(PREFIX)/share/vdmount

clean:
	$(MVN) clean
	@if [ -f kmod/Makefile ]; then $(MAKE) -C kmod clean; fi
