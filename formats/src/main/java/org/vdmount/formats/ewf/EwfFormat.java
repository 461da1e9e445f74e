package org.vdmount.formats.ewf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * EWF version 1, the Expert Witness Compression Format of EnCase, FTK Imager, linen and libewf's
 * ewfacquire (.E01, .E02 ...): disk evidence, read-only always. Follows libyal's "Expert Witness
 * Compression Format (EWF)" document; checked byte for byte against libewf's ewfexport.
 */
public final class EwfFormat implements ImageFormat {
    static final byte[] SIGNATURE = {'E', 'V', 'F', 0x09, 0x0d, 0x0a, (byte) 0xff, 0x00};

    @Override
    public String name() {
        return "ewf";
    }

    @Override
    public List<String> aliases() {
        return List.of("e01", "encase");
    }

    @Override
    public boolean probe(ByteBuffer head) {
        if (head.remaining() < SIGNATURE.length) {
            return false;
        }
        for (int i = 0; i < SIGNATURE.length; i++) {
            if (head.get(head.position() + i) != SIGNATURE[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return EwfOpener.open(storage, context);
    }
}
