package org.vdmount.mounter.gateway;

import static org.vdmount.mounter.system.Errno.EINVAL;
import static org.vdmount.mounter.system.Errno.EIO;
import static org.vdmount.mounter.system.Errno.ENOMEM;
import static org.vdmount.mounter.system.Errno.ENOSPC;
import static org.vdmount.mounter.system.Errno.ENOTSUP;
import static org.vdmount.mounter.system.Errno.EROFS;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * The one request path every transport feeds: the abuse worker, the kernel's nbd driver, the FUSE
 * file system and the NBD server only move requests between the kernel or the network and this
 * class. Shaped after nbdkit's {@code server/protocol.c}: each request is first validated (the
 * range lies in the disk, a change is allowed), then handled, and any failure is translated once,
 * here, into a Linux errno and at most one log line per kind ({@link FailureLog}). A failure never
 * stops serving.
 *
 * <p>Every method returns 0 or a positive errno; the transport puts it into its own reply (NBD
 * keeps a subset of the numbers: {@code NbdProtocol.errorFor}). What is particular to one protocol
 * stays with it: its flags, its buffer sizes, FUSE's short reads at the end of a file.
 *
 * <p>Thread safe: the disk is, and the log is.
 */
public final class RequestGateway {
    /**
     * Thrown by a {@link RunSink} to end a {@link #map} early, once it has learnt what it wanted:
     * not a failure. It carries no stack, so one instance can be shared.
     */
    public static final class StopMapping extends RuntimeException {
        public StopMapping() {
            super(null, null, false, false);
        }
    }

    private final VirtualDisk disk;
    private final long size;
    private final Capabilities capabilities;
    private final FailureLog failures;
    private final IoCounts counts = IoCounts.process();

    /**
     * @param writable whether requests may change the disk; true needs a writable disk. A writable
     *                 disk may still be served read-only.
     */
    public RequestGateway(VirtualDisk disk, boolean writable, FailureLog failures) {
        if (writable && !disk.writable()) {
            throw new IllegalArgumentException(disk.info().name() + ": the disk is not writable");
        }
        this.disk = disk;
        this.size = disk.size();
        this.capabilities = Capabilities.of(writable);
        this.failures = failures;
    }

    /** A gateway that lets requests change the disk exactly when the disk is writable. */
    public static RequestGateway of(VirtualDisk disk, FailureLog failures) {
        return new RequestGateway(disk, disk.writable(), failures);
    }

    /** The disk's size in bytes. */
    public long size() {
        return size;
    }

    public Capabilities capabilities() {
        return capabilities;
    }

    public FailureLog failures() {
        return failures;
    }

    /** Fills {@code dst} (all its remaining bytes) from {@code offset}. */
    public int read(ByteBuffer dst, long offset) {
        int length = dst.remaining();
        int invalid = validate(Operation.READ, offset, length);
        if (invalid != 0) {
            return invalid;
        }
        try {
            disk.read(dst, offset);
            counts.read(length);
            return 0;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failed(Operation.READ, offset, length, e);
        }
    }

    /** Writes all of {@code src} at {@code offset}; with {@code fua}, durably before it returns. */
    public int write(ByteBuffer src, long offset, boolean fua) {
        int length = src.remaining();
        int invalid = validate(Operation.WRITE, offset, length);
        if (invalid != 0) {
            return invalid;
        }
        try {
            disk.write(src, offset);
            counts.written(length);
            if (fua) {
                disk.flush();
            }
            return 0;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failed(Operation.WRITE, offset, length, e);
        }
    }

    /** Makes every completed write durable. Allowed on read-only disks too, where it has nothing to do. */
    public int flush() {
        try {
            disk.flush();
            return 0;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failed(Operation.FLUSH, 0, 0, e);
        }
    }

    /** Discards a range: it reads as zeros afterwards. */
    public int trim(long offset, long length, boolean fua) {
        return discard(Operation.TRIM, offset, length, fua);
    }

    /** Makes a range read as zeros, without the zeros being sent. */
    public int writeZeroes(long offset, long length, boolean fua) {
        return discard(Operation.WRITE_ZEROES, offset, length, fua);
    }

    /** Describes a range as runs of data and zeros (see {@link VirtualDisk#map}). */
    public int map(long offset, long length, RunSink sink) {
        int invalid = validate(Operation.MAP, offset, length);
        if (invalid != 0) {
            return invalid;
        }
        try {
            disk.map(offset, length, sink);
            return 0;
        } catch (StopMapping e) {
            return 0;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failed(Operation.MAP, offset, length, e);
        }
    }

    /**
     * The disk's discard guarantees zeros afterwards, so it serves both a trim (which allows them)
     * and write-zeroes (which needs them).
     */
    private int discard(Operation op, long offset, long length, boolean fua) {
        int invalid = validate(op, offset, length);
        if (invalid != 0) {
            return invalid;
        }
        try {
            disk.discard(offset, length);
            counts.written(length);
            if (fua) {
                disk.flush();
            }
            return 0;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failed(op, offset, length, e);
        }
    }

    /**
     * The checks every request passes, as nbdkit's validate_request makes them: a change needs a
     * writable disk, and the range must lie inside the disk (a write past the end is out of space,
     * anything else past it is invalid).
     */
    private int validate(Operation op, long offset, long length) {
        if (op.writes() && !capabilities.writable()) {
            return EROFS;
        }
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            return op == Operation.WRITE || op == Operation.WRITE_ZEROES ? ENOSPC : EINVAL;
        }
        return 0;
    }

    /** The one translation of a failure into an errno, logged by the one policy. */
    private int failed(Operation op, long offset, long length, Throwable e) {
        int errno = errnoFor(e);
        failures.failed(op, offset, length, errno, e);
        return errno;
    }

    static int errnoFor(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return ENOMEM;
        }
        if (e instanceof UnsupportedOperationException) {
            return ENOTSUP;
        }
        String message = e.getMessage();
        if (e instanceof IOException && message != null
                && (message.contains("No space left on device") || message.contains("Disk quota exceeded"))) {
            return ENOSPC; // the overlay's or the image's file system is full
        }
        return EIO;
    }
}
