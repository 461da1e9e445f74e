package org.vdmount.mounter.transport.fuse;

import static org.vdmount.mounter.transport.fuse.FuseProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.vdmount.formats.VirtualDisk;

/**
 * A FUSE file system of one directory holding flat files, each the bytes of a {@link VirtualDisk}
 * ({@code disk}, {@code p1}...). Turns one kernel request into one reply; the session does the I/O.
 * Node ids: 1 is the directory, file i (in map order) is i + 2. Contents never change while
 * mounted, so the kernel may cache names, attributes and data for as long as it likes.
 */
final class FuseFileSystem {
    private static final Logger LOG = Logger.getLogger(FuseFileSystem.class.getName());
    /** Seconds the kernel may trust a name or attribute: the files never change. */
    private static final long CACHE_SECONDS = 3600;
    private static final int NO_REPLY = -1;

    private final List<String> names;
    private final List<VirtualDisk> disks;
    private final long mtime;
    private final int uid;
    private final int gid;
    private final Set<String> loggedFailures = ConcurrentHashMap.newKeySet();

    FuseFileSystem(Map<String, VirtualDisk> files, long mtimeSeconds, int uid, int gid) {
        this.names = new ArrayList<>(files.keySet());
        this.disks = new ArrayList<>(files.values());
        this.mtime = mtimeSeconds;
        this.uid = uid;
        this.gid = gid;
    }

    /**
     * Answers the request in {@code in} (position 0, limit = request length) by writing a complete
     * reply into {@code out} from position 0; returns the reply's length, or -1 when the kernel
     * expects none (FORGET, INTERRUPT). {@code data} is a spare view of {@code out} for READ.
     */
    int handle(ByteBuffer in, ByteBuffer out, ByteBuffer data) {
        int opcode = in.getInt(4);
        long unique = in.getLong(8);
        long node = in.getLong(16);
        out.clear();
        int bodyLength;
        try {
            bodyLength = switch (opcode) {
                case INIT -> init(in, out);
                case LOOKUP -> lookup(node, in, out);
                case GETATTR -> getattr(node, out);
                case SETATTR -> -Errno.EROFS;
                case OPEN -> open(node, in, out);
                case READ -> read(node, in, data);
                case WRITE -> write(node, in, out);
                case LSEEK -> lseek(node, in, out);
                case OPENDIR -> opendir(node, out);
                case READDIR -> readdir(node, in, out);
                case STATFS -> statfs(out);
                case FLUSH, RELEASE, RELEASEDIR, FSYNCDIR -> 0;
                case FSYNC -> fsync(node);
                case DESTROY -> 0; // the session ends when the kernel closes it: reads then fail with ENODEV
                case FORGET, BATCH_FORGET, INTERRUPT -> NO_REPLY;
                default -> -Errno.ENOSYS;
            };
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // One bad read must not take the file system down; the reader gets EIO. A corrupt
            // table is met again by every read near it, so each kind of failure is logged once.
            if (loggedFailures.add(e.getClass().getName() + ": " + e.getMessage())) {
                LOG.log(Level.WARNING, "FUSE request " + opcode + " failed (answered EIO; logged once): " + e, e);
            }
            bodyLength = -Errno.EIO;
        }
        if (bodyLength == NO_REPLY) {
            return NO_REPLY;
        }
        int error = bodyLength < 0 ? bodyLength : 0;
        int length = OUT_HEADER + Math.max(0, bodyLength);
        out.putInt(0, length);
        out.putInt(4, error);
        out.putLong(8, unique);
        return length;
    }

    private int init(ByteBuffer in, ByteBuffer out) {
        int major = in.getInt(IN_HEADER);
        int minor = in.getInt(IN_HEADER + 4);
        int maxReadahead = in.getInt(IN_HEADER + 8);
        int kernelFlags = in.getInt(IN_HEADER + 12);
        if (major != KERNEL_MAJOR) {
            // The kernel retries with our major if it is older; we only speak 7.
            return -Errno.EPROTO;
        }
        // ASYNC_DIO: without it the kernel serialises O_DIRECT I/O of one file, so QD16 becomes QD1.
        int wanted = ASYNC_READ | ASYNC_DIO | BIG_WRITES | PARALLEL_DIROPS | MAX_PAGES;
        int p = OUT_HEADER;
        out.putInt(p, KERNEL_MAJOR);
        out.putInt(p + 4, Math.min(minor, MAX_MINOR));
        out.putInt(p + 8, Math.min(maxReadahead, MAX_TRANSFER));
        out.putInt(p + 12, kernelFlags & wanted);
        out.putShort(p + 16, (short) 64);   // max_background
        out.putShort(p + 18, (short) 48);   // congestion_threshold
        out.putInt(p + 20, MAX_TRANSFER);   // max_write
        out.putInt(p + 24, 1);              // time_gran
        out.putShort(p + 28, (short) (MAX_TRANSFER / 4096)); // max_pages
        for (int i = p + 30; i < p + INIT_OUT; i++) {
            out.put(i, (byte) 0);
        }
        return INIT_OUT;
    }

    private int lookup(long parent, ByteBuffer in, ByteBuffer out) {
        if (parent != ROOT_ID) {
            return -Errno.ENOTDIR;
        }
        int end = in.limit();
        while (end > IN_HEADER && in.get(end - 1) == 0) {
            end--;
        }
        byte[] raw = new byte[end - IN_HEADER];
        in.get(IN_HEADER, raw);
        int index = names.indexOf(new String(raw, StandardCharsets.UTF_8));
        if (index < 0) {
            return -Errno.ENOENT;
        }
        long node = index + 2;
        int p = OUT_HEADER;
        out.putLong(p, node);
        out.putLong(p + 8, 0);              // generation
        out.putLong(p + 16, CACHE_SECONDS); // entry_valid
        out.putLong(p + 24, CACHE_SECONDS); // attr_valid
        out.putInt(p + 32, 0);
        out.putInt(p + 36, 0);
        putAttr(out, p + 40, node);
        return ENTRY_OUT;
    }

    private int getattr(long node, ByteBuffer out) {
        if (!exists(node)) {
            return -Errno.ENOENT;
        }
        int p = OUT_HEADER;
        out.putLong(p, CACHE_SECONDS);
        out.putInt(p + 8, 0);
        out.putInt(p + 12, 0);
        putAttr(out, p + 16, node);
        return ATTR_OUT;
    }

    private void putAttr(ByteBuffer out, int p, long node) {
        boolean dir = node == ROOT_ID;
        VirtualDisk disk = dir ? null : disks.get((int) node - 2);
        long size = dir ? 0 : disk.size();
        int mode = dir ? S_IFDIR | 0555 : S_IFREG | (disk.writable() ? 0644 : 0444);
        out.putLong(p, node);                  // ino
        out.putLong(p + 8, size);
        out.putLong(p + 16, (size + 511) / 512); // blocks
        out.putLong(p + 24, mtime);            // atime
        out.putLong(p + 32, mtime);            // mtime
        out.putLong(p + 40, mtime);            // ctime
        out.putInt(p + 48, 0);
        out.putInt(p + 52, 0);
        out.putInt(p + 56, 0);
        out.putInt(p + 60, mode);
        out.putInt(p + 64, dir ? 2 : 1);       // nlink
        out.putInt(p + 68, uid);
        out.putInt(p + 72, gid);
        out.putInt(p + 76, 0);                 // rdev
        out.putInt(p + 80, 4096);              // blksize
        out.putInt(p + 84, 0);                 // flags
    }

    private int open(long node, ByteBuffer in, ByteBuffer out) {
        if (node == ROOT_ID) {
            return -Errno.EISDIR;
        }
        if (!exists(node)) {
            return -Errno.ENOENT;
        }
        int flags = in.getInt(IN_HEADER);
        if ((flags & O_ACCMODE) != 0 && !disk(node).writable()) {
            return -Errno.EROFS;
        }
        out.putLong(OUT_HEADER, node);
        out.putInt(OUT_HEADER + 8, disk(node).writable() ? 0 : FOPEN_KEEP_CACHE);
        out.putInt(OUT_HEADER + 12, 0);
        return OPEN_OUT;
    }

    private int read(long node, ByteBuffer in, ByteBuffer data) throws IOException {
        if (!exists(node) || node == ROOT_ID) {
            return -Errno.EBADF;
        }
        VirtualDisk disk = disk(node);
        long offset = in.getLong(IN_HEADER + 8);
        long size = Integer.toUnsignedLong(in.getInt(IN_HEADER + 16));
        if (offset < 0) {
            return -Errno.EINVAL;
        }
        int n = (int) Math.max(0, Math.min(Math.min(size, MAX_TRANSFER), disk.size() - offset));
        if (n > 0) {
            data.clear().position(OUT_HEADER).limit(OUT_HEADER + n);
            disk.read(data, offset);
        }
        return n;
    }

    private int write(long node, ByteBuffer in, ByteBuffer out) throws IOException {
        if (!exists(node) || node == ROOT_ID) {
            return -Errno.EBADF;
        }
        VirtualDisk disk = disk(node);
        if (!disk.writable()) {
            return -Errno.EROFS;
        }
        long offset = in.getLong(IN_HEADER + 8);
        int size = in.getInt(IN_HEADER + 16);
        if (offset < 0 || size < 0 || offset > disk.size() || size > disk.size() - offset) {
            // The file cannot grow: it is a disk.
            return -Errno.ENOSPC;
        }
        ByteBuffer src = in.duplicate();
        src.position(IN_HEADER + WRITE_IN).limit(IN_HEADER + WRITE_IN + size);
        disk.write(src, offset);
        out.putInt(OUT_HEADER, size);
        out.putInt(OUT_HEADER + 4, 0);
        return WRITE_OUT;
    }

    private int fsync(long node) throws IOException {
        if (exists(node) && node != ROOT_ID) {
            disk(node).flush();
        }
        return 0;
    }

    /** SEEK_DATA / SEEK_HOLE from the disk's map, so sparse-aware copies skip what reads as zeros. */
    private int lseek(long node, ByteBuffer in, ByteBuffer out) throws IOException {
        if (!exists(node) || node == ROOT_ID) {
            return -Errno.EBADF;
        }
        VirtualDisk disk = disk(node);
        long offset = in.getLong(IN_HEADER + 8);
        int whence = in.getInt(IN_HEADER + 16);
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
            return -Errno.EINVAL;
        }
        if (offset < 0 || offset >= disk.size()) {
            return -Errno.ENXIO;
        }
        boolean wantData = whence == SEEK_DATA;
        long found = Holes.firstRun(disk, offset, run -> run.kind().readsAsZero() != wantData);
        if (found < 0) {
            if (wantData) {
                return -Errno.ENXIO;
            }
            found = disk.size();
        }
        out.putLong(OUT_HEADER, Math.max(found, offset));
        return LSEEK_OUT;
    }

    private int opendir(long node, ByteBuffer out) {
        if (node != ROOT_ID) {
            return exists(node) ? -Errno.ENOTDIR : -Errno.ENOENT;
        }
        out.putLong(OUT_HEADER, 0);
        out.putInt(OUT_HEADER + 8, 0);
        out.putInt(OUT_HEADER + 12, 0);
        return OPEN_OUT;
    }

    /** Entries are ".", "..", then the files; an entry's offset is its index + 1 (where to resume). */
    private int readdir(long node, ByteBuffer in, ByteBuffer out) {
        if (node != ROOT_ID) {
            return -Errno.ENOTDIR;
        }
        long start = in.getLong(IN_HEADER + 8);
        int size = Math.min(in.getInt(IN_HEADER + 16), out.capacity() - OUT_HEADER);
        int p = OUT_HEADER;
        for (long i = Math.max(0, start); i < names.size() + 2L; i++) {
            String name = i == 0 ? "." : i == 1 ? ".." : names.get((int) i - 2);
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            int entry = (24 + bytes.length + 7) & ~7;
            if (p - OUT_HEADER + entry > size) {
                break;
            }
            out.putLong(p, i < 2 ? ROOT_ID : i);
            out.putLong(p + 8, i + 1);
            out.putInt(p + 16, bytes.length);
            out.putInt(p + 20, i < 2 ? DT_DIR : DT_REG);
            out.put(p + 24, bytes);
            for (int z = p + 24 + bytes.length; z < p + entry; z++) {
                out.put(z, (byte) 0);
            }
            p += entry;
        }
        return p - OUT_HEADER;
    }

    private int statfs(ByteBuffer out) {
        long bytes = 0;
        for (VirtualDisk d : disks) {
            bytes += d.size();
        }
        int p = OUT_HEADER;
        out.putLong(p, (bytes + 4095) / 4096); // blocks
        out.putLong(p + 8, 0);                 // bfree
        out.putLong(p + 16, 0);                // bavail
        out.putLong(p + 24, names.size() + 1); // files
        out.putLong(p + 32, 0);                // ffree
        out.putInt(p + 40, 4096);              // bsize
        out.putInt(p + 44, 255);               // namelen
        out.putInt(p + 48, 4096);              // frsize
        for (int i = p + 52; i < p + STATFS_OUT; i++) {
            out.put(i, (byte) 0);
        }
        return STATFS_OUT;
    }

    private boolean exists(long node) {
        return node >= ROOT_ID && node < names.size() + 2L;
    }

    private VirtualDisk disk(long node) {
        return disks.get((int) node - 2);
    }
}
