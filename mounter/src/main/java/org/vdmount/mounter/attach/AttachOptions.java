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
 */
public record AttachOptions(Path image, String transport, String snapshot, int diskNumber, boolean partscan, int threads,
        boolean readWrite, Path overlay, int index) {

    /**
     * Server threads when not asked for: one per CPU, at most four. More threads than CPUs only
     * take requests from each other: in a 2-CPU guest, 4 threads served 4k random reads at 48-74%
     * of the rate of 2 (each wake-up then crosses CPUs, and fewer requests gather into a fetch).
     */
    public static int defaultThreads() {
        return Math.min(Runtime.getRuntime().availableProcessors(), 4);
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
        args.add("--");
        args.add(image.toAbsolutePath().toString());
        return args;
    }

    /** What the device lines and `vdmount list` call the mode. */
    public String mode() {
        if (overlay != null) {
            return "overlay " + overlay;
        }
        return readWrite ? "read-write" : "read-only";
    }
}
