package org.vdmount.mounter.read;

import com.google.common.base.Throwables;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Feeds the chunks of an {@link OrderedReader} to several digests at once, each on a thread of its
 * own, so that {@code verify --hash md5 --hash sha1 --hash sha256} takes as long as the slowest
 * hash alone rather than the sum of the three. The first digest runs on the consumer's thread;
 * each chunk is handed back (its buffer reused) only when every digest has taken it.
 */
public final class ParallelDigests implements OrderedReader.Consumer, AutoCloseable {
    private final List<MessageDigest> digests;
    private final ExecutorService helpers;

    public ParallelDigests(List<MessageDigest> digests) {
        this.digests = List.copyOf(digests);
        this.helpers = digests.size() < 2 ? null : Executors.newFixedThreadPool(digests.size() - 1, r -> {
            Thread t = new Thread(r, "vdmount-hash");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void accept(Chunk chunk) throws IOException {
        List<Future<?>> others = new ArrayList<>(digests.size() - 1);
        for (MessageDigest d : digests.subList(1, digests.size())) {
            ByteBuffer data = chunk.data().duplicate();
            others.add(helpers.submit(() -> d.update(data)));
        }
        digests.get(0).update(chunk.data().duplicate());
        try {
            for (Future<?> f : others) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            Throwables.throwIfUnchecked(e.getCause());
            throw new IOException(e.getCause());
        }
    }

    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdownNow();
        }
    }
}
