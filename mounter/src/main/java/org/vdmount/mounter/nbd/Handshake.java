package org.vdmount.mounter.nbd;

import static org.vdmount.mounter.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The newstyle fixed negotiation: greets the client, answers its options, and ends either with an
 * export chosen for transmission or with the client gone. With TLS, NBD_OPT_STARTTLS turns the
 * connection into a TLS one and negotiation starts afresh on it; while TLS is required and not yet
 * on, every option but STARTTLS and ABORT is refused (EXPORT_NAME, which has no error reply, ends
 * the connection).
 */
final class Handshake {
    /** Options carry names and a few queries; anything bigger is not a real client. */
    private static final int MAX_OPTION_DATA = 64 * 1024;
    /** A client that keeps haggling without ever choosing an export is dropped. */
    private static final int MAX_OPTIONS = 1000;

    /** What negotiation settled. */
    record Outcome(NbdExport export, boolean structuredReplies, boolean baseAllocation) {
    }

    private ByteChannel channel;
    private final NbdExports exports;
    private final StartTls tls;
    private boolean tlsOn;
    private boolean refusedWithoutTls;
    private final ByteBuffer header = ByteBuffer.allocate(16);
    private final ByteBuffer data = ByteBuffer.allocate(MAX_OPTION_DATA);
    private ByteBuffer reply = ByteBuffer.allocate(512);

    private boolean noZeroes;
    private boolean structuredReplies;
    /** The export SET_META_CONTEXT chose base:allocation for, or null if none is chosen. */
    private String metaContextExport;

    Handshake(ByteChannel channel, NbdExports exports, StartTls tls) {
        this.channel = channel;
        this.exports = exports;
        this.tls = tls;
    }

    /** The channel negotiation ended on: the TLS one once STARTTLS succeeded. */
    ByteChannel channel() {
        return channel;
    }

    boolean tlsOn() {
        return tlsOn;
    }

    /** Whether an option was refused because TLS was required and not on. */
    boolean refusedWithoutTls() {
        return refusedWithoutTls;
    }

    /** Runs the negotiation; null when the client aborted or the connection should end. */
    Outcome negotiate() throws IOException {
        greet();
        for (int count = 0; count < MAX_OPTIONS; count++) {
            header.clear();
            Wire.readFully(channel, header);
            header.flip();
            if (header.getLong() != IHAVEOPT) {
                throw new ProtocolViolation("option without the IHAVEOPT magic");
            }
            int option = header.getInt();
            long length = header.getInt() & 0xffffffffL;
            if (length > MAX_OPTION_DATA) {
                throw new ProtocolViolation("option " + option + " carries " + length + " bytes");
            }
            data.clear().limit((int) length);
            Wire.readFully(channel, data);
            data.flip();
            Outcome outcome;
            try {
                outcome = answer(option);
            } catch (BufferUnderflowException e) {
                outcome = null;
                sendError(option, REP_ERR_INVALID, "option data is shorter than its fields say");
            }
            if (outcome != null) {
                return outcome.export() == null ? null : outcome;
            }
        }
        throw new ProtocolViolation("too many options without choosing an export");
    }

    private void greet() throws IOException {
        ByteBuffer hello = ByteBuffer.allocate(18);
        hello.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES));
        Wire.writeFully(channel, hello.flip());
        ByteBuffer clientFlags = ByteBuffer.allocate(4);
        Wire.readFully(channel, clientFlags);
        int flags = clientFlags.flip().getInt();
        if ((flags & ~(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES)) != 0) {
            throw new ProtocolViolation("unknown client flags " + Integer.toHexString(flags));
        }
        noZeroes = (flags & CLIENT_FLAG_NO_ZEROES) != 0;
    }

    /** Answers one option; a non-null outcome ends negotiation (with a null export: end the connection). */
    private Outcome answer(int option) throws IOException {
        if (tls != null && tls.required() && !tlsOn && option != OPT_STARTTLS && option != OPT_ABORT) {
            if (option == OPT_EXPORT_NAME) {
                throw new ProtocolViolation("asked for an export without TLS, which this server requires");
            }
            refusedWithoutTls = true;
            sendError(option, REP_ERR_TLS_REQD, "this server requires TLS: start it first (NBD_OPT_STARTTLS)");
            return null;
        }
        switch (option) {
            case OPT_EXPORT_NAME:
                return exportName();
            case OPT_ABORT:
                sendReply(option, REP_ACK, 0);
                return new Outcome(null, false, false);
            case OPT_LIST:
                list(option);
                return null;
            case OPT_STARTTLS:
                startTls(option);
                return null;
            case OPT_INFO:
            case OPT_GO:
                return infoOrGo(option);
            case OPT_STRUCTURED_REPLY:
                if (data.hasRemaining()) {
                    sendError(option, REP_ERR_INVALID, "STRUCTURED_REPLY takes no data");
                } else {
                    structuredReplies = true;
                    sendReply(option, REP_ACK, 0);
                }
                return null;
            case OPT_LIST_META_CONTEXT:
            case OPT_SET_META_CONTEXT:
                metaContext(option);
                return null;
            default:
                sendError(option, REP_ERR_UNSUP, "option " + option + " is not supported");
                return null;
        }
    }

    private void startTls(int option) throws IOException {
        if (tls == null) {
            sendError(option, REP_ERR_POLICY, "this server has no TLS (vdmount serve --tls-creds DIR turns it on)");
        } else if (data.hasRemaining()) {
            sendError(option, REP_ERR_INVALID, "STARTTLS takes no data");
        } else if (tlsOn) {
            sendError(option, REP_ERR_INVALID, "TLS is on already");
        } else {
            sendReply(option, REP_ACK, 0);
            channel = tls.start(channel);
            tlsOn = true;
            // What was negotiated in the clear is forgotten: an attacker may have chosen it.
            structuredReplies = false;
            metaContextExport = null;
        }
    }

    /** The oldest way in: no reply on error, the client learns from the closed socket. */
    private Outcome exportName() throws IOException {
        String name = string(data.remaining());
        NbdExport export = exports.find(name);
        if (export == null) {
            return new Outcome(null, false, false);
        }
        ByteBuffer out = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
        out.putLong(export.size()).putShort((short) export.transmissionFlags(structuredReplies));
        Wire.writeFully(channel, out.position(out.capacity()).flip());
        return new Outcome(export, structuredReplies, baseAllocationFor(export));
    }

    private void list(int option) throws IOException {
        if (data.hasRemaining()) {
            sendError(option, REP_ERR_INVALID, "LIST takes no data");
            return;
        }
        for (NbdExport export : exports.all()) {
            byte[] name = utf8(export.name());
            byte[] description = utf8(export.description());
            startReply(option, REP_SERVER, 4 + name.length + description.length);
            reply.putInt(name.length).put(name).put(description);
            flushReply();
        }
        sendReply(option, REP_ACK, 0);
    }

    private Outcome infoOrGo(int option) throws IOException {
        String name = string(data.getInt());
        int requests = data.getShort() & 0xffff;
        if (data.remaining() != 2 * requests) {
            sendError(option, REP_ERR_INVALID, "information request count does not match the data");
            return null;
        }
        boolean wantName = false;
        boolean wantDescription = false;
        for (int i = 0; i < requests; i++) {
            int kind = data.getShort() & 0xffff;
            wantName |= kind == INFO_NAME;
            wantDescription |= kind == INFO_DESCRIPTION;
        }
        NbdExport export = exports.find(name);
        if (export == null) {
            sendError(option, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return null;
        }
        startReply(option, REP_INFO, 12);
        reply.putShort((short) INFO_EXPORT).putLong(export.size())
                .putShort((short) export.transmissionFlags(structuredReplies));
        flushReply();
        if (wantName) {
            byte[] bytes = utf8(export.name());
            startReply(option, REP_INFO, 2 + bytes.length);
            reply.putShort((short) INFO_NAME).put(bytes);
            flushReply();
        }
        if (wantDescription && !export.description().isEmpty()) {
            byte[] bytes = utf8(export.description());
            startReply(option, REP_INFO, 2 + bytes.length);
            reply.putShort((short) INFO_DESCRIPTION).put(bytes);
            flushReply();
        }
        // Any alignment works (we read at byte granularity); 4 KiB is what disks like to be asked.
        startReply(option, REP_INFO, 14);
        reply.putShort((short) INFO_BLOCK_SIZE).putInt(1).putInt(4096).putInt(MAX_PAYLOAD);
        flushReply();
        sendReply(option, REP_ACK, 0);
        if (option == OPT_INFO) {
            return null;
        }
        return new Outcome(export, structuredReplies, baseAllocationFor(export));
    }

    /** Contexts are chosen for one export; choosing another export leaves none chosen. */
    private boolean baseAllocationFor(NbdExport export) {
        return structuredReplies && metaContextExport != null && exports.find(metaContextExport) == export;
    }

    private void metaContext(int option) throws IOException {
        boolean set = option == OPT_SET_META_CONTEXT;
        if (!structuredReplies) {
            sendError(option, REP_ERR_INVALID, "metadata contexts need structured replies first");
            return;
        }
        String exportName = string(data.getInt());
        long queries = data.getInt() & 0xffffffffL;
        if (queries > data.remaining() / 4) {
            sendError(option, REP_ERR_INVALID, "query count does not match the data");
            return;
        }
        boolean matched = !set && queries == 0; // an empty LIST asks for everything we have
        for (long i = 0; i < queries; i++) {
            String query = string(data.getInt());
            matched |= query.equals(BASE_ALLOCATION) || !set && query.equals("base:");
        }
        if (data.hasRemaining()) {
            sendError(option, REP_ERR_INVALID, "trailing bytes after the queries");
            return;
        }
        if (exports.find(exportName) == null) {
            sendError(option, REP_ERR_UNKNOWN, "no export named '" + exportName + "'");
            return;
        }
        if (set) {
            metaContextExport = matched ? exportName : null;
        }
        if (matched) {
            byte[] bytes = utf8(BASE_ALLOCATION);
            startReply(option, REP_META_CONTEXT, 4 + bytes.length);
            reply.putInt(BASE_ALLOCATION_ID).put(bytes);
            flushReply();
        }
        sendReply(option, REP_ACK, 0);
    }

    /** Reads a string of {@code length} bytes from the option data, refusing impossible lengths. */
    private String string(int length) throws IOException {
        if (length < 0 || length > MAX_STRING || length > data.remaining()) {
            throw new BufferUnderflowException();
        }
        byte[] bytes = new byte[length];
        data.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private void startReply(int option, int type, int length) {
        int needed = 20 + length;
        if (reply.capacity() < needed) {
            reply = ByteBuffer.allocate(needed);
        }
        reply.clear();
        reply.putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(length);
    }

    private void flushReply() throws IOException {
        Wire.writeFully(channel, reply.flip());
    }

    private void sendReply(int option, int type, int length) throws IOException {
        startReply(option, type, length);
        flushReply();
    }

    private void sendError(int option, int type, String message) throws IOException {
        byte[] bytes = utf8(message);
        startReply(option, type, bytes.length);
        reply.put(bytes);
        flushReply();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
