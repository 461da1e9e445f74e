package org.vdmount.formats.contract;

import static org.vdmount.formats.testing.TestImages.qemuImg;
import static org.vdmount.formats.testing.TestImages.qemuIo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.ewf.Ewf;
import org.vdmount.formats.testing.TestImages;

/**
 * The images the contract test runs on: one per format and subformat, made from the same raw
 * disk with the real tools. A new format adds its lines here.
 */
final class ContractImages {
    static final long SIZE = 8L << 20;

    /** Makes the image in {@code dir} from {@code raw} (the disk's bytes) and returns its path. */
    @FunctionalInterface
    interface Builder {
        Path build(Path dir, Path raw) throws Exception;
    }

    /** Where in a built image its own structures are, {start, length} pairs, for the damage test. */
    @FunctionalInterface
    interface Structures {
        List<long[]> of(Path image) throws Exception;
    }

    /**
     * @param qemuFormat the format qemu reads it as (it probes a fixed VHD as raw)
     * @param structures where its headers and tables are, beyond its first sectors and its end
     */
    record Image(String name, String qemuFormat, Builder builder, Structures structures) {
        Image(String name, String qemuFormat, Builder builder) {
            this(name, qemuFormat, builder, image -> List.of());
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private ContractImages() {
    }

    static List<Image> all() {
        List<Image> images = new ArrayList<>();
        images.add(new Image("raw", "raw", (dir, raw) -> raw));
        images.add(convert("qcow2", "qcow2"));
        images.add(convert("qcow2-compressed", "qcow2", "-c", "-o", "cluster_size=16384"));
        images.add(new Image("qcow2-chain", "qcow2", ContractImages::qcow2Chain));
        images.add(convert("vmdk-monolithicSparse", "vmdk", "-o", "subformat=monolithicSparse"));
        images.add(convert("vmdk-streamOptimized", "vmdk", "-o", "subformat=streamOptimized"));
        images.add(convert("vmdk-twoGbMaxExtentFlat", "vmdk", "-o", "subformat=twoGbMaxExtentFlat"));
        images.add(convert("vhd-dynamic", "vpc", "-o", "subformat=dynamic"));
        images.add(convert("vhd-fixed", "vpc", "-o", "subformat=fixed,force_size=on"));
        images.add(withStructures(convert("vhdx-dynamic", "vhdx", "-o", "subformat=dynamic,block_size=1M"),
                ContractImages::vhdxStructures));
        images.add(convert("vdi-dynamic", "vdi"));
        images.add(convert("vdi-static", "vdi", "-o", "static=on"));
        images.add(convert("parallels", "parallels", "-o", "cluster_size=64K"));
        images.add(withStructures(convert("vhdx-fixed", "vhdx", "-o", "subformat=fixed,block_size=2M"),
                ContractImages::vhdxStructures));
        images.add(new Image("raw-split", "raw", ContractImages::splitRaw));
        images.add(ewf("e01-segments", "fast", 64, 3L << 20));
        images.add(ewf("e01-stored", "none", 128, 0));
        return images;
    }

    /** The disk split into 3 MiB files disk.001, disk.002... as split(1) makes them. */
    private static Path splitRaw(Path dir, Path raw) throws Exception {
        TestImages.run(dir, "split", "-b", "3M", "-d", "-a", "3", "--numeric-suffixes=1", raw.toString(), "disk.");
        Path first = dir.resolve("disk.001");
        Files.copy(raw, first.resolveSibling("disk.001.qemu.raw"));
        return first;
    }

    /**
     * An E01 set made by ewfacquire; the reference reading beside it (what the checks compare with)
     * is libewf's ewfexport, since qemu does not read EWF.
     */
    private static Image ewf(String name, String compression, int chunkSectors, long segmentBytes) {
        return new Image(name, "raw", (dir, raw) -> {
            Path e01 = Ewf.acquire(dir, raw, name, compression, chunkSectors, segmentBytes, "encase6", true);
            Files.move(Ewf.export(e01), e01.resolveSibling(e01.getFileName() + ".qemu.raw"));
            return e01;
        });
    }

    private static Image withStructures(Image image, Structures structures) {
        return new Image(image.name(), image.qemuFormat(), image.builder(), structures);
    }

    /** A VHDX's headers, region tables, and the first bytes of its metadata and BAT regions. */
    private static List<long[]> vhdxStructures(Path image) throws Exception {
        List<long[]> out = new ArrayList<>(List.of(new long[] {0, 8}, new long[] {65536, 80},
                new long[] {131072, 80}, new long[] {196608, 80}, new long[] {262144, 80}));
        ByteBuffer regions = ByteBuffer.allocate(80).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(image)) {
            ch.read(regions, 196608);
        }
        for (int i = 0; i < 2; i++) {
            out.add(new long[] {regions.getLong(16 + 32 * i + 16), 256});
        }
        return out;
    }

    /** The disk every image holds: data, written zeros, holes, and data at unaligned places. */
    static void writeRaw(Path raw) throws Exception {
        Files.deleteIfExists(raw);
        TestImages.writePattern(raw, 0, 1 << 20, 1);
        TestImages.writePattern(raw, 1 << 20, 1 << 20, -1); // replaced by zeros below
        TestImages.writePattern(raw, (5L << 20) + 512, (1 << 20) + 4097, 2);
        TestImages.writePattern(raw, SIZE - 1536, 1536, 3);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1 << 20), 1 << 20);
        }
    }

    static Image convert(String name, String format, String... options) {
        return new Image(name, format, (dir, raw) -> {
            Path out = dir.resolve(name + "." + format);
            List<String> args = new ArrayList<>(List.of("convert", "-f", "raw", "-O", format));
            args.addAll(List.of(options));
            args.add(raw.toString());
            args.add(out.toString());
            qemuImg(dir, args.toArray(String[]::new));
            return out;
        });
    }

    /** A base holding the disk, and a child over it with data of its own and a hole punched in. */
    private static Path qcow2Chain(Path dir, Path raw) throws Exception {
        Path base = dir.resolve("chain-base.qcow2");
        Path top = dir.resolve("chain-top.qcow2");
        qemuImg(dir, "convert", "-f", "raw", "-O", "qcow2", raw.toString(), base.toString());
        qemuImg(dir, "create", "-f", "qcow2", "-b", base.getFileName().toString(), "-F", "qcow2",
                top.toString());
        qemuIo(top, "qcow2", "write -P 0x5a 300k 100k", "write -z 6M 64k", "write -P 0x11 7M 5000");
        return top;
    }
}
