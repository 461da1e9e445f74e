package org.vdmount.mounter.serve.kill;

import java.util.Map;

/** What the kill test did to one kind of image, for its summary table. */
final class KillTally {
    int images;
    int kills;
    int killsInFlush;
    long opsSent;
    long opsAcknowledged;
    long flushes;
    long flushedOpsVerified;
    long flushedSectorsVerified;
    int checksWithLeaks;
    long leakedClusters;
    int corruptions;
    int lostWrites;
    long millis;

    /** The table, one row per kind of image and a total. */
    static String table(Map<KillImage, KillTally> tallies) {
        StringBuilder b = new StringBuilder();
        String format = "%-22s %6s %5s %8s %9s %9s %8s %11s %12s %7s %9s %11s %6s %7s%n";
        b.append(String.format(format, "image", "images", "kills", "in-flush", "ops-sent", "ops-acked", "flushes",
                "flushed-ops", "flushed-sect", "leaky", "leaked-cl", "corruptions", "lost", "seconds"));
        KillTally total = new KillTally();
        for (Map.Entry<KillImage, KillTally> e : tallies.entrySet()) {
            b.append(e.getValue().row(format, e.getKey().label));
            total.add(e.getValue());
        }
        if (tallies.size() > 1) {
            b.append(total.row(format, "total"));
        }
        b.append("""
                in-flush: kills with a FLUSH sent and not yet answered
                flushed-ops, flushed-sect: operations acknowledged before an acknowledged FLUSH (or with
                  FUA), and their sectors, checked in the image after the kill
                leaky: qemu-img checks that reported leaked clusters only (leaked-cl of them in all)
                corruptions: qemu-img checks that reported errors
                lost: kills after which a flushed write was missing or a sector held what no write put there
                """);
        return b.toString();
    }

    private String row(String format, String label) {
        return String.format(format, label, images, kills, killsInFlush, opsSent, opsAcknowledged, flushes,
                flushedOpsVerified, flushedSectorsVerified, checksWithLeaks, leakedClusters, corruptions, lostWrites,
                millis / 1000);
    }

    private void add(KillTally t) {
        images += t.images;
        kills += t.kills;
        killsInFlush += t.killsInFlush;
        opsSent += t.opsSent;
        opsAcknowledged += t.opsAcknowledged;
        flushes += t.flushes;
        flushedOpsVerified += t.flushedOpsVerified;
        flushedSectorsVerified += t.flushedSectorsVerified;
        checksWithLeaks += t.checksWithLeaks;
        leakedClusters += t.leakedClusters;
        corruptions += t.corruptions;
        lostWrites += t.lostWrites;
        millis += t.millis;
    }
}
