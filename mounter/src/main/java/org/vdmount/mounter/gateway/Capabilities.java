package org.vdmount.mounter.gateway;

/**
 * What a disk can be asked to do, decided once from the disk and the mode it is served in; every
 * transport advertises exactly this (NBD transmission flags, the abuse device's read-only flag, a
 * FUSE file's mode).
 *
 * @param writable    writes, trims and write-zeroes are carried out (else refused with EROFS)
 * @param fua         a write may ask to be durable on return (forced unit access)
 * @param trim        discards are carried out (the range then reads as zeros)
 * @param writeZeroes ranges can be zeroed without sending zeros
 * @param multiConn   every connection sees what any other wrote and flushed: the disk is one
 *                    object shared by all connections of this process, with no cache of its own
 *                    per connection
 */
public record Capabilities(boolean writable, boolean fua, boolean trim, boolean writeZeroes, boolean multiConn) {

    static Capabilities of(boolean writable) {
        return new Capabilities(writable, writable, writable, writable, true);
    }
}
