package org.vdmount.formats;

/**
 * A disk that is evidence (an E01 set, a split raw image) and so may hold another image format as
 * its media: a VMDK or qcow2 file acquired as a file. {@link Images} probes the media and opens
 * the format inside, so that E01 → VMDK → partitions opens in one step.
 */
public interface EvidenceContainer extends VirtualDisk {
}
