package org.vdmount.mounter.transport.nbd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.jna.LibC;

/**
 * One /dev/nbdN driven through ioctls by a thread of its own. The kernel ties a device being set
 * up to the thread that gave it its first socket (NBD_SET_SOCK from any other thread is EBUSY,
 * which is also how a device in use says so), and NBD_DO_IT keeps its caller until the device
 * stops; so claiming, configuring and running all happen on this one thread.
 *
 * <p>When our process dies, the kernel interrupts NBD_DO_IT, shuts the sockets down and fails
 * every queued request with EIO; later requests fail at once, since no socket is left. Nobody
 * waits in D state for a server that is gone.
 */
final class KernelDevice {
    /** What the device was given: its number, and the thread the kernel records as its server. */
    record Claim(int index, int tid) {
    }

    /**
     * How the device is set up.
     *
     * @param candidates     device numbers to try, in order, until one is free
     * @param size           bytes, a multiple of {@link #BLOCK_SIZE}
     * @param flags          transmission flags ({@code NbdProtocol.transmissionFlags})
     * @param timeoutSeconds how long a request may take before the kernel drops the connection
     * @param kernelEnds     socket descriptors for the kernel, one per connection; closed here
     */
    record Setup(List<Integer> candidates, long size, int flags, int timeoutSeconds, List<Integer> kernelEnds) {
    }

    /** 512-byte sectors, as for every other transport: the partition tables the kernel reads assume them. */
    static final int BLOCK_SIZE = 512;
    private static final int SIGHUP = 1;
    private static final int SIGINT = 2;
    private static final int SIGQUIT = 3;
    private static final int SIGTERM = 15;

    private final Setup setup;
    private final CompletableFuture<Claim> claimed = new CompletableFuture<>();
    /** 0 once NBD_DO_IT returned normally, else its errno. */
    private final CompletableFuture<Integer> ended = new CompletableFuture<>();
    private final Thread thread;

    private KernelDevice(Setup setup) {
        this.setup = setup;
        this.thread = new Thread(this::run, "nbd-kernel");
        thread.setDaemon(true);
    }

    static KernelDevice start(Setup setup) {
        KernelDevice device = new KernelDevice(setup);
        device.thread.start();
        return device;
    }

    /** The device claimed and configured; NBD_DO_IT is being (or about to be) called. */
    Claim awaitClaim(long millis) throws IOException {
        try {
            return claimed.get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("setting up the nbd device took longer than " + millis / 1000 + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while setting up the nbd device");
        }
    }

    boolean hasEnded() {
        return ended.isDone();
    }

    /** Waits for NBD_DO_IT to return; true if it did within {@code millis} (0: wait for ever). */
    boolean awaitEnd(long millis) throws InterruptedException {
        try {
            if (millis == 0) {
                ended.get();
            } else {
                ended.get(millis, TimeUnit.MILLISECONDS);
            }
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /** The errno NBD_DO_IT ended with (0: a requested disconnect); only once {@link #hasEnded}. */
    int endStatus() {
        return ended.getNow(-1);
    }

    private void run() {
        Opened device = null;
        Claim claim;
        try {
            device = claim();
            configure(device);
            claim = new Claim(device.index(), LibC.INSTANCE.gettid());
            blockStopSignals();
        } catch (IOException | RuntimeException | LinkageError e) {
            if (device != null) {
                release(device.fd());
            }
            ended.complete(-1);
            claimed.completeExceptionally(e instanceof IOException ? e
                    : new IOException("setting up the nbd device failed: " + e, e));
            return;
        } finally {
            // The kernel took its own reference to each socket; ours would only keep them alive.
            setup.kernelEnds().forEach(KernelDevice::closeQuietly);
        }
        claimed.complete(claim);
        int status = 0;
        try {
            LibC.INSTANCE.ioctl(device.fd(), NbdAbi.DO_IT, 0L);
        } catch (LastErrorException e) {
            status = e.getErrorCode();
            System.err.println("vdmount: /dev/nbd" + device.index() + ": the kernel stopped the device: "
                    + errnoText(status));
        }
        release(device.fd());
        ended.complete(status);
    }

    private record Opened(int fd, int index) {
    }

    /** Opens the first candidate that takes our first socket. */
    private Opened claim() throws IOException {
        int inUse = 0;
        for (int index : setup.candidates()) {
            int fd;
            try {
                fd = LibC.INSTANCE.open("/dev/nbd" + index, LibC.O_RDONLY | LibC.O_CLOEXEC);
            } catch (LastErrorException e) {
                continue; // no such node: try the next
            }
            try {
                LibC.INSTANCE.ioctl(fd, NbdAbi.SET_SOCK, setup.kernelEnds().get(0));
                return new Opened(fd, index);
            } catch (LastErrorException e) {
                closeQuietly(fd);
                if (e.getErrorCode() != Errno.EBUSY) {
                    throw new IOException("/dev/nbd" + index + ": cannot give it a socket: " + errnoText(e.getErrorCode()));
                }
                inUse++;
            }
        }
        if (setup.candidates().size() == 1) {
            throw new IOException("/dev/nbd" + setup.candidates().get(0) + (inUse > 0 ? " is in use" : " does not exist"));
        }
        throw new IOException(inUse == setup.candidates().size()
                ? "every nbd device is in use (reload the module with more: rmmod nbd; modprobe nbd nbds_max=64)"
                : "no free nbd device could be opened");
    }

    private void configure(Opened device) throws IOException {
        int fd = device.fd();
        try {
            for (int i = 1; i < setup.kernelEnds().size(); i++) {
                LibC.INSTANCE.ioctl(fd, NbdAbi.SET_SOCK, setup.kernelEnds().get(i));
            }
            LibC.INSTANCE.ioctl(fd, NbdAbi.SET_BLKSIZE, BLOCK_SIZE);
            LibC.INSTANCE.ioctl(fd, NbdAbi.SET_SIZE, setup.size());
            LibC.INSTANCE.ioctl(fd, NbdAbi.SET_FLAGS, setup.flags());
            LibC.INSTANCE.ioctl(fd, NbdAbi.SET_TIMEOUT, setup.timeoutSeconds());
        } catch (LastErrorException e) {
            throw new IOException("/dev/nbd" + device.index() + ": cannot configure it: " + errnoText(e.getErrorCode()));
        }
    }

    /**
     * A signal that reaches this thread inside NBD_DO_IT makes the kernel drop the device's sockets
     * at once, failing every request in flight. SIGTERM and SIGINT are meant to stop the server
     * gracefully (the shutdown hook disconnects after a flush), and the kernel may deliver them to
     * any thread that does not block them: this one blocks them. Only SIGKILL, which ends the process,
     * still interrupts it, as it should.
     */
    private static void blockStopSignals() {
        try (Memory set = new Memory(LibC.SIGSET_SIZE)) {
            set.clear();
            long bits = 0;
            for (int signal : new int[] {SIGHUP, SIGINT, SIGQUIT, SIGTERM}) {
                bits |= 1L << (signal - 1);
            }
            set.setLong(0, bits);
            int error = LibC.INSTANCE.pthread_sigmask(LibC.SIG_BLOCK, set, null);
            if (error != 0) {
                System.err.println("vdmount: cannot block signals in the nbd thread: errno " + error);
            }
        }
    }

    /** Drops the sockets and whatever is still queued, and lets the device go. */
    private static void release(int fd) {
        try {
            LibC.INSTANCE.ioctl(fd, NbdAbi.CLEAR_SOCK, 0L);
        } catch (LastErrorException e) {
            // already cleared
        }
        closeQuietly(fd);
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.INSTANCE.close(fd);
        } catch (LastErrorException e) {
            // nothing more to do with it
        }
    }

    static String errnoText(int errno) {
        return errno == Errno.ETIMEDOUT ? "a request timed out" : Errno.text(errno);
    }
}
