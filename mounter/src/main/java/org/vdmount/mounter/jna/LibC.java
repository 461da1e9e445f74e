package org.vdmount.mounter.jna;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls the transports need that Java does not offer: raw descriptors, ioctl, poll,
 * mount, socket pairs, memory maps. size_t, ssize_t and long are 64 bits (LP64 Linux only).
 */
public interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int O_RDONLY = 0;
    int O_RDWR = 2;
    int O_NONBLOCK = 04000;
    int O_CLOEXEC = 02000000;
    short POLLIN = 0x1;
    long MS_RDONLY = 1;
    long MS_NOSUID = 2;
    long MS_NODEV = 4;
    int MNT_FORCE = 1;
    int MNT_DETACH = 2;
    int AF_UNIX = 1;
    int SOCK_STREAM = 1;
    int SOCK_CLOEXEC = 02000000;
    int SHUT_RDWR = 2;
    int MSG_NOSIGNAL = 0x4000;
    int SIG_BLOCK = 0;
    /** sigset_t in glibc: 1024 bits. */
    int SIGSET_SIZE = 128;

    int open(String path, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int mount(String source, String target, String fsType, long flags, String data) throws LastErrorException;

    int umount2(String target, int flags) throws LastErrorException;

    int ioctl(int fd, long request, Pointer arg) throws LastErrorException;

    int ioctl(int fd, long request, long arg) throws LastErrorException;

    /** {@code fds} receives the two connected descriptors. */
    int socketpair(int domain, int type, int protocol, int[] fds) throws LastErrorException;

    int shutdown(int fd, int how) throws LastErrorException;

    long read(int fd, Pointer buf, long count) throws LastErrorException;

    int fsync(int fd) throws LastErrorException;

    /** lseek(2) whence: the next hole at or after the offset (the end of the file counts as one). */
    int SEEK_HOLE = 4;

    long lseek(int fd, long offset, int whence) throws LastErrorException;

    /** write(2) for sockets, with MSG_NOSIGNAL so a vanished peer is an EPIPE and not a signal. */
    long send(int fd, Pointer buf, long count, int flags) throws LastErrorException;

    /** {@code set} and {@code oldSet} point to sigset_t ({@link #SIGSET_SIZE} bytes); {@code oldSet} may be null. */
    int pthread_sigmask(int how, Pointer set, Pointer oldSet);

    /** The calling thread's id, which is what the kernel records of it (e.g. in /sys/block/nbdN/pid). */
    int gettid();

    /** {@code fds} points to struct pollfd[] (int fd; short events; short revents). */
    int poll(Pointer fds, long nfds, int timeoutMillis) throws LastErrorException;

    int PR_SET_IO_FLUSHER = 57;
    int MCL_CURRENT = 1;
    int MCL_FUTURE = 2;
    int MCL_ONFAULT = 4;

    int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws LastErrorException;

    int mlockall(int flags) throws LastErrorException;

    int PROT_READ = 1;
    int PROT_WRITE = 2;
    int MAP_SHARED = 0x01;
    int MAP_PRIVATE = 0x02;
    int MAP_ANONYMOUS = 0x20;
    int MAP_NORESERVE = 0x4000;
    int MAP_POPULATE = 0x8000;

    /** Returns MAP_FAILED ((void *) -1) with errno set on failure, which JNA turns into the exception. */
    Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset) throws LastErrorException;

    int munmap(Pointer addr, long length) throws LastErrorException;

    /** Linux ioctl request numbers, as the _IOC macros build them. */
    static long ioc(int dir, int type, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }

    int IOC_NONE = 0;
    int IOC_WRITE = 1;
    int IOC_READ = 2;
}
