package org.vdmount.formats.qcow2;

import java.io.IOException;
import org.vdmount.formats.Storage;

/**
 * What a qcow2 image's header says about the image under it, read without opening anything else:
 * enough to check that an overlay belongs to the image it is used with before it is opened.
 *
 * @param virtualSize the image's virtual size, bytes
 * @param file        the backing file name as stored (relative names are relative to the image), or null
 * @param format      the backing format as stored ({@code backing_fmt}, qemu's name), or null
 */
public record Qcow2Backing(long virtualSize, String file, String format) {

    /** Reads the header of the qcow2 image in {@code storage}; anything else is an ImageException. */
    public static Qcow2Backing read(Storage storage) throws IOException {
        long fileSize = storage.size();
        Qcow2Header header = Qcow2Header.read(storage, fileSize);
        HeaderExtensions ext = HeaderExtensions.read(storage, header, fileSize);
        String name = Qcow2Opener.backingName(storage, header, fileSize);
        return new Qcow2Backing(header.size(), name, name == null ? null : ext.backingFormat);
    }
}
