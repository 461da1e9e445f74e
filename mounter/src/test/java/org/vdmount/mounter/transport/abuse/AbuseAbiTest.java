package org.vdmount.mounter.transport.abuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.transport.CHeaderValues;

/** The Java mirror of kmod/abuse.h must agree with the header: a C compiler says what it says. */
class AbuseAbiTest {
    @TempDir
    Path dir;

    private static Path header() {
        String override = System.getProperty("vdmount.abuse.header");
        if (override != null) {
            return Path.of(override);
        }
        return Path.of(System.getProperty("vdmount.testdata", "../testdata")).resolve("../kmod/abuse.h").normalize();
    }

    private Map<String, Long> fromC() throws Exception {
        Path header = header();
        assertTrue(Files.exists(header), "no header at " + header);
        CHeaderValues c = new CHeaderValues().include(header);
        for (String s : new String[] {"abuse_dev_info", "abuse_backing", "abuse_request", "abuse_completion", "abuse_xfer"}) {
            c.size(s);
        }
        String[][] fields = {
            {"abuse_dev_info", "index", "flags", "size", "block_size", "max_req_bytes", "queue_depth", "nr_hw_queues",
                "timeout", "io_timeout", "state", "nr_servers", "queued", "inflight", "held", "server_pid", "errors",
                "timeouts"},
            {"abuse_backing", "index", "text"},
            {"abuse_request", "tag", "op", "seq", "offset", "len", "flags", "data_offset"},
            {"abuse_completion", "tag", "result", "seq", "addr", "len", "reserved"},
            {"abuse_xfer", "cmpl_addr", "cmpl_count", "req_count", "req_addr", "data_addr", "data_len", "cmpl_done",
                "cmpl_errors"},
        };
        for (String[] f : fields) {
            c.offsets(f[0], Arrays.copyOfRange(f, 1, f.length));
        }
        for (String k : new String[] {"ABUSE_CTL_ADD", "ABUSE_CTL_REMOVE", "ABUSE_CTL_GET_STATUS", "ABUSE_CTL_RESET",
            "ABUSE_CTL_SET_BACKING", "ABUSE_GET_FEATURES", "ABUSE_CTL_START", "ABUSE_CTL_NEXT", "ABUSE_CTL_GET_BACKING",
            "ABUSE_ATTACH", "ABUSE_COMMIT_AND_FETCH", "ABUSE_FEAT_SEQ_HANDLES", "ABUSE_FEAT_START",
            "ABUSE_FEAT_IO_TIMEOUT", "ABUSE_FEAT_RECOVERY", "ABUSE_FEAT_NEXT", "ABUSE_FLAG_READ_ONLY",
            "ABUSE_FLAG_NO_PARTSCAN", "ABUSE_FLAG_SET_TIMEOUT", "ABUSE_FLAG_SET_IO_TIMEOUT", "ABUSE_FLAG_RECOVERY_FAIL",
            "ABUSE_STATE_ADDED", "ABUSE_STATE_LIVE", "ABUSE_STATE_DEAD", "ABUSE_OP_READ", "ABUSE_OP_WRITE",
            "ABUSE_OP_FLUSH", "ABUSE_OP_DISCARD", "ABUSE_OP_WRITE_ZEROES", "ABUSE_REQ_FUA", "ABUSE_REQ_NOUNMAP",
            "ABUSE_MAX_BATCH", "ABUSE_MAX_QUEUE_DEPTH", "ABUSE_MAX_HW_QUEUES", "ABUSE_MIN_REQ_BYTES",
            "ABUSE_MAX_REQ_BYTES", "ABUSE_BACKING_LEN"}) {
            c.constant(k);
        }
        return c.read(dir);
    }

    @Test
    void structuresAndNumbersMatchTheHeader() throws Exception {
        Map<String, Long> c = fromC();
        Map<String, Long> java = new HashMap<>();
        java.put("abuse_dev_info", (long) AbuseAbi.DevInfo.SIZE);
        java.put("abuse_backing", (long) AbuseAbi.Backing.SIZE);
        java.put("abuse_request", (long) AbuseAbi.Request.SIZE);
        java.put("abuse_completion", (long) AbuseAbi.Completion.SIZE);
        java.put("abuse_xfer", (long) AbuseAbi.Xfer.SIZE);

        java.put("abuse_dev_info.index", (long) AbuseAbi.DevInfo.INDEX);
        java.put("abuse_dev_info.flags", (long) AbuseAbi.DevInfo.FLAGS);
        java.put("abuse_dev_info.size", (long) AbuseAbi.DevInfo.DEV_SIZE);
        java.put("abuse_dev_info.block_size", (long) AbuseAbi.DevInfo.BLOCK_SIZE);
        java.put("abuse_dev_info.max_req_bytes", (long) AbuseAbi.DevInfo.MAX_REQ_BYTES);
        java.put("abuse_dev_info.queue_depth", (long) AbuseAbi.DevInfo.QUEUE_DEPTH);
        java.put("abuse_dev_info.nr_hw_queues", (long) AbuseAbi.DevInfo.NR_HW_QUEUES);
        java.put("abuse_dev_info.timeout", (long) AbuseAbi.DevInfo.TIMEOUT);
        java.put("abuse_dev_info.io_timeout", (long) AbuseAbi.DevInfo.IO_TIMEOUT);
        java.put("abuse_dev_info.state", (long) AbuseAbi.DevInfo.STATE);
        java.put("abuse_dev_info.nr_servers", (long) AbuseAbi.DevInfo.NR_SERVERS);
        java.put("abuse_dev_info.queued", (long) AbuseAbi.DevInfo.QUEUED);
        java.put("abuse_dev_info.inflight", (long) AbuseAbi.DevInfo.INFLIGHT);
        java.put("abuse_dev_info.held", (long) AbuseAbi.DevInfo.HELD);
        java.put("abuse_dev_info.server_pid", (long) AbuseAbi.DevInfo.SERVER_PID);
        java.put("abuse_dev_info.errors", (long) AbuseAbi.DevInfo.ERRORS);
        java.put("abuse_dev_info.timeouts", (long) AbuseAbi.DevInfo.TIMEOUTS);
        java.put("abuse_backing.index", (long) AbuseAbi.Backing.INDEX);
        java.put("abuse_backing.text", (long) AbuseAbi.Backing.TEXT);
        java.put("abuse_request.tag", (long) AbuseAbi.Request.TAG);
        java.put("abuse_request.op", (long) AbuseAbi.Request.OP);
        java.put("abuse_request.seq", (long) AbuseAbi.Request.SEQ);
        java.put("abuse_request.offset", (long) AbuseAbi.Request.OFFSET);
        java.put("abuse_request.len", (long) AbuseAbi.Request.LEN);
        java.put("abuse_request.flags", (long) AbuseAbi.Request.FLAGS);
        java.put("abuse_request.data_offset", (long) AbuseAbi.Request.DATA_OFFSET);
        java.put("abuse_completion.tag", (long) AbuseAbi.Completion.TAG);
        java.put("abuse_completion.result", (long) AbuseAbi.Completion.RESULT);
        java.put("abuse_completion.seq", (long) AbuseAbi.Completion.SEQ);
        java.put("abuse_completion.addr", (long) AbuseAbi.Completion.ADDR);
        java.put("abuse_completion.len", (long) AbuseAbi.Completion.LEN);
        java.put("abuse_completion.reserved", (long) AbuseAbi.Completion.RESERVED);
        java.put("abuse_xfer.cmpl_addr", (long) AbuseAbi.Xfer.CMPL_ADDR);
        java.put("abuse_xfer.cmpl_count", (long) AbuseAbi.Xfer.CMPL_COUNT);
        java.put("abuse_xfer.req_count", (long) AbuseAbi.Xfer.REQ_COUNT);
        java.put("abuse_xfer.req_addr", (long) AbuseAbi.Xfer.REQ_ADDR);
        java.put("abuse_xfer.data_addr", (long) AbuseAbi.Xfer.DATA_ADDR);
        java.put("abuse_xfer.data_len", (long) AbuseAbi.Xfer.DATA_LEN);
        java.put("abuse_xfer.cmpl_done", (long) AbuseAbi.Xfer.CMPL_DONE);
        java.put("abuse_xfer.cmpl_errors", (long) AbuseAbi.Xfer.CMPL_ERRORS);

        java.put("ABUSE_CTL_ADD", AbuseAbi.CTL_ADD);
        java.put("ABUSE_CTL_REMOVE", AbuseAbi.CTL_REMOVE);
        java.put("ABUSE_CTL_GET_STATUS", AbuseAbi.CTL_GET_STATUS);
        java.put("ABUSE_CTL_RESET", AbuseAbi.CTL_RESET);
        java.put("ABUSE_CTL_SET_BACKING", AbuseAbi.CTL_SET_BACKING);
        java.put("ABUSE_GET_FEATURES", AbuseAbi.GET_FEATURES);
        java.put("ABUSE_CTL_START", AbuseAbi.CTL_START);
        java.put("ABUSE_CTL_NEXT", AbuseAbi.CTL_NEXT);
        java.put("ABUSE_CTL_GET_BACKING", AbuseAbi.CTL_GET_BACKING);
        java.put("ABUSE_ATTACH", AbuseAbi.ATTACH);
        java.put("ABUSE_COMMIT_AND_FETCH", AbuseAbi.COMMIT_AND_FETCH);
        java.put("ABUSE_FEAT_SEQ_HANDLES", AbuseAbi.FEAT_SEQ_HANDLES);
        java.put("ABUSE_FEAT_START", AbuseAbi.FEAT_START);
        java.put("ABUSE_FEAT_IO_TIMEOUT", AbuseAbi.FEAT_IO_TIMEOUT);
        java.put("ABUSE_FEAT_RECOVERY", AbuseAbi.FEAT_RECOVERY);
        java.put("ABUSE_FEAT_NEXT", AbuseAbi.FEAT_NEXT);
        java.put("ABUSE_FLAG_READ_ONLY", (long) AbuseAbi.FLAG_READ_ONLY);
        java.put("ABUSE_FLAG_NO_PARTSCAN", (long) AbuseAbi.FLAG_NO_PARTSCAN);
        java.put("ABUSE_FLAG_SET_TIMEOUT", (long) AbuseAbi.FLAG_SET_TIMEOUT);
        java.put("ABUSE_FLAG_SET_IO_TIMEOUT", (long) AbuseAbi.FLAG_SET_IO_TIMEOUT);
        java.put("ABUSE_FLAG_RECOVERY_FAIL", (long) AbuseAbi.FLAG_RECOVERY_FAIL);
        java.put("ABUSE_STATE_ADDED", (long) AbuseAbi.STATE_ADDED);
        java.put("ABUSE_STATE_LIVE", (long) AbuseAbi.STATE_LIVE);
        java.put("ABUSE_STATE_DEAD", (long) AbuseAbi.STATE_DEAD);
        java.put("ABUSE_OP_READ", (long) AbuseAbi.OP_READ);
        java.put("ABUSE_OP_WRITE", (long) AbuseAbi.OP_WRITE);
        java.put("ABUSE_OP_FLUSH", (long) AbuseAbi.OP_FLUSH);
        java.put("ABUSE_OP_DISCARD", (long) AbuseAbi.OP_DISCARD);
        java.put("ABUSE_OP_WRITE_ZEROES", (long) AbuseAbi.OP_WRITE_ZEROES);
        java.put("ABUSE_REQ_FUA", (long) AbuseAbi.REQ_FUA);
        java.put("ABUSE_REQ_NOUNMAP", (long) AbuseAbi.REQ_NOUNMAP);
        java.put("ABUSE_MAX_BATCH", (long) AbuseAbi.MAX_BATCH);
        java.put("ABUSE_MAX_QUEUE_DEPTH", (long) AbuseAbi.MAX_QUEUE_DEPTH);
        java.put("ABUSE_MAX_HW_QUEUES", (long) AbuseAbi.MAX_HW_QUEUES);
        java.put("ABUSE_MIN_REQ_BYTES", (long) AbuseAbi.MIN_REQ_BYTES);
        java.put("ABUSE_MAX_REQ_BYTES", (long) AbuseAbi.MAX_REQ_BYTES);
        java.put("ABUSE_BACKING_LEN", (long) AbuseAbi.BACKING_LEN);

        assertEquals(c.keySet(), java.keySet(), "the same names on both sides");
        for (Map.Entry<String, Long> e : c.entrySet()) {
            assertEquals(e.getValue(), java.get(e.getKey()), e.getKey());
        }
    }
}
