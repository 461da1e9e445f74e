package org.vdmount.mounter.transport.fuse;

import static org.vdmount.mounter.transport.fuse.FuseAbi.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.gateway.FailureLog;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.system.Errno;

/**
 * A FUSE file system of one directory holding flat files, each the bytes of a {@link VirtualDisk}
 * ({@code disk}, {@code p1}...). Turns one kernel request into one reply; the session does the I/O,
 * and each file's {@link RequestGateway} the reads, writes and maps. Node ids: 1 is the directory,
 * file i (in map order) is i + 2. Contents never change under the kernel's feet (writes come
 * through it), so it may cache names, attributes and data for as long as it likes.
 */
final class FuseFileSystem {
    /** Seconds the kernel may trust a name or attribute: the files never change. */
    private static final long CACHE_SECONDS = 3600;
    private static final int NO_REPLY = -1;

    private final List<String> names;
    private final List<RequestGateway> files;
    private final long mtime;
    private final int uid;
    private final int gid;
    private final Consumer<String> log;
    private final Set<String> loggedBugs = ConcurrentHashMap.newKeySet();

    /** @param log receives one line per kind of failed request (see {@link FailureLog}) */
    FuseFileSystem(Map<String, VirtualDisk> files, long mtimeSeconds, int uid, int gid, Consumer<String> log) {
        this.names = new ArrayList<>(files.keySet());
        this.files = new ArrayList<>();
        files.forEach((name, disk) -> this.files.add(RequestGateway.of(disk, new FailureLog(name, log))));
        this.mtime = mtimeSeconds;
        this.uid = uid;
        this.gid = gid;
        this.log = log;
    }

    /**
     * Answers the request in {@code in} (position 0, limit = request length) by writing a complete
     * reply into {@code out} from position 0; returns the reply's length, or -1 when the kernel
     * expects none (FORGET, INTERRUPT). {@code data} is a spare view of {@code out} for READ.
     */
    int handle(ByteBuffer in, ByteBuffer out, ByteBuffer data) {
        int opcode = in.getInt(InHeader.OPCODE);
        long unique = in.getLong(InHeader.UNIQUE);
        long node = in.getLong(InHeader.NODEID);
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
        } catch (RuntimeException e) {
            // A request we could not take apart (the disks' failures are the gateways'): a bug of
            // ours or a kernel we do not know. The file system stays up; one line per kind.
            if (loggedBugs.add(opcode + e.getClass().getName())) {
                log.accept("FUSE request " + opcode + " could not be handled (answered EIO): " + e);
            }
            bodyLength = -Errno.EIO;
        }
        if (bodyLength == NO_REPLY) {
            return NO_REPLY;
        }
        int error = bodyLength < 0 ? bodyLength : 0;
        int length = OutHeader.SIZE + Math.max(0, bodyLength);
        out.putInt(OutHeader.LEN, length);
        out.putInt(OutHeader.ERROR, error);
        out.putLong(OutHeader.UNIQUE, unique);
        return length;
    }

    private int init(ByteBuffer in, ByteBuffer out) {
        int p = InHeader.SIZE;
        int major = in.getInt(p + InitIn.MAJOR);
        int minor = in.getInt(p + InitIn.MINOR);
        int maxReadahead = in.getInt(p + InitIn.MAX_READAHEAD);
        int kernelFlags = in.getInt(p + InitIn.FLAGS);
        if (major != KERNEL_MAJOR) {
            // The kernel retries with our major if it is older; we only speak 7.
            return -Errno.EPROTO;
        }
        // ASYNC_DIO: without it the kernel serialises O_DIRECT I/O of one file, so QD16 becomes QD1.
        int wanted = ASYNC_READ | ASYNC_DIO | BIG_WRITES | PARALLEL_DIROPS | MAX_PAGES;
        int o = OutHeader.SIZE;
        out.putInt(o + InitOut.MAJOR, KERNEL_MAJOR);
        out.putInt(o + InitOut.MINOR, Math.min(minor, MAX_MINOR));
        out.putInt(o + InitOut.MAX_READAHEAD, Math.min(maxReadahead, MAX_TRANSFER));
        out.putInt(o + InitOut.FLAGS, kernelFlags & wanted);
        out.putShort(o + InitOut.MAX_BACKGROUND, (short) 64);
        out.putShort(o + InitOut.CONGESTION_THRESHOLD, (short) 48);
        out.putInt(o + InitOut.MAX_WRITE, MAX_TRANSFER);
        out.putInt(o + InitOut.TIME_GRAN, 1);
        out.putShort(o + InitOut.MAX_PAGES, (short) (MAX_TRANSFER / 4096));
        zero(out, o + InitOut.MAP_ALIGNMENT, o + InitOut.SIZE);
        return InitOut.SIZE;
    }

    private int lookup(long parent, ByteBuffer in, ByteBuffer out) {
        if (parent != ROOT_ID) {
            return -Errno.ENOTDIR;
        }
        int end = in.limit();
        while (end > InHeader.SIZE && in.get(end - 1) == 0) {
            end--;
        }
        byte[] raw = new byte[end - InHeader.SIZE];
        in.get(InHeader.SIZE, raw);
        int index = names.indexOf(new String(raw, StandardCharsets.UTF_8));
        if (index < 0) {
            return -Errno.ENOENT;
        }
        long node = index + 2;
        int o = OutHeader.SIZE;
        out.putLong(o + EntryOut.NODEID, node);
        out.putLong(o + EntryOut.GENERATION, 0);
        out.putLong(o + EntryOut.ENTRY_VALID, CACHE_SECONDS);
        out.putLong(o + EntryOut.ATTR_VALID, CACHE_SECONDS);
        out.putInt(o + EntryOut.ENTRY_VALID_NSEC, 0);
        out.putInt(o + EntryOut.ATTR_VALID_NSEC, 0);
        putAttr(out, o + EntryOut.ATTR, node);
        return EntryOut.SIZE;
    }

    private int getattr(long node, ByteBuffer out) {
        if (!exists(node)) {
            return -Errno.ENOENT;
        }
        int o = OutHeader.SIZE;
        out.putLong(o + AttrOut.ATTR_VALID, CACHE_SECONDS);
        out.putInt(o + AttrOut.ATTR_VALID_NSEC, 0);
        out.putInt(o + AttrOut.DUMMY, 0);
        putAttr(out, o + AttrOut.ATTR, node);
        return AttrOut.SIZE;
    }

    private void putAttr(ByteBuffer out, int a, long node) {
        boolean dir = node == ROOT_ID;
        long size = dir ? 0 : file(node).size();
        int mode = dir ? S_IFDIR | 0555 : S_IFREG | (writable(node) ? 0644 : 0444);
        out.putLong(a + Attr.INO, node);
        out.putLong(a + Attr.SIZE_BYTES, size);
        out.putLong(a + Attr.BLOCKS, (size + 511) / 512);
        out.putLong(a + Attr.ATIME, mtime);
        out.putLong(a + Attr.MTIME, mtime);
        out.putLong(a + Attr.CTIME, mtime);
        out.putInt(a + Attr.ATIMENSEC, 0);
        out.putInt(a + Attr.MTIMENSEC, 0);
        out.putInt(a + Attr.CTIMENSEC, 0);
        out.putInt(a + Attr.MODE, mode);
        out.putInt(a + Attr.NLINK, dir ? 2 : 1);
        out.putInt(a + Attr.UID, uid);
        out.putInt(a + Attr.GID, gid);
        out.putInt(a + Attr.RDEV, 0);
        out.putInt(a + Attr.BLKSIZE, 4096);
        out.putInt(a + Attr.FLAGS, 0);
    }

    private int open(long node, ByteBuffer in, ByteBuffer out) {
        if (node == ROOT_ID) {
            return -Errno.EISDIR;
        }
        if (!exists(node)) {
            return -Errno.ENOENT;
        }
        int flags = in.getInt(InHeader.SIZE + OpenIn.FLAGS);
        if ((flags & O_ACCMODE) != 0 && !writable(node)) {
            return -Errno.EROFS;
        }
        int o = OutHeader.SIZE;
        out.putLong(o + OpenOut.FH, node);
        out.putInt(o + OpenOut.OPEN_FLAGS, writable(node) ? 0 : FOPEN_KEEP_CACHE);
        out.putInt(o + OpenOut.PADDING, 0);
        return OpenOut.SIZE;
    }

    /** A read past the end of the file is short (or empty), as for any file; the gateway reads the rest. */
    private int read(long node, ByteBuffer in, ByteBuffer data) {
        if (!isFile(node)) {
            return -Errno.EBADF;
        }
        RequestGateway file = file(node);
        long offset = in.getLong(InHeader.SIZE + ReadIn.OFFSET);
        long size = Integer.toUnsignedLong(in.getInt(InHeader.SIZE + ReadIn.SIZE_BYTES));
        if (offset < 0) {
            return -Errno.EINVAL;
        }
        int n = (int) Math.max(0, Math.min(Math.min(size, MAX_TRANSFER), file.size() - offset));
        if (n > 0) {
            data.clear().position(OutHeader.SIZE).limit(OutHeader.SIZE + n);
            int errno = file.read(data, offset);
            if (errno != 0) {
                return -errno;
            }
        }
        return n;
    }

    /** The file cannot grow: it is a disk, so a write past its end is out of space (the gateway says so). */
    private int write(long node, ByteBuffer in, ByteBuffer out) {
        if (!isFile(node)) {
            return -Errno.EBADF;
        }
        long offset = in.getLong(InHeader.SIZE + WriteIn.OFFSET);
        int size = in.getInt(InHeader.SIZE + WriteIn.SIZE_BYTES);
        int at = InHeader.SIZE + WriteIn.SIZE;
        if (size < 0 || size > in.limit() - at) {
            return -Errno.EINVAL;
        }
        int errno = file(node).write(in.duplicate().limit(at + size).position(at), offset, false);
        if (errno != 0) {
            return -errno;
        }
        out.putInt(OutHeader.SIZE + WriteOut.SIZE_BYTES, size);
        out.putInt(OutHeader.SIZE + WriteOut.PADDING, 0);
        return WriteOut.SIZE;
    }

    private int fsync(long node) {
        return isFile(node) ? -file(node).flush() : 0;
    }

    /** SEEK_DATA / SEEK_HOLE from the disk's map, so sparse-aware copies skip what reads as zeros. */
    private int lseek(long node, ByteBuffer in, ByteBuffer out) {
        if (!isFile(node)) {
            return -Errno.EBADF;
        }
        RequestGateway file = file(node);
        long offset = in.getLong(InHeader.SIZE + LseekIn.OFFSET);
        int whence = in.getInt(InHeader.SIZE + LseekIn.WHENCE);
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
            return -Errno.EINVAL;
        }
        if (offset < 0 || offset >= file.size()) {
            return -Errno.ENXIO;
        }
        boolean wantData = whence == SEEK_DATA;
        Holes.Result found = Holes.firstRun(file, offset, run -> run.kind().readsAsZero() != wantData);
        if (found.errno() != 0) {
            return -found.errno();
        }
        long at = found.offset();
        if (at < 0) {
            if (wantData) {
                return -Errno.ENXIO;
            }
            at = file.size();
        }
        out.putLong(OutHeader.SIZE + LseekOut.OFFSET, Math.max(at, offset));
        return LseekOut.SIZE;
    }

    private int opendir(long node, ByteBuffer out) {
        if (node != ROOT_ID) {
            return exists(node) ? -Errno.ENOTDIR : -Errno.ENOENT;
        }
        int o = OutHeader.SIZE;
        out.putLong(o + OpenOut.FH, 0);
        out.putInt(o + OpenOut.OPEN_FLAGS, 0);
        out.putInt(o + OpenOut.PADDING, 0);
        return OpenOut.SIZE;
    }

    /** Entries are ".", "..", then the files; an entry's offset is its index + 1 (where to resume). */
    private int readdir(long node, ByteBuffer in, ByteBuffer out) {
        if (node != ROOT_ID) {
            return -Errno.ENOTDIR;
        }
        long start = in.getLong(InHeader.SIZE + ReadIn.OFFSET);
        int size = Math.min(in.getInt(InHeader.SIZE + ReadIn.SIZE_BYTES), out.capacity() - OutHeader.SIZE);
        int p = OutHeader.SIZE;
        for (long i = Math.max(0, start); i < names.size() + 2L; i++) {
            String name = i == 0 ? "." : i == 1 ? ".." : names.get((int) i - 2);
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            int entry = (Dirent.NAME + bytes.length + Dirent.ALIGN - 1) & -Dirent.ALIGN;
            if (p - OutHeader.SIZE + entry > size) {
                break;
            }
            out.putLong(p + Dirent.INO, i < 2 ? ROOT_ID : i);
            out.putLong(p + Dirent.OFF, i + 1);
            out.putInt(p + Dirent.NAMELEN, bytes.length);
            out.putInt(p + Dirent.TYPE, i < 2 ? DT_DIR : DT_REG);
            out.put(p + Dirent.NAME, bytes);
            zero(out, p + Dirent.NAME + bytes.length, p + entry);
            p += entry;
        }
        return p - OutHeader.SIZE;
    }

    private int statfs(ByteBuffer out) {
        long bytes = 0;
        for (RequestGateway f : files) {
            bytes += f.size();
        }
        int o = OutHeader.SIZE;
        out.putLong(o + StatfsOut.BLOCKS, (bytes + 4095) / 4096);
        out.putLong(o + StatfsOut.BFREE, 0);
        out.putLong(o + StatfsOut.BAVAIL, 0);
        out.putLong(o + StatfsOut.FILES, names.size() + 1);
        out.putLong(o + StatfsOut.FFREE, 0);
        out.putInt(o + StatfsOut.BSIZE, 4096);
        out.putInt(o + StatfsOut.NAMELEN, 255);
        out.putInt(o + StatfsOut.FRSIZE, 4096);
        zero(out, o + StatfsOut.PADDING, o + StatfsOut.SIZE);
        return StatfsOut.SIZE;
    }

    private static void zero(ByteBuffer out, int from, int to) {
        for (int i = from; i < to; i++) {
            out.put(i, (byte) 0);
        }
    }

    private boolean exists(long node) {
        return node >= ROOT_ID && node < names.size() + 2L;
    }

    private boolean isFile(long node) {
        return exists(node) && node != ROOT_ID;
    }

    private RequestGateway file(long node) {
        return files.get((int) node - 2);
    }

    private boolean writable(long node) {
        return file(node).capabilities().writable();
    }
}
