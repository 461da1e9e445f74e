package org.vdmount.formats;

import java.io.IOException;

/** Receives the runs of a mapped range, in order, contiguous, covering the range exactly. */
@FunctionalInterface
public interface RunSink {
    void accept(Run run) throws IOException;
}
