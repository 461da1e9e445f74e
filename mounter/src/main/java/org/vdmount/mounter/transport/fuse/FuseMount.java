package org.vdmount.mounter.transport.fuse;

import org.vdmount.mounter.jna.LibC;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.util.Log;

/**
 * A mounted {@link FuseFileSystem}: speaks the kernel protocol on /dev/fuse directly (no libfuse),
 * with several threads reading requests from the one descriptor, which the kernel allows and hands
 * each request to exactly one reader. Unmounting ends the session: reads then fail with ENODEV and
 * the threads finish.
 */
public final class FuseMount implements Closeable {
    /** A request is at most a WRITE header plus max_write bytes; a little more keeps the kernel happy. */
    private static final int REQUEST_BUFFER = FuseAbi.MAX_TRANSFER + 8192;
    private static final int REPLY_BUFFER = FuseAbi.MAX_TRANSFER + FuseAbi.OutHeader.SIZE;

    private final Path mountPoint;
    private final int fd;
    private final FuseFileSystem fs;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean unmounted;

    private FuseMount(Path mountPoint, int fd, FuseFileSystem fs) {
        this.mountPoint = mountPoint;
        this.fd = fd;
        this.fs = fs;
    }

    /**
     * Mounts a directory of {@code files} (name to disk, in listing order) at {@code mountPoint},
     * read-only unless every disk is writable, served by {@code threads} threads.
     */
    public static FuseMount mount(Path mountPoint, Map<String, VirtualDisk> files, int threads) throws IOException {
        return mount(mountPoint, files, threads, "vdmount");
    }

    /** As {@link #mount(Path, Map, int)}, with {@code source} as what /proc/mounts shows as the mounted thing. */
    public static FuseMount mount(Path mountPoint, Map<String, VirtualDisk> files, int threads, String source)
            throws IOException {
        LibC libc = LibC.INSTANCE;
        int fd;
        try {
            fd = libc.open("/dev/fuse", LibC.O_RDWR | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open /dev/fuse: " + strerror(e));
        }
        boolean writable = !files.isEmpty() && files.values().stream().allMatch(VirtualDisk::writable);
        FuseFileSystem fs = new FuseFileSystem(files, System.currentTimeMillis() / 1000, 0, 0,
                Log::warn);
        FuseMount mount = new FuseMount(mountPoint.toAbsolutePath(), fd, fs);
        String options = "fd=" + fd + ",rootmode=40000,user_id=0,group_id=0,default_permissions"
                + ",max_read=" + FuseAbi.MAX_TRANSFER;
        long flags = LibC.MS_NOSUID | LibC.MS_NODEV | (writable ? 0 : LibC.MS_RDONLY);
        try {
            libc.mount(source, mount.mountPoint.toString(), "fuse.vdmount", flags, options);
        } catch (LastErrorException e) {
            closeQuietly(fd);
            throw new IOException("cannot mount FUSE on " + mountPoint + ": " + strerror(e));
        }
        // The kernel queues INIT and every later request until a reader answers, so starting the
        // readers after mount(2) is safe, and a failed mount leaves no thread blocked on the fd.
        for (int i = 0; i < Math.max(1, threads); i++) {
            Thread t = new Thread(mount::serve, "fuse-" + i);
            t.setDaemon(true);
            mount.workers.add(t);
            t.start();
        }
        return mount;
    }

    public Path mountPoint() {
        return mountPoint;
    }

    private void serve() {
        Memory inMem = new Memory(REQUEST_BUFFER);
        Memory outMem = new Memory(REPLY_BUFFER);
        ByteBuffer in = inMem.getByteBuffer(0, REQUEST_BUFFER).order(ByteOrder.nativeOrder());
        ByteBuffer out = outMem.getByteBuffer(0, REPLY_BUFFER).order(ByteOrder.nativeOrder());
        ByteBuffer data = out.duplicate().order(ByteOrder.nativeOrder());
        while (true) {
            long n;
            try {
                n = DevFuse.read(fd, inMem, REQUEST_BUFFER);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.ENOENT) {
                    continue; // interrupted, or a request the kernel withdrew
                }
                if (errno != Errno.ENODEV && !unmounted) {
                    Log.warn("reading /dev/fuse failed: " + strerror(e));
                }
                return; // ENODEV: unmounted, the session is over
            }
            if (n < FuseAbi.InHeader.SIZE) {
                continue;
            }
            in.clear().limit((int) n);
            int length = fs.handle(in, out, data);
            if (length > 0) {
                try {
                    DevFuse.write(fd, outMem, length);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == Errno.ENODEV) {
                        return;
                    }
                    if (e.getErrorCode() != Errno.ENOENT) { // ENOENT: the request was interrupted meanwhile
                        Log.warn("replying on /dev/fuse failed: " + strerror(e));
                    }
                }
            }
        }
    }

    /** Waits until the kernel ends the session (someone unmounted). */
    public void awaitUnmount() throws InterruptedException {
        for (Thread t : workers) {
            t.join();
        }
    }

    /** Whether all serving threads finished within the time. */
    public boolean awaitUnmount(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Thread t : workers) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedJoin(t, left);
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }

    /** Unmounts (lazily if busy, so nothing is left behind) and waits for the threads. */
    @Override
    public void close() throws IOException {
        if (!unmounted) {
            unmounted = true;
            // Just-unbound loop devices let go of our files a moment later: wait a little for a
            // clean unmount before settling for a lazy one.
            boolean clean = false;
            for (int attempt = 0; attempt < 20 && !clean; attempt++) {
                clean = unmount(mountPoint, false);
                if (!clean) {
                    pause(100);
                }
            }
            if (!clean) {
                unmount(mountPoint, true);
            }
        }
        try {
            if (!awaitUnmount(10, TimeUnit.SECONDS)) {
                Log.warn("FUSE threads still running after unmount of " + mountPoint);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(fd);
    }

    /**
     * Unmounts {@code mountPoint}; returns false when it is busy and {@code lazy} is false. With
     * {@code lazy}, a busy mount is detached from the tree and goes once its last user closes it.
     */
    public static boolean unmount(Path mountPoint, boolean lazy) throws IOException {
        try {
            LibC.INSTANCE.umount2(mountPoint.toString(), 0);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Errno.EINVAL || e.getErrorCode() == Errno.ENOENT) {
                return true; // not mounted (any more)
            }
            if (e.getErrorCode() != Errno.EBUSY) {
                throw new IOException("cannot unmount " + mountPoint + ": " + strerror(e));
            }
            if (!lazy) {
                return false;
            }
        }
        try {
            LibC.INSTANCE.umount2(mountPoint.toString(), LibC.MNT_DETACH);
            return true;
        } catch (LastErrorException e) {
            throw new IOException("cannot unmount " + mountPoint + ": " + strerror(e));
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.INSTANCE.close(fd);
        } catch (LastErrorException e) {
            // nothing left to do with it
        }
    }

    static String strerror(LastErrorException e) {
        String m = e.getMessage();
        // JNA's message is "[errno] text"; keep the text.
        int close = m == null ? -1 : m.indexOf(']');
        return close >= 0 ? m.substring(close + 1).trim() : String.valueOf(m);
    }
}
