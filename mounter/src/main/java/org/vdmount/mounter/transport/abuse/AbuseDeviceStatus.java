package org.vdmount.mounter.transport.abuse;

/**
 * What ABUSE_CTL_GET_STATUS reports of a device. Sizes in bytes, timeouts in seconds; {@code state}
 * is one of {@code AbuseAbi.STATE_*} (ADDED: no block device until a server starts it).
 */
public record AbuseDeviceStatus(int index, int flags, long size, int blockSize, int maxReqBytes,
        int queueDepth, int hwQueues, int timeoutSeconds, int ioTimeoutSeconds, int state, int servers, int queued,
        int inflight, int held, int serverPid, long errors, long timeouts) {

    public String diskName() {
        return AbuseAbi.DISK_PREFIX + index;
    }

    public String devicePath() {
        return "/dev/" + diskName();
    }

    public boolean readOnly() {
        return (flags & AbuseAbi.FLAG_READ_ONLY) != 0;
    }
}
