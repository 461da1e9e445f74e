/**
 * {@code vdmount serve}'s NBD server: listening on TCP or a Unix socket, a thread per client,
 * limits on clients and on negotiation time, TLS from X.509 files. The protocol it speaks is
 * {@code org.vdmount.mounter.nbd}'s.
 */
package org.vdmount.mounter.serve;
