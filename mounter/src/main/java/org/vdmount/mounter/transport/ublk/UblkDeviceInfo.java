package org.vdmount.mounter.transport.ublk;

/**
 * A ublk device as struct ublksrv_ctrl_dev_info describes it.
 *
 * @param id          the device number N of /dev/ublkbN and /dev/ublkcN (-1 when asking for any)
 * @param queues      hardware queues, each served by one thread of the server
 * @param depth       requests each queue can have in flight (tags 0 to depth - 1)
 * @param maxIoBytes  the largest request, in bytes: each tag's buffer is this big
 * @param flags       UBLK_F_* asked for, or granted
 * @param fingerprint what the server keeps in the device (ublksrv_flags, which the driver never reads): a
 *                    fingerprint of the image it shows, how a new server finds a dead one's device
 * @param state       UBLK_S_DEV_DEAD, _LIVE or _QUIESCED
 * @param serverPid   the process that started or last recovered it, -1 before
 */
record UblkDeviceInfo(int id, int queues, int depth, int maxIoBytes, long flags, long fingerprint, int state,
        int serverPid) {

    /** What to ask ADD_DEV for. */
    static UblkDeviceInfo wanted(int id, int queues, int depth, int maxIoBytes, long flags, long fingerprint) {
        return new UblkDeviceInfo(id, queues, depth, maxIoBytes, flags, fingerprint, UblkAbi.S_DEV_DEAD, -1);
    }

    boolean has(long flag) {
        return (flags & flag) != 0;
    }
}
