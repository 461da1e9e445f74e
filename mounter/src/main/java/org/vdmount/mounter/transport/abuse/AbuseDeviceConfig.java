package org.vdmount.mounter.transport.abuse;

/**
 * What to ask ABUSE_CTL_ADD for.
 *
 * @param index            device number, or -1 for the first free one
 * @param size             bytes, a multiple of {@code blockSize}
 * @param blockSize        logical block size, 512 or 4096
 * @param maxReqBytes      largest request the kernel may send, bytes (0 = the module's default)
 * @param queueDepth       requests per hardware queue (0 = default)
 * @param hwQueues         hardware queues (0 = default)
 * @param readOnly         whether the kernel refuses writes
 * @param noPartscan       whether to leave partitions to kpartx
 * @param timeoutSeconds   seconds without a server before queued requests fail; null = module default
 * @param ioTimeoutSeconds seconds a request may wait for its server before failing; null = module default
 */
public record AbuseDeviceConfig(int index, long size, int blockSize, int maxReqBytes, int queueDepth,
        int hwQueues, boolean readOnly, boolean noPartscan, Integer timeoutSeconds, Integer ioTimeoutSeconds) {

    int flags() {
        int flags = 0;
        if (readOnly) {
            flags |= AbuseAbi.FLAG_READ_ONLY;
        }
        if (noPartscan) {
            flags |= AbuseAbi.FLAG_NO_PARTSCAN;
        }
        if (timeoutSeconds != null) {
            flags |= AbuseAbi.FLAG_SET_TIMEOUT;
        }
        if (ioTimeoutSeconds != null) {
            flags |= AbuseAbi.FLAG_SET_IO_TIMEOUT;
        }
        return flags;
    }
}
