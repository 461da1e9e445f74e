package org.vdmount.mounter.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** The image a command reads, and which state and disk of it: shared by info, cat and verify. */
public final class ImageOptions {

    @Parameters(index = "0", paramLabel = "IMAGE",
            description = "Disk image: raw file or block device, qcow2, VMDK (descriptor or extent), OVA, VHD, VHDX, "
                    + "VDI, Parallels. The format is recognised from the content, never from the file name.")
    Path image;

    @Mixin
    SourceOptions source;

    public Path image() {
        return image;
    }

    /** Opens the image and its whole backing chain read-only; warnings go to stderr. */
    public VirtualDisk openReadOnly() throws IOException {
        return Images.open(image, source.openOptions(false),
                warning -> System.err.println("vdmount: warning: " + warning));
    }
}
