package org.vdmount.mounter.transport.abuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.testing.TestImages;

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
        StringBuilder c = new StringBuilder();
        c.append("#include <stdio.h>\n#include <stddef.h>\n#include \"").append(header.toAbsolutePath()).append("\"\n");
        c.append("#define P(name, v) printf(\"%s=%llu\\n\", name, (unsigned long long)(v))\n");
        c.append("#define S(t) P(#t, sizeof(struct t))\n");
        c.append("#define O(t, f) P(#t \".\" #f, offsetof(struct t, f))\n");
        c.append("int main(void) {\n");
        for (String s : new String[] {"abuse_dev_info", "abuse_backing", "abuse_request", "abuse_completion", "abuse_xfer"}) {
            c.append("S(").append(s).append(");\n");
        }
        String[][] fields = {
            {"abuse_dev_info", "index", "flags", "size", "block_size", "max_req_bytes", "queue_depth", "nr_hw_queues",
                "timeout", "nr_servers", "queued", "inflight", "server_pid", "errors"},
            {"abuse_backing", "index", "text"},
            {"abuse_request", "tag", "generation", "op", "flags", "offset", "len", "data_offset"},
            {"abuse_completion", "tag", "generation", "result", "len", "addr"},
            {"abuse_xfer", "cmpl_addr", "cmpl_count", "req_count", "req_addr", "data_addr", "data_len", "cmpl_done",
                "cmpl_errors"},
        };
        for (String[] f : fields) {
            for (int i = 1; i < f.length; i++) {
                c.append("O(").append(f[0]).append(", ").append(f[i]).append(");\n");
            }
        }
        for (String k : new String[] {"ABUSE_CTL_ADD", "ABUSE_CTL_REMOVE", "ABUSE_CTL_GET_STATUS", "ABUSE_CTL_RESET",
            "ABUSE_CTL_SET_BACKING", "ABUSE_ATTACH", "ABUSE_COMMIT_AND_FETCH", "ABUSE_FLAG_READ_ONLY",
            "ABUSE_FLAG_NO_PARTSCAN", "ABUSE_FLAG_SET_TIMEOUT", "ABUSE_OP_READ", "ABUSE_OP_WRITE", "ABUSE_OP_FLUSH",
            "ABUSE_OP_DISCARD", "ABUSE_OP_WRITE_ZEROES", "ABUSE_REQ_FUA", "ABUSE_REQ_NOUNMAP", "ABUSE_MAX_BATCH",
            "ABUSE_MAX_REQ_BYTES", "ABUSE_BACKING_LEN"}) {
            c.append("P(\"").append(k).append("\", ").append(k).append(");\n");
        }
        c.append("return 0;\n}\n");
        Path src = dir.resolve("abi.c");
        Files.writeString(src, c);
        TestImages.run(dir, "cc", "-Wall", "-o", dir.resolve("abi").toString(), src.toString());
        Map<String, Long> values = new HashMap<>();
        for (String line : TestImages.run(dir, dir.resolve("abi").toString()).split("\n")) {
            String[] kv = line.split("=");
            values.put(kv[0], Long.parseUnsignedLong(kv[1]));
        }
        return values;
    }

    @Test
    void structuresAndNumbersMatchTheHeader() throws Exception {
        Map<String, Long> c = fromC();
        assertEquals(c.get("abuse_dev_info"), AbuseAbi.DevInfo.SIZE);
        assertEquals(c.get("abuse_backing"), AbuseAbi.Backing.SIZE);
        assertEquals(c.get("abuse_request"), AbuseAbi.Request.SIZE);
        assertEquals(c.get("abuse_completion"), AbuseAbi.Completion.SIZE);
        assertEquals(c.get("abuse_xfer"), AbuseAbi.Xfer.SIZE);

        assertEquals(c.get("abuse_dev_info.index"), AbuseAbi.DevInfo.INDEX);
        assertEquals(c.get("abuse_dev_info.flags"), AbuseAbi.DevInfo.FLAGS);
        assertEquals(c.get("abuse_dev_info.size"), AbuseAbi.DevInfo.DEV_SIZE);
        assertEquals(c.get("abuse_dev_info.block_size"), AbuseAbi.DevInfo.BLOCK_SIZE);
        assertEquals(c.get("abuse_dev_info.max_req_bytes"), AbuseAbi.DevInfo.MAX_REQ_BYTES);
        assertEquals(c.get("abuse_dev_info.queue_depth"), AbuseAbi.DevInfo.QUEUE_DEPTH);
        assertEquals(c.get("abuse_dev_info.nr_hw_queues"), AbuseAbi.DevInfo.NR_HW_QUEUES);
        assertEquals(c.get("abuse_dev_info.timeout"), AbuseAbi.DevInfo.TIMEOUT);
        assertEquals(c.get("abuse_dev_info.nr_servers"), AbuseAbi.DevInfo.NR_SERVERS);
        assertEquals(c.get("abuse_dev_info.queued"), AbuseAbi.DevInfo.QUEUED);
        assertEquals(c.get("abuse_dev_info.inflight"), AbuseAbi.DevInfo.INFLIGHT);
        assertEquals(c.get("abuse_dev_info.server_pid"), AbuseAbi.DevInfo.SERVER_PID);
        assertEquals(c.get("abuse_dev_info.errors"), AbuseAbi.DevInfo.ERRORS);
        assertEquals(c.get("abuse_backing.index"), AbuseAbi.Backing.INDEX);
        assertEquals(c.get("abuse_backing.text"), AbuseAbi.Backing.TEXT);
        assertEquals(c.get("abuse_request.tag"), AbuseAbi.Request.TAG);
        assertEquals(c.get("abuse_request.generation"), AbuseAbi.Request.GENERATION);
        assertEquals(c.get("abuse_request.op"), AbuseAbi.Request.OP);
        assertEquals(c.get("abuse_request.flags"), AbuseAbi.Request.FLAGS);
        assertEquals(c.get("abuse_request.offset"), AbuseAbi.Request.OFFSET);
        assertEquals(c.get("abuse_request.len"), AbuseAbi.Request.LEN);
        assertEquals(c.get("abuse_request.data_offset"), AbuseAbi.Request.DATA_OFFSET);
        assertEquals(c.get("abuse_completion.tag"), AbuseAbi.Completion.TAG);
        assertEquals(c.get("abuse_completion.generation"), AbuseAbi.Completion.GENERATION);
        assertEquals(c.get("abuse_completion.result"), AbuseAbi.Completion.RESULT);
        assertEquals(c.get("abuse_completion.len"), AbuseAbi.Completion.LEN);
        assertEquals(c.get("abuse_completion.addr"), AbuseAbi.Completion.ADDR);
        assertEquals(c.get("abuse_xfer.cmpl_addr"), AbuseAbi.Xfer.CMPL_ADDR);
        assertEquals(c.get("abuse_xfer.cmpl_count"), AbuseAbi.Xfer.CMPL_COUNT);
        assertEquals(c.get("abuse_xfer.req_count"), AbuseAbi.Xfer.REQ_COUNT);
        assertEquals(c.get("abuse_xfer.req_addr"), AbuseAbi.Xfer.REQ_ADDR);
        assertEquals(c.get("abuse_xfer.data_addr"), AbuseAbi.Xfer.DATA_ADDR);
        assertEquals(c.get("abuse_xfer.data_len"), AbuseAbi.Xfer.DATA_LEN);
        assertEquals(c.get("abuse_xfer.cmpl_done"), AbuseAbi.Xfer.CMPL_DONE);
        assertEquals(c.get("abuse_xfer.cmpl_errors"), AbuseAbi.Xfer.CMPL_ERRORS);

        assertEquals(c.get("ABUSE_CTL_ADD"), AbuseAbi.CTL_ADD);
        assertEquals(c.get("ABUSE_CTL_REMOVE"), AbuseAbi.CTL_REMOVE);
        assertEquals(c.get("ABUSE_CTL_GET_STATUS"), AbuseAbi.CTL_GET_STATUS);
        assertEquals(c.get("ABUSE_CTL_RESET"), AbuseAbi.CTL_RESET);
        assertEquals(c.get("ABUSE_CTL_SET_BACKING"), AbuseAbi.CTL_SET_BACKING);
        assertEquals(c.get("ABUSE_ATTACH"), AbuseAbi.ATTACH);
        assertEquals(c.get("ABUSE_COMMIT_AND_FETCH"), AbuseAbi.COMMIT_AND_FETCH);
        assertEquals(c.get("ABUSE_FLAG_READ_ONLY"), AbuseAbi.FLAG_READ_ONLY);
        assertEquals(c.get("ABUSE_FLAG_NO_PARTSCAN"), AbuseAbi.FLAG_NO_PARTSCAN);
        assertEquals(c.get("ABUSE_FLAG_SET_TIMEOUT"), AbuseAbi.FLAG_SET_TIMEOUT);
        assertEquals(c.get("ABUSE_OP_READ"), AbuseAbi.OP_READ);
        assertEquals(c.get("ABUSE_OP_WRITE"), AbuseAbi.OP_WRITE);
        assertEquals(c.get("ABUSE_OP_FLUSH"), AbuseAbi.OP_FLUSH);
        assertEquals(c.get("ABUSE_OP_DISCARD"), AbuseAbi.OP_DISCARD);
        assertEquals(c.get("ABUSE_OP_WRITE_ZEROES"), AbuseAbi.OP_WRITE_ZEROES);
        assertEquals(c.get("ABUSE_REQ_FUA"), AbuseAbi.REQ_FUA);
        assertEquals(c.get("ABUSE_REQ_NOUNMAP"), AbuseAbi.REQ_NOUNMAP);
        assertEquals(c.get("ABUSE_MAX_BATCH"), AbuseAbi.MAX_BATCH);
        assertEquals(c.get("ABUSE_MAX_REQ_BYTES"), AbuseAbi.MAX_REQ_BYTES);
        assertEquals(c.get("ABUSE_BACKING_LEN"), AbuseAbi.BACKING_LEN);
    }
}
