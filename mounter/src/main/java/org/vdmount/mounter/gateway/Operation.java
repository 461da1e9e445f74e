package org.vdmount.mounter.gateway;

/** The kinds of block request every transport passes on; named as the log words them. */
public enum Operation {
    READ("read"),
    WRITE("write"),
    FLUSH("flush"),
    TRIM("trim"),
    WRITE_ZEROES("write-zeroes"),
    /** Where the data and the holes are: NBD block status, FUSE SEEK_DATA/SEEK_HOLE, sparse NBD reads. */
    MAP("map");

    private final String word;

    Operation(String word) {
        this.word = word;
    }

    /** Whether the request changes the disk, and so needs a writable one. */
    public boolean writes() {
        return this == WRITE || this == TRIM || this == WRITE_ZEROES;
    }

    @Override
    public String toString() {
        return word;
    }
}
