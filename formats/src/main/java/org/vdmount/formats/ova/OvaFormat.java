package org.vdmount.formats.ova;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * OVA appliances: a tar archive (ustar or pax) holding an OVF descriptor and the disks. Disks are
 * read in place through the tar entries' data offsets, never extracted.
 *
 * <p>References followed: DMTF DSP0243 (OVF 2.1, section 5.3: the OVA is a tar whose first member
 * is the .ovf); POSIX.1-2008 pax / ustar header layout.
 */
public final class OvaFormat implements ImageFormat {
    /** Headers looked at when probing; an OVA's .ovf comes first, after at most a pax header. */
    private static final int PROBE_HEADERS = 8;

    @Override
    public String name() {
        return "ova";
    }

    @Override
    public boolean probe(ByteBuffer head) {
        ByteBuffer b = head.duplicate();
        int base = b.position();
        int pos = 0;
        for (int n = 0; n < PROBE_HEADERS && pos + 512 <= b.remaining(); n++) {
            if (!ascii(b, base + pos + 257, 5).equals("ustar")) {
                return false;
            }
            String name = cString(b, base + pos, 100);
            String prefix = cString(b, base + pos + 345, 155);
            char type = (char) b.get(base + pos + 156);
            long size = octal(b, base + pos + 124, 12);
            if (size < 0) {
                return false;
            }
            if ((type == 'x' || type == 'L') && pos + 512 + size <= b.remaining()) {
                // The long name of the next member: in a pax "path=" record, or a GNU ././@LongLink.
                String text = ascii(b, base + pos + 512, (int) Math.min(size, 4096)).toLowerCase(Locale.ROOT);
                int nul = text.indexOf('\0');
                if (text.contains(".ovf\n") || (nul >= 0 ? text.substring(0, nul) : text).endsWith(".ovf")) {
                    return true;
                }
            }
            String full = prefix.isEmpty() ? name : prefix + "/" + name;
            if ((type == '0' || type == 0) && full.toLowerCase(Locale.ROOT).endsWith(".ovf")) {
                return true;
            }
            pos += 512 + (int) Math.min(Integer.MAX_VALUE / 2, (size + 511) / 512 * 512);
        }
        return false;
    }

    private static String ascii(ByteBuffer b, int at, int n) {
        if (at + n > b.limit()) {
            return "";
        }
        byte[] bytes = new byte[n];
        b.get(at, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static String cString(ByteBuffer b, int at, int n) {
        String s = ascii(b, at, n);
        int nul = s.indexOf('\0');
        return nul < 0 ? s : s.substring(0, nul);
    }

    private static long octal(ByteBuffer b, int at, int n) {
        String s = cString(b, at, n).trim();
        if (s.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public boolean holdsSeveralDisks() {
        return true;
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        List<TarArchiveEntry> disks = disks(storage);
        if (disks.isEmpty()) {
            throw new ImageException(storage.name(), "the OVA holds no disk");
        }
        int wanted = context.options().disk() == 0 ? 1 : context.options().disk();
        if (wanted < 1 || wanted > disks.size()) {
            throw new ImageException(storage.name(), "the OVA holds " + disks.size() + " disk"
                    + (disks.size() == 1 ? "" : "s") + "; there is no disk " + wanted);
        }
        return OvaDisk.open(storage, disks, wanted, context);
    }

    /**
     * The members of an archive cut short (a download that stopped), read one after the other until
     * the cut: the last one may hold fewer bytes than its header says.
     */
    private static List<TarArchiveEntry> entriesBeforeTheCut(Storage storage) {
        List<TarArchiveEntry> entries = new ArrayList<>();
        StorageInputStream in = new StorageInputStream(storage);
        try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                entry.setDataOffset(in.position());
                entries.add(entry);
            }
        } catch (IOException | IllegalArgumentException e) {
            // the cut: keep what came before it
        }
        return entries;
    }

    /** The archive's members that are disks: every regular file but the descriptor, manifest and certificate. */
    static List<TarArchiveEntry> disks(Storage storage) throws IOException {
        List<TarArchiveEntry> entries;
        try (TarFile tar = new TarFile(new StorageChannel(storage))) {
            entries = tar.getEntries();
        } catch (IOException | IllegalArgumentException e) {
            entries = entriesBeforeTheCut(storage);
            if (entries.isEmpty()) {
                throw new ImageException(storage.name(), "damaged OVA tar archive: " + e.getMessage());
            }
        }
        List<TarArchiveEntry> disks = new ArrayList<>();
        for (TarArchiveEntry e : entries) {
            String name = e.getName().toLowerCase(Locale.ROOT);
            if (!e.isFile() || name.endsWith(".ovf") || name.endsWith(".mf") || name.endsWith(".cert")) {
                continue;
            }
            if (e.isSparse()) {
                throw new ImageException(storage.name(), "OVA member " + e.getName()
                        + " is a sparse tar entry; it cannot be read in place");
            }
            disks.add(e);
        }
        return disks;
    }
}
