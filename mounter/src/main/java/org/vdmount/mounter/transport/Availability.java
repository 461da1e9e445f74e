package org.vdmount.mounter.transport;

/** Whether a transport can work here; when not, the reason, worded to finish "fuse is unavailable: ...". */
public record Availability(boolean usable, String reason) {
    public static Availability yes() {
        return new Availability(true, null);
    }

    public static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
