package org.vdmount.mounter.transport.ublk;

import java.nio.ByteBuffer;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.system.Errno;

/**
 * What a ublk request descriptor asks, carried out through the gateway: the one place that reads
 * struct ublksrv_io_desc. The answer is what the commit reports to the driver: the bytes done for a
 * read or write, 0 for the others, or a negative errno.
 */
final class UblkRequests {
    private final RequestGateway gateway;
    private final int maxIoBytes;

    UblkRequests(RequestGateway gateway, int maxIoBytes) {
        this.gateway = gateway;
        this.maxIoBytes = maxIoBytes;
    }

    /** The request's operation (UBLK_IO_OP_*) from the descriptor at {@code at}. */
    static int op(ByteBuffer descriptors, int at) {
        return descriptors.getInt(at + UblkAbi.IoDesc.OP_FLAGS) & 0xff;
    }

    /** The request's length in bytes (at most 2 TiB for a discard, so a long). */
    static long length(ByteBuffer descriptors, int at) {
        return Integer.toUnsignedLong(descriptors.getInt(at + UblkAbi.IoDesc.NR_SECTORS)) << 9;
    }

    /**
     * Serves the request described at {@code at} in {@code descriptors}, with {@code data} as its
     * buffer (for a write, holding the data from position 0; for a read, to fill).
     */
    int serve(ByteBuffer descriptors, int at, ByteBuffer data) {
        int opFlags = descriptors.getInt(at + UblkAbi.IoDesc.OP_FLAGS);
        long offset = descriptors.getLong(at + UblkAbi.IoDesc.START_SECTOR) << 9;
        long length = length(descriptors, at);
        boolean fua = (opFlags & UblkAbi.IO_F_FUA) != 0;
        int errno;
        switch (opFlags & 0xff) {
            case UblkAbi.IO_OP_READ -> {
                if (length > maxIoBytes) {
                    return -Errno.EINVAL;
                }
                data.limit((int) length).position(0);
                errno = gateway.read(data, offset);
                return errno == 0 ? (int) length : -errno;
            }
            case UblkAbi.IO_OP_WRITE -> {
                if (length > maxIoBytes) {
                    return -Errno.EINVAL;
                }
                data.limit((int) length).position(0);
                errno = gateway.write(data, offset, fua);
                return errno == 0 ? (int) length : -errno;
            }
            case UblkAbi.IO_OP_FLUSH -> errno = gateway.flush();
            case UblkAbi.IO_OP_DISCARD -> errno = gateway.trim(offset, length, fua);
            case UblkAbi.IO_OP_WRITE_ZEROES -> errno = gateway.writeZeroes(offset, length, fua);
            default -> errno = Errno.ENOTSUP;
        }
        return -errno;
    }
}
