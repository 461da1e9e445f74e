package org.vdmount.mounter;

import org.vdmount.mounter.cli.VdmountCommand;

/** Entry point of the vdmount command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(VdmountCommand.run(args));
    }
}
