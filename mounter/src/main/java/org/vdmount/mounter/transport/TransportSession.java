package org.vdmount.mounter.transport;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** A live attachment inside the server process. */
public interface TransportSession extends Closeable {

    /** The nodes made: the whole disk first, then the partitions. */
    List<AttachedDevice> devices();

    /** What {@link Transport#detach} will need later (e.g. a mount point), saved with the attachment. */
    Map<String, String> state();

    /** What the user should know about the attachment (e.g. partitions it could not show), one line each. */
    default List<String> warnings() {
        return List.of();
    }

    /** Blocks until the devices are taken away from outside (by {@code vdmount detach}). */
    void awaitDetached() throws InterruptedException;

    /** Tears the devices down from inside, e.g. when a foreground server is stopped. */
    @Override
    void close() throws IOException;
}
