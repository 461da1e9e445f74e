package org.vdmount.formats.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.VirtualDisk;

/** Bounded little-endian reads of a disk for the table readers; every failure is an ImageException. */
final class DiskBytes {
    private final VirtualDisk disk;
    private final String name;

    DiskBytes(VirtualDisk disk) {
        this.disk = disk;
        this.name = disk.info().name();
    }

    String name() {
        return name;
    }

    long size() {
        return disk.size();
    }

    /** Whether {@code [offset, offset + length)} lies within the disk. */
    boolean contains(long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= size() && length <= size() - offset;
    }

    /**
     * Reads {@code length} bytes at {@code offset}; callers bound {@code length} (a sector, or an
     * entry array they have capped) before asking.
     */
    ByteBuffer read(long offset, int length) throws ImageException {
        if (!contains(offset, length)) {
            throw new ImageException(name, length + " bytes at offset " + offset
                    + " lie past the end of the disk (" + size() + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        try {
            disk.read(buf, offset);
        } catch (ImageException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageException(name, "cannot read " + length + " bytes at offset " + offset + ": "
                    + e.getMessage(), e);
        }
        return buf.flip();
    }

    /** An unsigned 32-bit little-endian field. */
    static long u32(ByteBuffer b, int at) {
        return b.getInt(at) & 0xFFFF_FFFFL;
    }

    /** A GUID as its mixed-endian bytes spell it, in lower case: 4-2-2 little-endian, then 8 bytes as they are. */
    static String guid(ByteBuffer b, int at) {
        StringBuilder s = new StringBuilder(36);
        s.append(String.format("%08x-%04x-%04x-", b.getInt(at), b.getShort(at + 4), b.getShort(at + 6)));
        for (int i = 8; i < 16; i++) {
            if (i == 10) {
                s.append('-');
            }
            s.append(String.format("%02x", b.get(at + i)));
        }
        return s.toString();
    }

    static boolean isZero(ByteBuffer b, int at, int length) {
        for (int i = 0; i < length; i++) {
            if (b.get(at + i) != 0) {
                return false;
            }
        }
        return true;
    }
}
