package org.vdmount.mounter.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vdmount.mounter.attach.AttachmentRecord;
import org.vdmount.mounter.attach.Detacher;
import org.vdmount.mounter.attach.RunDirectory;
import org.vdmount.mounter.system.Commands;
import org.vdmount.mounter.system.MountTable;
import org.vdmount.mounter.util.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code vdmount umount DIR}: undoes {@code vdmount mount}: unmounts, then detaches the image. */
@Command(name = "umount",
        aliases = "unmount",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
            "Unmount DIR and detach the image behind it.",
            "",
            "The image stays attached while another of its partitions is still mounted; it is then detached by the last 'vdmount umount' (or 'vdmount detach')."})
public final class UmountCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "A mount point made by 'vdmount mount'.")
    Path dir;

    @Mixin
    AuditOptions audit;

    @Override
    public Integer call() throws Exception {
        audit.trail(); // refuses contradicting options before anything is done
        String number = MountTable.deviceAt(dir)
                .orElseThrow(() -> new UserError(dir + ": nothing is mounted there"));
        RunDirectory run = RunDirectory.standard();
        Optional<AttachmentRecord> owner = Optional.empty();
        for (AttachmentRecord r : run.list()) {
            for (var d : r.devices()) {
                if (number.equals(MountTable.deviceNumber(d.path()))) {
                    owner = Optional.of(r);
                }
            }
        }
        if (owner.isEmpty()) {
            throw new UserError(dir + ": is not mounted from a vdmount device (use umount)");
        }
        Commands.run("umount", dir.toAbsolutePath().toString());
        try {
            Detacher.detach(run, owner.get(), false, audit.trail());
            System.out.println("unmounted " + dir + " and detached " + owner.get().image());
        } catch (UserError stillMounted) {
            System.out.println("unmounted " + dir + "; " + owner.get().image() + " stays attached: "
                    + stillMounted.getMessage());
        }
        return 0;
    }
}
