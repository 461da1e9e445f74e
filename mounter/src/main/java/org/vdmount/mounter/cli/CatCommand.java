package org.vdmount.mounter.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.read.Chunk;
import org.vdmount.mounter.read.OrderedReader;
import org.vdmount.mounter.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vdmount cat}: the raw bytes of the virtual disk, as qemu-img convert -O raw gives them. */
@Command(name = "cat",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        description = {
            "Write the virtual disk's raw bytes to standard output or a file.",
            "",
            "Writes the whole disk, or the range --offset/--length, as 'qemu-img convert -O raw' would. With -o, the output file is sparse: stretches the image does not store, and blocks of 4 KiB that are all zeros, are not written. Holes are never read from disk, so a small range of a huge sparse image is answered at once. Several threads read and decompress ahead; the output is always in order. A progress line is shown on stderr when it is a terminal.",
            "",
            "SIZE values accept the suffixes K, M, G, T, P (powers of 1024)."},
        footer = {"", "Examples:",
            "  vdmount cat disk.vmdk -o disk.raw",
            "  vdmount cat disk.qcow2 --offset 1M --length 512 | xxd",
            "  vdmount cat app.ova --disk 2 | sha256sum"})
public final class CatCommand implements Callable<Integer> {
    private static final int ZERO_BLOCK = 4096;

    @Mixin
    ImageOptions image;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write to FILE (created or truncated; written sparse) instead of standard output.")
    Path output;

    @Option(names = "--offset", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Start at this byte of the virtual disk (default 0).")
    long offset;

    @Option(names = "--length", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Copy this many bytes (default: to the end of the disk).")
    Long length;

    @Option(names = "--threads", paramLabel = "N",
            description = "Reader threads (default: one per CPU).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Override
    public Integer call() throws IOException {
        try (VirtualDisk disk = image.openReadOnly()) {
            if (offset > disk.size()) {
                throw new UserError("--offset " + offset + " is past the end of the disk (" + disk.size() + " bytes)");
            }
            long count = length == null ? disk.size() - offset : length;
            if (count > disk.size() - offset) {
                throw new UserError("--offset " + offset + " --length " + count + " runs past the end of the disk ("
                        + disk.size() + " bytes)");
            }
            if (threads < 1) {
                throw new UserError("--threads must be at least 1");
            }
            OrderedReader reader = new OrderedReader(disk, threads, OrderedReader.DEFAULT_CHUNK);
            try (Progress progress = Progress.onTerminal("copying", count)) {
                if (output == null) {
                    return toStdout(reader, count, progress);
                }
                toFile(disk, reader, count, progress);
            }
        }
        return 0;
    }

    private int toStdout(OrderedReader reader, long count, Progress progress) throws IOException {
        @SuppressWarnings("resource") // standard output stays open for the JVM's lifetime
        FileChannel out = new FileOutputStream(FileDescriptor.out).getChannel();
        try {
            reader.read(offset, count, chunk -> {
                ByteBuffer data = chunk.data();
                while (data.hasRemaining()) {
                    out.write(data);
                }
                progress.advance(chunk.length());
            });
        } catch (IOException e) {
            if ("Broken pipe".equals(e.getMessage())) {
                return 141; // like any program killed by SIGPIPE: the reader has had enough
            }
            throw e;
        }
        return 0;
    }

    private void toFile(VirtualDisk disk, OrderedReader reader, long count, Progress progress) throws IOException {
        refuseToOverwriteTheImage(disk);
        boolean regular = !Files.exists(output) || Files.isRegularFile(output);
        try (FileChannel out = FileChannel.open(output, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            reader.read(offset, count, chunk -> {
                writeStored(out, chunk, regular);
                progress.advance(chunk.length());
            });
            if (regular) {
                // Trailing holes leave the file short; its length must still be the range's length.
                ByteBuffer none = ByteBuffer.allocate(0);
                if (out.size() < count) {
                    out.truncate(count);
                    out.write(none, count);
                }
            }
        }
    }

    /** Writes the parts of a chunk that hold data, skipping 4 KiB blocks of zeros in a regular file. */
    private void writeStored(FileChannel out, Chunk chunk, boolean sparse) throws IOException {
        long base = offset;
        ByteBuffer data = chunk.data();
        if (!sparse) {
            write(out, data.duplicate(), chunk.offset() - base);
            return;
        }
        for (long[] range : chunk.stored()) {
            int from = (int) (range[0] - chunk.offset());
            int to = (int) (range[1] - chunk.offset());
            int runStart = -1;
            for (int at = from; at < to; at += ZERO_BLOCK) {
                int blockEnd = Math.min(to, at + ZERO_BLOCK);
                boolean zero = isZero(data, at, blockEnd);
                if (!zero && runStart < 0) {
                    runStart = at;
                } else if (zero && runStart >= 0) {
                    write(out, data.duplicate().position(runStart).limit(at), chunk.offset() + runStart - base);
                    runStart = -1;
                }
            }
            if (runStart >= 0) {
                write(out, data.duplicate().position(runStart).limit(to), chunk.offset() + runStart - base);
            }
        }
    }

    private static boolean isZero(ByteBuffer data, int from, int to) {
        int at = from;
        for (; at + 8 <= to; at += 8) {
            if (data.getLong(at) != 0) {
                return false;
            }
        }
        for (; at < to; at++) {
            if (data.get(at) != 0) {
                return false;
            }
        }
        return true;
    }

    private static void write(FileChannel out, ByteBuffer part, long position) throws IOException {
        long pos = position;
        while (part.hasRemaining()) {
            pos += out.write(part, pos);
        }
    }

    private void refuseToOverwriteTheImage(VirtualDisk disk) throws IOException {
        if (!Files.exists(output)) {
            return;
        }
        for (VirtualDisk layer = disk; layer != null; layer = layer.backing().orElse(null)) {
            for (String file : layer.info().files()) {
                Path member = Path.of(file);
                if (Files.exists(member) && Files.isSameFile(member, output)) {
                    throw new UserError(output + ": is part of the image being read; refusing to overwrite it");
                }
            }
        }
    }
}
