/**
 * The NBD protocol, written from the NetworkBlockDevice project's {@code doc/proto.md}, shared by
 * {@code vdmount serve} (the server in {@code org.vdmount.mounter.serve}) and the kernel's nbd
 * driver as a transport ({@code org.vdmount.mounter.transport.nbd}, which needs the transmission
 * phase alone): newstyle fixed negotiation with NO_ZEROES, GO/INFO/LIST/EXPORT_NAME/ABORT,
 * STARTTLS, structured replies, the {@code base:allocation} metadata context.
 *
 * <p>How it is built, and why:
 * <ul>
 * <li>{@link org.vdmount.mounter.nbd.NbdConnection} is one client from greeting to goodbye;
 *     {@code Handshake} answers options until the client picks an export, and starts TLS through
 *     a {@link org.vdmount.mounter.nbd.StartTls} when asked.</li>
 * <li>{@code Transmission} answers one connection's requests in order. Requests are read in bulk
 *     and replies are queued in one direct buffer that is sent when no complete request is left
 *     to answer, so a queue of sixteen 4 KiB reads costs one read and one write system call, and
 *     image data is read straight into the buffer it is sent from. Buffers belong to the
 *     connection and are reused.</li>
 * <li>Every request is carried out by the export's
 *     {@link org.vdmount.mounter.gateway.RequestGateway}, which checks ranges and writability and
 *     turns failures into errno values; here they become the protocol's errors
 *     ({@link org.vdmount.mounter.nbd.NbdProtocol#errorFor}). What is NBD's own (flags, payload
 *     limits, negotiated features) is checked here.</li>
 * <li>Reads and block status follow {@link org.vdmount.formats.VirtualDisk#map}: zero stretches of
 *     4 KiB or more go out as OFFSET_HOLE chunks, unallocated stretches are HOLE|ZERO extents and
 *     zero clusters ZERO extents.</li>
 * <li>Limits: READ and WRITE payloads up to 32 MiB (a larger read is EINVAL, a larger write ends
 *     the connection, since its payload would have to be swallowed), option data up to 64 KiB,
 *     strings up to 4096 bytes, 16384 extents per block status reply. No length a client sends
 *     is allocated before it is checked.</li>
 * <li>Errors: EINVAL for requests outside the export or malformed, EPERM for writes to a
 *     read-only export, ENOSPC for writes past the end, EIO (and a log line per kind) when the
 *     image cannot be read. Only a broken request stream ends a connection.</li>
 * </ul>
 */
package org.vdmount.mounter.nbd;
