package org.vdmount.mounter.attach;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code vdmount attach} was asked for; the same in the client and in the server it launches.
 *
 * @param transport  "auto" or a transport's name
 * @param snapshot   qcow2 internal snapshot to show, or null
 * @param diskNumber disk of a multi-disk container (OVA), 0 for the only one
 * @param partscan   whether to expose partitions as devices of their own
 * @param threads    threads serving requests
 * @param readWrite  whether writes go to the image itself (--rw)
 * @param overlay    file that takes the writes while the image stays untouched (--overlay), or null
 * @param index      device number to ask the transport for (--index), or -1 for any
 * @param format     the image's format as --format named it, or null to recognise it by content
 * @param forceShare whether the image's files are opened without locks (--force-share)
 */
public record AttachOptions(Path image, String transport, String snapshot, int diskNumber, boolean partscan, int threads,
        boolean readWrite, Path overlay, int index, String format, boolean forceShare) {
    /** How {@link #mode} begins for an attachment with an overlay; the overlay's path follows. */
    static final String OVERLAY_MODE = "overlay ";
    static final String READ_WRITE_MODE = "read-write";

    /**
     * Server threads when not asked for: one per two CPUs, from 1 to 4. The programs doing the I/O
     * need CPUs too, and a server thread more than the machine can run beside them only takes
     * requests from the others. In a 2-CPU guest (fio 4k random reads, QD16, plain qcow2), 1 thread
     * served 2.6-3.8x qemu-nbd's rate, 2 threads 1.6-3.0x and 4 threads 0.9-1.7x.
     */
    public static int defaultThreads() {
        return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors() / 2, 4));
    }

    /** The arguments that make a background server attach the same way, with the transport chosen. */
    public List<String> serverArgs(String chosenTransport) {
        List<String> args = new ArrayList<>(List.of("--transport", chosenTransport, "--threads", Integer.toString(threads),
                "--disk", Integer.toString(diskNumber)));
        if (snapshot != null) {
            args.addAll(List.of("--snapshot", snapshot));
        }
        if (!partscan) {
            args.add("--no-partscan");
        }
        if (readWrite) {
            args.add("--rw");
        }
        if (overlay != null) {
            args.addAll(List.of("--overlay", overlay.toString()));
        }
        if (index >= 0) {
            args.addAll(List.of("--index", Integer.toString(index)));
        }
        if (format != null) {
            args.addAll(List.of("--format", format));
        }
        if (forceShare) {
            args.add("--force-share");
        }
        args.add("--");
        args.add(image.toAbsolutePath().toString());
        return args;
    }

    /** What the device lines and `vdmount list` call the mode. */
    public String mode() {
        if (overlay != null) {
            return OVERLAY_MODE + overlay;
        }
        return readWrite ? READ_WRITE_MODE : "read-only";
    }
}
