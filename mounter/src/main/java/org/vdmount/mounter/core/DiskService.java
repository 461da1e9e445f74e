package org.vdmount.mounter.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.vdmount.formats.VirtualDisk;

/**
 * The part of every server that does not depend on the transport: carries out block requests on a
 * disk and turns failures into errno values. A failure never stops the server; each kind of
 * failure is logged once, so a damaged image does not flood the log.
 */
public final class DiskService {
    private final VirtualDisk disk;
    private final Consumer<String> log;
    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    public DiskService(VirtualDisk disk, Consumer<String> log) {
        this.disk = disk;
        this.log = log;
    }

    public VirtualDisk disk() {
        return disk;
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset}; returns 0 or a positive errno. */
    public int read(ByteBuffer dst, long offset) {
        if (!inRange(offset, dst.remaining())) {
            return Errno.EINVAL;
        }
        try {
            disk.read(dst, offset);
            return 0;
        } catch (IOException | RuntimeException e) {
            return failed("read", e);
        }
    }

    public int write(ByteBuffer src, long offset) {
        if (!disk.writable()) {
            return Errno.EROFS;
        }
        if (!inRange(offset, src.remaining())) {
            return Errno.EINVAL;
        }
        try {
            disk.write(src, offset);
            return 0;
        } catch (IOException | RuntimeException e) {
            return failed("write", e);
        }
    }

    public int flush() {
        try {
            disk.flush();
            return 0;
        } catch (IOException | RuntimeException e) {
            return failed("flush", e);
        }
    }

    /** Discards, or writes zeros when {@code zeroes}: both leave the range reading as zeros. */
    public int discard(long offset, long length, boolean zeroes) {
        if (!disk.writable()) {
            return Errno.EROFS;
        }
        if (!inRange(offset, length)) {
            return Errno.EINVAL;
        }
        try {
            disk.discard(offset, length);
            return 0;
        } catch (IOException | RuntimeException e) {
            return failed(zeroes ? "write-zeroes" : "discard", e);
        }
    }

    private boolean inRange(long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= disk.size() && length <= disk.size() - offset;
    }

    private int failed(String op, Throwable e) {
        String kind = op + ": " + e.getClass().getSimpleName() + ": " + e.getMessage();
        if (logged.size() < 1000 && logged.add(kind)) {
            log.accept(op + " failed (reported as EIO; further failures like it are not logged): " + e.getMessage());
        }
        return Errno.EIO;
    }
}
