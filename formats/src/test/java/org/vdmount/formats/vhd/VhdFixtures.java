package org.vdmount.formats.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Turns a dynamic VHD that qemu made into a differencing disk over another one, as Hyper-V would
 * write it: footer type 4, the parent's UUID and name in the dynamic header, a W2ru locator with
 * the relative path, checksums made anew. qemu cannot make differencing VHDs (nor read them over
 * their parent), so the tests build the expected bytes from qemu's reading of each layer.
 */
final class VhdFixtures {
    private VhdFixtures() {
    }

    static UUID uuid(Path vhd) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(vhd));
        int footer = b.getLong(0) == 0x636f6e6563746978L ? 0 : b.capacity() - 512;
        return new UUID(b.getLong(footer + 68), b.getLong(footer + 76));
    }

    /** Makes {@code child} a differencing disk whose parent is {@code parentPath} (as written) with {@code parentUuid}. */
    static void makeDifferencing(Path child, String parentPath, UUID parentUuid, String platform) throws IOException {
        byte[] old = Files.readAllBytes(child);
        int body = old.length - 512;
        byte[] path = platform.equals("MacX") ? ("file://" + parentPath).getBytes(StandardCharsets.UTF_8)
                : parentPath.getBytes(StandardCharsets.UTF_16LE);
        ByteBuffer out = ByteBuffer.allocate(body + 512 + 512);
        out.put(old, 0, body);
        out.put(body, path);
        ByteBuffer footer = ByteBuffer.wrap(old, body, 512).slice();
        footer.putInt(60, VhdFooter.DIFFERENCING);
        sign(footer, 64);
        out.put(body + 512, footer, 0, 512);
        ByteBuffer head = out.slice(0, 512);
        head.put(0, footer, 0, 512);
        ByteBuffer dyn = out.slice(512, 1024);
        dyn.putLong(40, parentUuid.getMostSignificantBits());
        dyn.putLong(48, parentUuid.getLeastSignificantBits());
        byte[] name = Path.of(parentPath.replace('\\', '/')).getFileName().toString()
                .getBytes(StandardCharsets.UTF_16BE);
        dyn.put(64, new byte[512]);
        dyn.put(64, name);
        dyn.put(576, platform.getBytes(StandardCharsets.ISO_8859_1));
        dyn.putInt(580, 512);
        dyn.putInt(584, path.length);
        dyn.putLong(592, body);
        sign(dyn, 36);
        Files.write(child, out.array());
    }

    /** Clears the bitmap bits of {@code sectors} sectors from {@code first} in block {@code block}. */
    static void clearBitmap(Path vhd, long block, int first, int sectors) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(vhd));
        long table = b.getLong(512 + 16);
        long bitmap = Integer.toUnsignedLong(b.getInt((int) (table + 4 * block))) * 512;
        for (int s = first; s < first + sectors; s++) {
            int at = (int) (bitmap + s / 8);
            b.put(at, (byte) (b.get(at) & ~(0x80 >>> (s % 8))));
        }
        Files.write(vhd, b.array());
    }

    static void sign(ByteBuffer b, int at) {
        b.putInt(at, 0);
        b.putInt(at, (int) VhdFooter.checksum(b, at));
    }

    /** Rewrites a checksum in place in the file. */
    static void resign(Path vhd, long at, int length, int checksumAt) throws IOException {
        byte[] all = Files.readAllBytes(vhd);
        ByteBuffer part = ByteBuffer.wrap(all, (int) at, length).slice();
        sign(part, checksumAt);
        Files.write(vhd, all);
    }
}
