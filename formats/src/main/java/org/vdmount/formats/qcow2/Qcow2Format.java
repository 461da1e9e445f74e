package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/** QEMU copy-on-write v2 and v3. Placeholder until the reader lands: recognised, refused. */
public final class Qcow2Format implements ImageFormat {
    static final int MAGIC = 0x514649fb;

    @Override
    public String name() {
        return "qcow2";
    }

    @Override
    public boolean probe(ByteBuffer head) {
        return head.remaining() >= 4 && head.getInt(head.position()) == MAGIC;
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        throw new ImageException(storage.name(), "qcow2 is not supported yet");
    }
}
