package org.vdmount.mounter.transport.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.system.Commands;
import org.vdmount.mounter.system.MountTable;
import org.vdmount.mounter.system.Privileges;
import org.vdmount.mounter.transport.AttachRequest;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.Availability;
import org.vdmount.mounter.transport.DiskPart;
import org.vdmount.mounter.transport.Transport;
import org.vdmount.mounter.transport.TransportSession;
import org.vdmount.mounter.util.Log;

/**
 * FUSE + loop: for machines without our module or nbd (containers, locked-down hosts). The disk and
 * each partition become files of a FUSE file system at the attachment's work directory
 * ({@code /run/vdmount/<id>/disk}, {@code p1}...), and a loop device is bound to each file. The
 * FUSE protocol is spoken directly on /dev/fuse (see {@link FuseMount}), so no libfuse is needed.
 *
 * <p>Why the kernel protocol rather than libfuse3 through JNA: a flat directory of read-mostly
 * files needs a dozen opcodes with fixed-layout structs, less code than binding libfuse's
 * callback tables (and its threading, signal handling and fusermount3 indirection) would be; no
 * native library beyond libc is needed at run time; and we control the negotiation
 * (ASYNC_DIO, 1 MiB requests, SEEK_DATA/SEEK_HOLE) and the threads directly.
 *
 * <p>References: Linux include/uapi/linux/fuse.h (protocol 7.x structs and opcodes),
 * Documentation/filesystems/fuse.rst, fuse(4), losetup(8).
 */
public final class FuseTransport implements Transport {
    static final String MOUNT_POINT = "mountPoint";

    @Override
    public String name() {
        return "fuse";
    }

    @Override
    public Availability availability() {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return Availability.no("/dev/fuse does not exist (modprobe fuse, or give the container the device)");
        }
        if (!Files.exists(Path.of("/dev/loop-control"))) {
            return Availability.no("no loop device support (/dev/loop-control does not exist)");
        }
        if (!Commands.installed("losetup")) {
            return Availability.no("losetup is not installed (package util-linux / mount)");
        }
        if (!Privileges.isRoot()) {
            return Availability.no("mounting FUSE and binding loop devices needs root");
        }
        if (!Files.isReadable(Path.of("/dev/fuse")) || !Files.isWritable(Path.of("/dev/fuse"))) {
            return Availability.no("/dev/fuse is not readable and writable");
        }
        return Availability.yes();
    }

    @Override
    public TransportSession attach(AttachRequest request) throws IOException {
        Path mountPoint = request.workDir().toAbsolutePath();
        Files.createDirectories(mountPoint);
        Map<String, VirtualDisk> files = new LinkedHashMap<>();
        for (DiskPart part : request.parts()) {
            files.put(part.name(), part.disk());
        }
        // The image's name as the mount's source, so findmnt and /proc/mounts say what is served.
        String source = "vdmount:" + request.whole().disk().info().name();
        FuseMount mount = FuseMount.mount(mountPoint, files, request.threads(), source);
        List<AttachedDevice> devices = new ArrayList<>();
        try {
            for (DiskPart part : request.parts()) {
                String loop = LoopDevices.bind(mountPoint.resolve(part.name()), !part.disk().writable());
                devices.add(new AttachedDevice(loop, part.disk().size(), part.name(), part.description()));
            }
        } catch (IOException | RuntimeException e) {
            FuseSession.release(devices, mountPoint, mount);
            throw e;
        }
        return new FuseSession(mount, devices, Map.of(MOUNT_POINT, mountPoint.toString()));
    }

    @Override
    public void detach(List<AttachedDevice> devices, Map<String, String> state, boolean force) throws IOException {
        String where = state.get(MOUNT_POINT);
        if (where == null) {
            throw new IOException("the attachment's record has no FUSE mount point");
        }
        Path mountPoint = Path.of(where);
        for (int i = devices.size() - 1; i >= 0; i--) {
            LoopDevices.unbind(devices.get(i).path(), mountPoint);
        }
        for (String stray : LoopDevices.boundUnder(mountPoint)) {
            LoopDevices.unbind(stray, mountPoint);
        }
        // Loop devices let go of their files asynchronously; give them a moment before calling it busy.
        boolean done = false;
        for (int attempt = 0; attempt < 50 && !done; attempt++) {
            done = !MountTable.isMountPoint(mountPoint) || FuseMount.unmount(mountPoint, false);
            if (!done) {
                sleep(100);
            }
        }
        if (!done) {
            if (!force) {
                throw new IOException(mountPoint + " is still busy (a program has its files open); use --force to detach it lazily");
            }
            FuseMount.unmount(mountPoint, true);
        }
        deleteIfEmpty(mountPoint);
    }

    @Override
    public void abandon(AttachRequest request) {
        try {
            // The loops are found by their files' directory, so no device list is needed.
            detach(List.of(), Map.of(MOUNT_POINT, request.workDir().toAbsolutePath().toString()), true);
        } catch (IOException e) {
            Log.warn("cleaning up an interrupted attach: " + e.getMessage());
        }
    }

    static void deleteIfEmpty(Path dir) {
        try {
            if (Files.isDirectory(dir) && !MountTable.isMountPoint(dir)) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            // left for detach to report
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }
}
