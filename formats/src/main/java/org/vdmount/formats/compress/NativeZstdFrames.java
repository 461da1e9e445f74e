package org.vdmount.formats.compress;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.lang.ref.Cleaner;

/**
 * zstd frames through the system's libzstd (libzstd.so.1, which qemu-img uses too), called through
 * JNA: the reference decoder, several times faster than the pure-Java one. Each instance has its own
 * decoding context and native buffers (one per reader thread, as every {@link Codec}); the context
 * is freed when the instance is collected. Loaded only when a zstd image is read.
 */
final class NativeZstdFrames implements ZstdFrames {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Pointer context;
    private Memory input = new Memory(64 * 1024);
    private Memory output = new Memory(64 * 1024);

    /** The bound functions (size_t as long: 64-bit Linux only, which {@link #available} checks). */
    private static final class Lib {
        static final boolean LOADED = load();

        private static boolean load() {
            if (Native.SIZE_T_SIZE != 8) {
                return false;
            }
            try {
                Native.register(Lib.class, NativeLibrary.getInstance("libzstd.so.1"));
                return ZSTD_versionNumber() >= 10300; // 1.3: what Debian 10 ships; qemu needs 1.4
            } catch (LinkageError e) {
                return false;
            }
        }

        static native int ZSTD_versionNumber();

        static native Pointer ZSTD_createDCtx();

        static native long ZSTD_freeDCtx(Pointer context);

        static native long ZSTD_decompressDCtx(Pointer context, Pointer dst, long dstCapacity, Pointer src, long srcSize);

        static native int ZSTD_isError(long code);

        static native String ZSTD_getErrorName(long code);
    }

    /** Whether libzstd loads here. */
    static boolean available() {
        try {
            return Lib.LOADED;
        } catch (LinkageError e) {
            return false; // no JNA library for this machine
        }
    }

    NativeZstdFrames() {
        Pointer created = Lib.ZSTD_createDCtx();
        if (created == null) {
            throw new OutOfMemoryError("libzstd could not allocate a decoding context");
        }
        this.context = created;
        CLEANER.register(this, () -> Lib.ZSTD_freeDCtx(created));
    }

    @Override
    public int decode(byte[] in, int at, int length, byte[] out, int outAt, int capacity) throws Codec.DamagedException {
        if (input.size() < length) {
            input = new Memory(Math.max(length, input.size() * 2));
        }
        if (output.size() < capacity) {
            output = new Memory(Math.max(capacity, output.size() * 2));
        }
        input.write(0, in, at, length);
        long produced = Lib.ZSTD_decompressDCtx(context, output, capacity, input, length);
        if (Lib.ZSTD_isError(produced) != 0) {
            throw new Codec.DamagedException("zstd data is damaged (" + Lib.ZSTD_getErrorName(produced) + ")");
        }
        output.read(0, out, outAt, (int) produced);
        return (int) produced;
    }
}
