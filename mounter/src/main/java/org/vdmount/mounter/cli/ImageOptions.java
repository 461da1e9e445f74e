package org.vdmount.mounter.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.util.UserError;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The image a command works on, and how to open it: shared by every command that reads one. */
public final class ImageOptions {

    @Parameters(index = "0", paramLabel = "IMAGE",
            description = "Disk image: raw file or block device, qcow2, VMDK (descriptor or extent), OVA. "
                    + "The format is recognised from the content, never from the file name.")
    Path image;

    @Option(names = "--snapshot", paramLabel = "S",
            description = "Read internal snapshot S (qcow2; name or id) instead of the current state.")
    String snapshot;

    @Option(names = "--disk", paramLabel = "N",
            description = "For containers of several disks (OVA): read disk N, counted from 1.")
    int disk;

    public Path image() {
        return image;
    }

    /** Opens the image and its whole backing chain read-only; warnings go to stderr. */
    public VirtualDisk openReadOnly() throws IOException {
        if (disk < 0) {
            throw new UserError("--disk counts from 1");
        }
        OpenOptions options = new OpenOptions(snapshot, disk, false);
        return Images.open(image, options, warning -> System.err.println("vdmount: warning: " + warning));
    }
}
