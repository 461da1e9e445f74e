package org.vdmount.mounter;

import org.vdmount.mounter.cli.VdmountCommand;
import org.vdmount.mounter.jna.JnaSearchPath;

/** Entry point of the vdmount command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        JnaSearchPath.setUnlessSet();
        System.exit(VdmountCommand.run(args));
    }
}
