package org.vdmount.formats.cache;

/**
 * The key of a cache shared by several open images: which image (or extent) owns the entry, and
 * the entry's number or offset within it. A class rather than a record: a record's equals and
 * hashCode are bootstrapped through method handles at their first call, which costs a short
 * command some 20 ms of its start.
 */
public final class CacheKey {
    private final Object owner;
    private final long index;

    public CacheKey(Object owner, long index) {
        this.owner = owner;
        this.index = index;
    }

    public Object owner() {
        return owner;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CacheKey k && k.owner.equals(owner) && k.index == index;
    }

    @Override
    public int hashCode() {
        return 31 * owner.hashCode() + Long.hashCode(index);
    }

    @Override
    public String toString() {
        return owner + "@" + index;
    }
}
