package org.vdmount.mounter.cli;

import picocli.CommandLine;

/** Reports the version from the jar's manifest (the build's version), not a copy of it in code. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return new String[] {"vdmount " + (v == null ? "(development build)" : v)};
    }
}
