package org.vdmount.mounter.cli;

import org.vdmount.formats.OpenOptions;
import org.vdmount.mounter.util.UsageError;
import picocli.CommandLine.Option;

/**
 * Which state and which disk of an image to use, and in which format to read it: the same options
 * on every command that opens images.
 */
final class SourceOptions {

    @Option(names = "--snapshot", paramLabel = "S",
            description = "Use internal snapshot S of a qcow2 image (its name or id) instead of the current state.")
    String snapshot;

    @Option(names = "--disk", paramLabel = "N",
            description = "Use disk N (from 1) of a container that holds several disks (OVA). An error for other images.")
    int disk;

    @Option(names = "--format", paramLabel = "FORMAT", description = "Read the image as FORMAT instead of recognising it by its content: raw reads the file's own bytes as the disk (even a container's or an unsupported format's); or qcow2, vmdk, ova, vhd, vhdx, vdi, parallels.")
    String format;

    @Option(names = {"-U", "--force-share"},
            description = "Read the image without taking or checking its locks, as qemu's -U does: for evidence a"
                    + " stopped VM still holds locked, or an image another program is writing (its data may change"
                    + " while read); not with --rw.")
    boolean forceShare;

    /** How to open the image; writable only for --rw, which a snapshot cannot take, nor --force-share. */
    OpenOptions openOptions(boolean writable) {
        if (disk < 0) {
            throw new UsageError("--disk counts from 1, not " + disk);
        }
        if (writable && snapshot != null) {
            throw new UsageError("--rw cannot write into an internal snapshot: drop --rw");
        }
        if (writable && forceShare) {
            throw new UsageError("--force-share is for reading: a writer always locks the image (drop one of"
                    + " --rw and --force-share)");
        }
        return new OpenOptions(snapshot, disk, writable, format, forceShare);
    }
}
