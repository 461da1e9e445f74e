package org.vdmount.mounter.read;

import com.google.common.base.Throwables;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Feeds the chunks of an {@link OrderedReader} to several digests at once, so that
 * {@code verify --hash md5 --hash sha1 --hash sha256} takes about as long as the slowest hash alone
 * rather than the sum of the three. The digests are dealt into as many groups as there are CPUs
 * (at most one group a digest), each group hashing the chunk on a thread of its own, the first on
 * the consumer's thread; each chunk is handed back (its buffer reused) when every group has taken
 * it. Groups are balanced by the time each digest has taken so far (longest first, each into the
 * least loaded group), starting from typical costs: with fewer CPUs than digests, three threads
 * taking turns on two CPUs left MD5, the slowest, waiting, where MD5 on one CPU and SHA-1 then
 * SHA-256 on the other finish together.
 */
public final class ParallelDigests implements OrderedReader.Consumer, AutoCloseable {
    /** Chunks between two re-balancings of the groups. */
    private static final int REBALANCE_EVERY = 16;

    private final List<Timed> digests = new ArrayList<>();
    private final int groupCount;
    private final ExecutorService helpers;
    private List<List<Timed>> groups;
    private int chunks;

    public ParallelDigests(List<MessageDigest> digests) {
        this(digests, Runtime.getRuntime().availableProcessors());
    }

    ParallelDigests(List<MessageDigest> digests, int cpus) {
        for (MessageDigest d : digests) {
            this.digests.add(new Timed(d));
        }
        this.groupCount = Math.max(1, Math.min(digests.size(), cpus));
        this.groups = balance(this.digests, groupCount);
        this.helpers = groupCount < 2 ? null : Executors.newFixedThreadPool(groupCount - 1, r -> {
            Thread t = new Thread(r, "vdmount-hash");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void accept(Chunk chunk) throws IOException {
        List<Future<?>> others = new ArrayList<>(groups.size() - 1);
        for (List<Timed> group : groups.subList(1, groups.size())) {
            others.add(helpers.submit(() -> hash(group, chunk.data())));
        }
        hash(groups.get(0), chunk.data());
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
        if (++chunks % REBALANCE_EVERY == 0 && groupCount > 1) {
            groups = balance(digests, groupCount);
        }
    }

    private static void hash(List<Timed> group, ByteBuffer data) {
        for (Timed d : group) {
            long start = System.nanoTime();
            d.digest.update(data.duplicate());
            d.nanos += System.nanoTime() - start;
        }
    }

    /** The groups, as the digests of each: the costliest first, each into the group with least to do. */
    static List<List<Timed>> balance(List<Timed> digests, int groupCount) {
        List<Timed> byCost = new ArrayList<>(digests);
        byCost.sort(Comparator.comparingDouble(Timed::cost).reversed());
        List<List<Timed>> groups = new ArrayList<>();
        double[] load = new double[groupCount];
        for (int g = 0; g < groupCount; g++) {
            groups.add(new ArrayList<>());
        }
        for (Timed d : byCost) {
            int least = 0;
            for (int g = 1; g < groupCount; g++) {
                if (load[g] < load[least]) {
                    least = g;
                }
            }
            groups.get(least).add(d);
            load[least] += d.cost();
        }
        return groups;
    }

    /** Which digests each group holds (algorithm names), for tests. */
    List<List<String>> groupNames() {
        List<List<String>> names = new ArrayList<>();
        for (List<Timed> group : groups) {
            names.add(group.stream().map(t -> t.digest.getAlgorithm()).toList());
        }
        return names;
    }

    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdownNow();
        }
    }

    /** A digest and the time its updates have taken. */
    static final class Timed {
        final MessageDigest digest;
        /** Written by whichever thread hashed the last chunk; read after the chunk's barrier. */
        volatile long nanos;

        Timed(MessageDigest digest) {
            this.digest = digest;
        }

        /** The time taken so far, or before any, a typical cost (relative: MD5 as 1) on a current x86 CPU. */
        double cost() {
            if (nanos > 0) {
                return nanos;
            }
            return switch (digest.getAlgorithm()) {
                case "SHA-1", "SHA-256" -> 0.5; // the CPU's SHA instructions, which the JDK uses
                default -> 1.0;
            };
        }
    }
}
