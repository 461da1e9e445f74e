package org.vdmount.formats.compress;

/**
 * compression_type 1: zstd. qemu's reader accepts a sequence of frames and stops when the cluster is
 * full, and the input's last sector may hold the start of the next cluster's frame; so frames are
 * delimited here (by walking their block headers) and each one handed to the decoder alone
 * ({@link ZstdFrames}: libzstd where it loads, else a pure-Java decoder).
 */
final class ZstdCodec implements Codec {
    private static final int FRAME_MAGIC = 0xFD2FB528;
    private static final int SKIPPABLE_MAGIC = 0x184D2A50;
    private static final int SKIPPABLE_MASK = 0xFFFFFFF0;
    private static final int[] DICT_ID_BYTES = {0, 1, 2, 4};
    private static final int[] CONTENT_SIZE_BYTES = {0, 2, 4, 8};

    private final ZstdFrames frames;
    private boolean ended;

    ZstdCodec() {
        this(ZstdFrames.create());
    }

    /** With the given frame decoder (the tests run both). */
    ZstdCodec(ZstdFrames frames) {
        this.frames = frames;
    }

    @Override
    public boolean ended() {
        return ended;
    }

    @Override
    public int decompress(byte[] in, int inLength, byte[] out, int outLength) throws DamagedException {
        int at = 0;
        int produced = 0;
        ended = false;
        while (produced < outLength) {
            if (inLength - at < 4) {
                break;
            }
            int magic = littleInt(in, at);
            if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
                if (inLength - at < 8) {
                    break;
                }
                long skip = 8L + Integer.toUnsignedLong(littleInt(in, at + 4));
                if (skip > inLength - at) {
                    break;
                }
                at += (int) skip;
                continue;
            }
            if (magic != FRAME_MAGIC) {
                throw new DamagedException("zstd data is damaged (no frame magic at byte " + at + ")");
            }
            int length = frameLength(in, at, inLength);
            produced += frames.decode(in, at, length, out, produced, outLength - produced);
            at += length;
            ended = true;
        }
        return produced;
    }

    /** Bytes of the frame starting at {@code start}: header, blocks, optional checksum. */
    private static int frameLength(byte[] in, int start, int limit) throws DamagedException {
        if (limit - start < 6) {
            throw truncated();
        }
        int descriptor = in[start + 4] & 0xff;
        boolean singleSegment = (descriptor & 0x20) != 0;
        boolean checksum = (descriptor & 0x04) != 0;
        int contentSizeFlag = descriptor >>> 6;
        int contentSizeBytes = contentSizeFlag == 0 && singleSegment ? 1 : CONTENT_SIZE_BYTES[contentSizeFlag];
        int at = start + 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 3] + contentSizeBytes;
        while (true) {
            if (limit - at < 3) {
                throw truncated();
            }
            int header = (in[at] & 0xff) | (in[at + 1] & 0xff) << 8 | (in[at + 2] & 0xff) << 16;
            boolean last = (header & 1) != 0;
            int type = (header >>> 1) & 3;
            int size = header >>> 3;
            int body = switch (type) {
                case 0, 2 -> size;
                case 1 -> 1;
                default -> throw new DamagedException("zstd data is damaged (reserved block type)");
            };
            at += 3;
            if (limit - at < body) {
                throw truncated();
            }
            at += body;
            if (last) {
                break;
            }
        }
        if (checksum) {
            if (limit - at < 4) {
                throw truncated();
            }
            at += 4;
        }
        return at - start;
    }

    private static DamagedException truncated() {
        return new DamagedException("zstd frame is truncated");
    }

    private static int littleInt(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}
