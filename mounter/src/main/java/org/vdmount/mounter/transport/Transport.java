package org.vdmount.mounter.transport;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A way of making a virtual disk appear as block devices: the abuse module, the kernel's ublk
 * and nbd drivers, FUSE + loop. The attach logic ({@code org.vdmount.mounter.attach}) is the same for all of them:
 * it opens the image, runs {@link #attach} in the server process, records what came back, and
 * later calls {@link #detach} from another process with only that record in hand.
 */
public interface Transport {

    /** The name users pass to {@code --transport}: "abuse", "ublk", "nbd", "fuse". */
    String name();

    /**
     * Whether this machine can use the transport, and why not when it cannot. Cheap, and changes
     * nothing, except that a transport may load the kernel driver it needs (as attaching would):
     * whether the load works is part of the answer.
     */
    Availability availability();

    /**
     * In the server process: makes the devices for {@code request} and starts serving them. Must not
     * leave anything behind (mounts, devices) when it fails.
     */
    TransportSession attach(AttachRequest request) throws IOException;

    /**
     * In any process: removes the devices an earlier {@link #attach} made, from what its session
     * reported ({@link TransportSession#devices}, {@link TransportSession#state}); the server may be
     * dead. The caller has already checked that no device is mounted unless {@code force}.
     */
    void detach(List<AttachedDevice> devices, Map<String, String> state, boolean force) throws IOException;

    /**
     * Cleans up after an {@link #attach} of {@code request} that was cut short (the server was
     * stopped while attaching): whatever it may have made, found without the session it never
     * returned. Best effort.
     */
    void abandon(AttachRequest request);
}
