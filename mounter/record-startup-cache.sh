#!/bin/sh
# Records the start-up cache of JAR for every Java (17 or newer) the launcher can find, next to
# the jar, under the name the launcher looks for (see bin/vdmount): an ahead-of-time cache
# (vdmount-BUILD.aot) on Java 24 and newer, a class-data archive (vdmount-BUILD.jsa) on 17-23.
# Each comes from one training run of the commands on the sample image, as qcow2 and (when
# qemu-img is there to convert it) as VMDK, VHDX, VDI, VHD and Parallels, and on 32 MiB of data in
# the compressed formats, with the options the launcher gives the JVM.
# Also puts JNA's native library beside the jar (BASE-native/libjnidispatch.so).
# The caches name the jar by its path: record them wherever the jar is put. A failure here costs
# only start-up speed, so it is reported and not fatal.
# Usage: mounter/record-startup-cache.sh JAR
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
jar=$(readlink -f "$1")
base=${jar%.jar}
sample=$top/testdata/sample/sample.qcow2
nl='
'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -f "$base"-*.aot "$base"-*.jsa "$base.jsa" # older caches, and the single archive of old builds
images=$sample
# The sample in every other format qemu-img writes and vdmount reads: each reader's classes.
for format in vmdk vhdx vdi vpc parallels; do
    if qemu-img convert -f qcow2 -O $format "$sample" "$work/training.$format" 2>/dev/null; then
        images="$images$nl$work/training.$format"
    fi
done
# 32 MiB of real file contents, compressed as deflate and zstd qcow2 and streamOptimized VMDK:
# enough work for the decoders to be hot, so that Java 25 caches their profiles and compiles
# them at once in a long cat or verify (the zstd decoder's first seconds ran in profiling code).
find /usr/share -xdev -type f -size +8k 2>/dev/null | LC_ALL=C sort | head -n 2000 | xargs cat 2>/dev/null |
    head -c 33554432 > "$work/data.raw"
for image in "deflate.qcow2 -O qcow2 -c" "zstd.qcow2 -O qcow2 -c -o compression_type=zstd" \
    "stream.vmdk -O vmdk -o subformat=streamOptimized"; do
    # shellcheck disable=SC2086 # the options are words
    if qemu-img convert -f raw ${image#* } "$work/data.raw" "$work/${image%% *}" 2>/dev/null; then
        images="$images$nl$work/${image%% *}"
    fi
done

# JNA's native library, out of the jar, where the launcher points JNA (BASE-native/): it is
# not unpacked into a temporary file on every run.
rm -rf "$base-native"
java=$(VDMOUNT_LAUNCHER=jdks "$top/bin/vdmount" | head -n 1 | cut -f 2)
if [ -n "$java" ] && "$java" -cp "$jar" org.vdmount.mounter.NativeLibraryExport "$base-native" 2>"$work/log"; then
    echo "JNA's library: $base-native/libjnidispatch.so"
else
    echo "JNA's library left in the jar (unpacked on each run): $(tail -n 1 "$work/log")" >&2
fi

VDMOUNT_LAUNCHER=jdks "$top/bin/vdmount" | while IFS="$(printf '\t')" read -r version java build; do
    # The options the launcher gives a short command on this Java: a cache made with other module
    # options (--enable-native-access) would be refused.
    options=$(JAVA=$java VDMOUNT_LAUNCHER=options "$top/bin/vdmount")
    IFS=$nl # $options is one a line; no path below is split
    case $version in
        17* | 18* | 19* | 2[0-3]*)
            cache=$base-$build.jsa
            # shellcheck disable=SC2086 # $options and $images are lists, one a line
            "$java" $options -XX:ArchiveClassesAtExit="$cache" -Xlog:cds=off -Xlog:cds+dynamic=off \
                -cp "$jar" org.vdmount.mounter.ClassArchiveTraining $images </dev/null >/dev/null 2>"$work/log" ;;
        *)
            cache=$base-$build.aot
            # Two steps (JEP 483), which Java 24 and 25 both take: a training run records what it
            # loads, links and profiles; the cache is made from that record.
            # shellcheck disable=SC2086
            "$java" $options -XX:AOTMode=record -XX:AOTConfiguration="$work/aot.conf" \
                -cp "$jar" org.vdmount.mounter.ClassArchiveTraining $images </dev/null >/dev/null 2>"$work/log" &&
            "$java" $options -XX:AOTMode=create -XX:AOTConfiguration="$work/aot.conf" -XX:AOTCache="$cache" \
                -cp "$jar" >/dev/null 2>>"$work/log" ;;
    esac
    unset IFS
    if [ -s "$cache" ]; then
        echo "start-up cache for Java $version: $cache"
    else
        rm -f "$cache"
        echo "no start-up cache for Java $version ($java): $(tail -n 1 "$work/log")" >&2
    fi
done
