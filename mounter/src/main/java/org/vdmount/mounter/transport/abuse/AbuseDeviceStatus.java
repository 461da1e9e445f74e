package org.vdmount.mounter.transport.abuse;

/** What ABUSE_CTL_GET_STATUS reports of a device. Sizes in bytes, timeout in seconds. */
public record AbuseDeviceStatus(int index, int flags, long size, int blockSize, int maxReqBytes,
        int queueDepth, int hwQueues, int timeoutSeconds, int servers, int queued, int inflight,
        int serverPid, int errors) {

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
