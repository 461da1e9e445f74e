package org.vdmount.mounter.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.read.OrderedReader;
import org.vdmount.mounter.read.PositionalCopy;
import org.vdmount.mounter.util.Progress;
import org.vdmount.mounter.util.UsageError;
import org.vdmount.mounter.util.UserError;
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
            "Writes the whole disk, or the range --offset/--length, as 'qemu-img convert -O raw' would. With -o, the output file is sparse, and removed again if the image cannot be read to the end: stretches the image does not store (holes, zero clusters) are not written, nor are blocks of 4 KiB of zeros in compressed data; stretches the image stores uncompressed are copied by the kernel (copy_file_range), zeros and all, unless --scan-zeros. Holes are never read from disk, so a small range of a huge sparse image is answered at once. Several threads read and decompress ahead; the output is always in order. A progress line is shown on stderr when it is a terminal.",
            "",
            "SIZE values accept the suffixes K, M, G, T, P (powers of 1024)."},
        footer = {"", "Examples:",
            "  vdmount cat disk.vmdk -o disk.raw",
            "  vdmount cat disk.qcow2 --offset 1M --length 512 | od -A d -t x1",
            "  vdmount cat app.ova --disk 2 | sha256sum"})
public final class CatCommand implements Callable<Integer> {
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

    @Option(names = "--keep-partial",
            description = "With -o, keep what was copied when the image cannot be read to the end (by default the "
                    + "incomplete FILE is removed, so that no file of full size but wrong content is left).")
    boolean keepPartial;

    @Option(names = "--scan-zeros",
            description = "With -o: leave blocks of 4 KiB of zeros that the image stores uncompressed as holes too (they are then read and checked instead of copied by the kernel, which is slower).")
    boolean scanZeros;

    @Option(names = "--threads", paramLabel = "N",
            description = "Reader threads (default: one per CPU).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Override
    public Integer call() throws IOException {
        try (VirtualDisk disk = image.openReadOnly()) {
            if (offset > disk.size()) {
                throw new UsageError("--offset " + offset + " is past the end of the disk (" + disk.size() + " bytes)");
            }
            long count = length == null ? disk.size() - offset : length;
            if (count > disk.size() - offset) {
                throw new UsageError("--offset " + offset + " --length " + count + " runs past the end of the disk ("
                        + disk.size() + " bytes)");
            }
            if (threads < 1) {
                throw new UsageError("--threads must be at least 1");
            }
            try (Progress progress = Progress.onTerminal("copying", count)) {
                if (output == null) {
                    return toStdout(new OrderedReader(disk, threads, OrderedReader.DEFAULT_CHUNK), count, progress);
                }
                toFile(disk, count, progress);
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

    private void toFile(VirtualDisk disk, long count, Progress progress) throws IOException {
        refuseToOverwriteTheImage(disk);
        boolean existed = Files.exists(output);
        boolean regular = !existed || Files.isRegularFile(output);
        try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "rw")) {
            // An existing file is emptied first, as qemu-img and cp do. A file just created is
            // empty already and is not truncated: on ext4, truncating to 0 marks a file as being
            // replaced, and its first close then starts writing every dirty page out
            // (auto_da_alloc), which cost a 768 MiB copy to disk twice qemu-img's time.
            if (regular && existed) {
                file.setLength(0);
            }
            new PositionalCopy(disk, threads, OrderedReader.DEFAULT_CHUNK, scanZeros).copy(offset, count, output,
                    regular, progress::advance);
            // The length is set once the copy is written, for a disk that ends in a hole. Not
            // before: on ext4, 4 MiB writes into holes below a file's end ran ten times slower
            // than writes that extend it (768 MiB: 1.6-2.0 s against 0.13-0.16 s); tmpfs does
            // not mind either way.
            if (regular) {
                file.setLength(count);
            }
        } catch (IOException | RuntimeException e) {
            throw partial(e, regular);
        }
    }

    /**
     * A copy that failed half way leaves a file with holes where chunks were never written, which
     * could pass for the disk: remove it (a regular file only: a device is the user's), unless asked to keep it.
     */
    private RuntimeException partial(Exception e, boolean regular) {
        String reason = VdmountCommand.describe(e);
        if (!regular) {
            return new UserError(reason + " (" + output + " holds the bytes copied before the failure)");
        }
        if (keepPartial) {
            return new UserError(reason + " (kept the incomplete " + output + ", as --keep-partial asks)");
        }
        try {
            Files.deleteIfExists(output);
            return new UserError(reason + " (removed the incomplete " + output + "; --keep-partial keeps it)");
        } catch (IOException cannot) {
            return new UserError(reason + " (" + output + " is incomplete and could not be removed: "
                    + cannot.getMessage() + ")");
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
