package org.vdmount.mounter.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.vdmount.formats.overlay.OverlayCommit;
import org.vdmount.mounter.attach.Attachments;
import org.vdmount.mounter.attach.RunDirectory;
import org.vdmount.mounter.audit.AuditEntry;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.audit.ImageFiles;
import org.vdmount.mounter.util.Json;
import org.vdmount.mounter.util.Progress;
import org.vdmount.mounter.util.Sizes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vdmount commit OVERLAY}: an overlay's writes merged into the image under it, as qemu-img commit does. */
@Command(name = "commit",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        description = {
            "Merge an overlay's writes into the image under it (its backing file), then empty the overlay.",
            "",
            "OVERLAY is a qcow2 file whose backing file is the image: what 'attach', 'mount' and 'serve' write with --overlay, or what 'qemu-img create -f qcow2 -b IMAGE' makes. Only what the overlay itself holds is read (its data and zero clusters; nothing else is copied) and written into the image, which is opened for writing, like --rw: raw, qcow2 and VMDK images can take the writes; evidence (E01, split raw, an image inside evidence) is never written, and other formats are refused until vdmount writes them. The image is flushed at the end; then the overlay is emptied, as 'qemu-img commit' empties it: made anew as vdmount makes overlays (64 KiB clusters), with the same backing file, so it reads as the image again and can take new writes. --keep leaves it as it was (qemu-img commit -d).",
            "",
            "The overlay must be as large as the image, and neither may be attached while they are merged (detach first): the image would change under its readers. The overlay is locked as qemu locks images for the whole commit, so one that qemu or vdmount is writing is refused, as is a qcow2 image in use. A progress line is shown on stderr when it is a terminal.",
            "",
            "If the command is interrupted (a crash, a power cut, kill -9), the image holds some of the overlay's writes and not others, and is consistent as its format's writer keeps it (qemu-img check: clean, or leaked clusters only); the overlay is not changed before the image is flushed, so the overlay over the image still reads exactly as before. Run the commit again to finish it."},
        footer = {"", "Examples:",
            "  vdmount attach --overlay changes.qcow2 disk.img   # ... work, then:",
            "  vdmount detach disk.img",
            "  vdmount commit changes.qcow2",
            "  vdmount commit --keep --json changes.qcow2"})
public final class CommitCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "OVERLAY", description = "The overlay file (qcow2 with the image as its backing file).")
    Path overlay;

    @Option(names = "--keep", description = "Leave the overlay as it is after merging it (it then still holds the writes).")
    boolean keep;

    @Option(names = "--json", description = "Print what was merged as JSON.")
    boolean json;

    @Mixin
    AuditOptions audit;

    @Override
    public Integer call() throws IOException {
        AuditTrail trail = audit.trail();
        trail.checkWritable();
        AuditEntry entry = AuditEntry.of("commit").put("overlay", overlay.toAbsolutePath().toString());
        OverlayCommit.Result result;
        try {
            Path backing = OverlayCommit.backingOf(overlay);
            entry.put("images", ImageFiles.describe(List.of(overlay.toAbsolutePath(), backing)));
            RunDirectory run = RunDirectory.standard();
            Attachments.refuseInUse(run, overlay, "committing it");
            Attachments.refuseInUse(run, backing, "committing into it");
            result = commit();
        } catch (IOException | RuntimeException e) {
            try {
                trail.append(entry.put("error", VdmountCommand.describe(e)));
            } catch (RuntimeException lost) {
                e.addSuppressed(lost);
            }
            throw e;
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("overlay", result.overlay().toAbsolutePath().toString());
        report.put("image", result.backing().toString());
        report.put("image-format", result.backingFormat());
        report.put("data-bytes", result.dataBytes());
        report.put("zero-bytes", result.zeroBytes());
        report.put("overlay-emptied", result.emptied());
        report.forEach(entry::put);
        trail.append(entry);
        if (json) {
            System.out.println(Json.write(report));
        } else {
            System.out.printf("committed %s into %s (%s): %s of data, %s of zeros; %s%n", overlay,
                    result.backing(), result.backingFormat(), Sizes.human(result.dataBytes()),
                    Sizes.human(result.zeroBytes()), result.emptied() ? "overlay emptied" : "overlay kept");
        }
        return 0;
    }

    private OverlayCommit.Result commit() throws IOException {
        Progress[] shown = new Progress[1];
        try {
            return OverlayCommit.commit(overlay, keep, new OverlayCommit.Progress() {
                @Override
                public void start(long totalBytes) {
                    shown[0] = Progress.onTerminal("committing", totalBytes);
                }

                @Override
                public void advance(long bytes) {
                    shown[0].advance(bytes);
                }
            }, warning -> System.err.println("vdmount: warning: " + warning));
        } finally {
            if (shown[0] != null) {
                shown[0].close();
            }
        }
    }
}
