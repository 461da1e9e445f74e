package org.vdmount.formats;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Predicate;

/**
 * Formats vdmount recognises but does not read. Their files are refused by name: read as raw they
 * would give a wrong disk with a success status, the worst answer a forensic tool can give.
 * Signatures as the formats' own documents and qemu's probes define them.
 */
final class UnsupportedFormats {

    private record Signature(String description, Predicate<ProbeBytes> matches) {
    }

    /**
     * The overlay format of vdmount's development builds, before overlays became qcow2 files. Its
     * data is recovered with the build that wrote it (see the README's section on overlays).
     */
    static final String RETIRED_OVERLAY = "an overlay in vdmount's retired format (development builds before "
            + "qcow2 overlays; attach it with the build that wrote it and copy the disk out)";

    private static final List<Signature> SIGNATURES = List.of(
            new Signature("a qcow (version 1) image", p -> p.headHas(0, "QFI\u00fb") && intAt(p, 4) == 1),
            new Signature("a QED image", p -> p.headHas(0, "QED\0")),
            new Signature("a Bochs image", p -> p.headHas(0, "Bochs Virtual HD Image\0")),
            new Signature("a cloop compressed image", p -> p.headHas(0, "#!/bin/sh\n#V2.0 Format\nmodprobe cloop")),
            new Signature("an Apple disk image (DMG/UDIF)", p -> p.tailHas(0, "koly") && intAt(p.tail(), 4) == 4),
            new Signature("an Apple sparse image (ASIF)", p -> p.headHas(0, "shdw")),
            new Signature("an AFF evidence file", p -> p.headHas(0, "AFF10\r\n\0")),
            new Signature("an EWF logical evidence file (L01)", p -> p.headHas(0, "LVF\u0009\r\n\u00ff\0")),
            new Signature("an EWF2 evidence file (Ex01)", p -> p.headHas(0, "EVF2\r\n\u0081\0")),
            new Signature(RETIRED_OVERLAY, p -> p.headHas(0, "VDMOUNT-OVERLAY\0")),
            new Signature("a gzip-compressed file", p -> p.headHas(0, "\u001f\u008b\u0008")),
            new Signature("a bzip2-compressed file", p -> p.headHas(0, "BZh") && p.head().remaining() > 10
                    && p.headHas(4, "1AY&SY")),
            new Signature("an xz-compressed file", p -> p.headHas(0, "\u00fd7zXZ\0")),
            new Signature("a zstd-compressed file", p -> p.headHas(0, "\u0028\u00b5\u002f\u00fd")));

    private UnsupportedFormats() {
    }

    /** What the file is, when it is a format vdmount knows but does not read; null otherwise. */
    static String recognise(ProbeBytes probe) {
        for (Signature s : SIGNATURES) {
            if (s.matches().test(probe)) {
                return s.description();
            }
        }
        return null;
    }

    private static int intAt(ProbeBytes p, int offset) {
        return intAt(p.head(), offset);
    }

    private static int intAt(ByteBuffer b, int offset) {
        return b.remaining() >= offset + 4 ? b.getInt(b.position() + offset) : -1;
    }
}
