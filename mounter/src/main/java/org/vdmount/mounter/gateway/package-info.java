/**
 * The request gateway: the one path block requests take, whichever transport brought them (the
 * abuse module, the kernel's nbd driver, FUSE, the NBD server). After nbdkit's
 * {@code server/protocol.c}: validate, handle, translate failures once. Transports only move
 * requests between the kernel or the network and {@link org.vdmount.mounter.gateway.RequestGateway}.
 */
package org.vdmount.mounter.gateway;
