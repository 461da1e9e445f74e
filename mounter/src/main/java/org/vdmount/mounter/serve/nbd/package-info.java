/**
 * An NBD server for {@code vdmount serve}, written from the NBD protocol specification (the
 * NetworkBlockDevice project's {@code doc/proto.md}): newstyle fixed negotiation with NO_ZEROES,
 * GO/INFO/LIST/EXPORT_NAME/ABORT, structured replies, the {@code base:allocation} metadata context.
 *
 * <p>How it is built, and why:
 * <ul>
 * <li>{@link org.vdmount.mounter.serve.nbd.NbdServer} accepts on TCP or a Unix socket and gives
 *     each connection a platform thread (Java 17 has no virtual threads); at most
 *     {@link org.vdmount.mounter.serve.nbd.NbdServer#MAX_CONNECTIONS} at once, and 30 seconds to
 *     negotiate. Disks are shared: they are thread safe.</li>
 * <li>{@code Handshake} answers options until the client picks an export.</li>
 * <li>{@code Transmission} answers one connection's requests in order. Requests are read in bulk
 *     and replies are queued in one direct buffer that is sent when no complete request is left
 *     to answer, so a queue of sixteen 4 KiB reads costs one read and one write system call, and
 *     image data is read straight into the buffer it is sent from. Buffers belong to the
 *     connection and are reused: nothing is allocated per request but what the image layer
 *     allocates for mapping.</li>
 * <li>Reads and block status follow {@link org.vdmount.formats.VirtualDisk#map}: zero stretches of
 *     4 KiB or more go out as OFFSET_HOLE chunks, unallocated stretches are HOLE|ZERO extents and
 *     zero clusters ZERO extents.</li>
 * <li>Limits: READ and WRITE payloads up to 32 MiB (a larger read is EINVAL, a larger write ends
 *     the connection, since its payload would have to be swallowed), option data up to 64 KiB,
 *     strings up to 4096 bytes, 16384 extents per block status reply. No length a client sends
 *     is allocated before it is checked.</li>
 * <li>Errors: EINVAL for requests outside the export or malformed, EPERM for writes to a
 *     read-only export, ENOSPC for writes past the end, EIO (and a log line) when the image
 *     cannot be read. Only a broken request stream ends a connection; nothing ends the server.</li>
 * </ul>
 */
package org.vdmount.mounter.serve.nbd;
