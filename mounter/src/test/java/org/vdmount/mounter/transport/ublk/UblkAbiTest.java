package org.vdmount.mounter.transport.ublk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.transport.CHeaderValues;
import org.vdmount.mounter.uring.IoUringAbi;

/**
 * The Java mirrors of include/uapi/linux/ublk_cmd.h and io_uring.h must agree with the kernel's own
 * headers: a C compiler says what they say. The headers are those of the newest kernel whose headers
 * are installed (Debian's linux-headers-6.12-amd64, which the tests' packages include); without
 * them the test is skipped, except under CI, where that is a failure.
 */
class UblkAbiTest {
    @TempDir
    Path dir;

    /** The uapi directory (holding linux/ublk_cmd.h) of the newest kernel headers installed. */
    static Optional<Path> uapi() {
        String override = System.getProperty("vdmount.ublk.uapi");
        if (override != null) {
            return Optional.of(Path.of(override));
        }
        try (Stream<Path> trees = Files.list(Path.of("/usr/src"))) {
            Optional<Path> newest = trees.map(t -> t.resolve("include/uapi"))
                    .filter(u -> Files.exists(u.resolve("linux/ublk_cmd.h")))
                    .max(Comparator.comparing(UblkAbiTest::versionKey));
            if (newest.isPresent()) {
                return newest;
            }
        } catch (IOException e) {
            // no /usr/src
        }
        return Optional.empty();
    }

    /** "linux-headers-6.12.117+deb12-common" sorts after "linux-headers-6.1.0-56-common". */
    private static String versionKey(Path uapi) {
        String name = uapi.getParent().getParent().getFileName().toString();
        StringBuilder key = new StringBuilder();
        for (String part : name.split("[^0-9]+")) {
            if (!part.isEmpty()) {
                key.append(String.format("%08d", Long.parseLong(part.length() > 8 ? part.substring(0, 8) : part)));
            }
        }
        return key.toString();
    }

    private Map<String, Long> fromC(Path uapi) throws Exception {
        CHeaderValues c = new CHeaderValues().include("<errno.h>").include("<sys/syscall.h>")
                .include("<linux/ioctl.h>").include(uapi.resolve("linux/ublk_cmd.h"))
                .include(uapi.resolve("linux/io_uring.h"));
        c.value("sizeof ublk_params", "sizeof(struct ublk_params)");
        for (String s : STRUCTS) {
            c.size(s);
        }
        for (String[] f : FIELDS) {
            c.offsets(f[0], Arrays.copyOfRange(f, 1, f.length));
        }
        for (String k : constants().keySet()) {
            c.constant(k);
        }
        return c.read(dir);
    }

    private static final List<String> STRUCTS = List.of("ublksrv_ctrl_cmd", "ublksrv_ctrl_dev_info",
            "ublksrv_io_desc", "ublksrv_io_cmd", "io_uring_params", "io_uring_sqe", "io_uring_cqe",
            "io_uring_getevents_arg");

    private static final String[][] FIELDS = {
        {"ublksrv_ctrl_cmd", "dev_id", "queue_id", "len", "addr", "data", "dev_path_len", "pad", "reserved"},
        {"ublksrv_ctrl_dev_info", "nr_hw_queues", "queue_depth", "state", "max_io_buf_bytes", "dev_id", "ublksrv_pid",
            "flags", "ublksrv_flags", "owner_uid", "owner_gid"},
        {"ublksrv_io_desc", "op_flags", "nr_sectors", "start_sector", "addr"},
        {"ublksrv_io_cmd", "q_id", "tag", "result", "addr"},
        {"ublk_params", "len", "types", "basic", "discard", "devt"},
        {"ublk_param_basic", "attrs", "logical_bs_shift", "physical_bs_shift", "io_opt_shift", "io_min_shift",
            "max_sectors", "chunk_sectors", "dev_sectors", "virt_boundary_mask"},
        {"ublk_param_discard", "discard_alignment", "discard_granularity", "max_discard_sectors",
            "max_write_zeroes_sectors", "max_discard_segments"},
        {"ublk_param_devt", "char_major", "char_minor", "disk_major", "disk_minor"},
        {"io_uring_params", "sq_entries", "cq_entries", "flags", "features", "sq_off", "cq_off"},
        {"io_sqring_offsets", "head", "tail", "ring_mask", "ring_entries", "flags", "dropped", "array"},
        {"io_cqring_offsets", "head", "tail", "ring_mask", "ring_entries", "overflow", "cqes"},
        {"io_uring_sqe", "opcode", "flags", "ioprio", "fd", "off", "cmd_op", "addr", "len", "rw_flags", "user_data",
            "buf_index", "personality", "file_index", "addr3", "cmd"},
        {"io_uring_cqe", "user_data", "res", "flags"},
        {"io_uring_getevents_arg", "sigmask", "sigmask_sz", "ts"},
    };

    /** What the Java side says, named as the C side names it. */
    private static Map<String, Long> java() {
        Map<String, Long> j = new HashMap<>();
        j.put("ublksrv_ctrl_cmd", (long) UblkAbi.CtrlCmd.SIZE);
        j.put("ublksrv_ctrl_dev_info", (long) UblkAbi.DevInfo.SIZE);
        j.put("ublksrv_io_desc", (long) UblkAbi.IoDesc.SIZE);
        j.put("ublksrv_io_cmd", (long) UblkAbi.IoCmd.SIZE);
        j.put("io_uring_params", (long) IoUringAbi.Params.SIZE);
        j.put("io_uring_sqe", (long) IoUringAbi.Sqe.SIZE);
        j.put("io_uring_cqe", (long) IoUringAbi.Cqe.SIZE);
        j.put("io_uring_getevents_arg", (long) IoUringAbi.GeteventsArg.SIZE);

        j.put("ublksrv_ctrl_cmd.dev_id", (long) UblkAbi.CtrlCmd.DEV_ID);
        j.put("ublksrv_ctrl_cmd.queue_id", (long) UblkAbi.CtrlCmd.QUEUE_ID);
        j.put("ublksrv_ctrl_cmd.len", (long) UblkAbi.CtrlCmd.LEN);
        j.put("ublksrv_ctrl_cmd.addr", (long) UblkAbi.CtrlCmd.ADDR);
        j.put("ublksrv_ctrl_cmd.data", (long) UblkAbi.CtrlCmd.DATA);
        j.put("ublksrv_ctrl_cmd.dev_path_len", (long) UblkAbi.CtrlCmd.DEV_PATH_LEN);
        j.put("ublksrv_ctrl_cmd.pad", (long) UblkAbi.CtrlCmd.PAD);
        j.put("ublksrv_ctrl_cmd.reserved", (long) UblkAbi.CtrlCmd.RESERVED);
        j.put("ublksrv_ctrl_dev_info.nr_hw_queues", (long) UblkAbi.DevInfo.NR_HW_QUEUES);
        j.put("ublksrv_ctrl_dev_info.queue_depth", (long) UblkAbi.DevInfo.QUEUE_DEPTH);
        j.put("ublksrv_ctrl_dev_info.state", (long) UblkAbi.DevInfo.STATE);
        j.put("ublksrv_ctrl_dev_info.max_io_buf_bytes", (long) UblkAbi.DevInfo.MAX_IO_BUF_BYTES);
        j.put("ublksrv_ctrl_dev_info.dev_id", (long) UblkAbi.DevInfo.DEV_ID);
        j.put("ublksrv_ctrl_dev_info.ublksrv_pid", (long) UblkAbi.DevInfo.UBLKSRV_PID);
        j.put("ublksrv_ctrl_dev_info.flags", (long) UblkAbi.DevInfo.FLAGS);
        j.put("ublksrv_ctrl_dev_info.ublksrv_flags", (long) UblkAbi.DevInfo.UBLKSRV_FLAGS);
        j.put("ublksrv_ctrl_dev_info.owner_uid", (long) UblkAbi.DevInfo.OWNER_UID);
        j.put("ublksrv_ctrl_dev_info.owner_gid", (long) UblkAbi.DevInfo.OWNER_GID);
        j.put("ublksrv_io_desc.op_flags", (long) UblkAbi.IoDesc.OP_FLAGS);
        j.put("ublksrv_io_desc.nr_sectors", (long) UblkAbi.IoDesc.NR_SECTORS);
        j.put("ublksrv_io_desc.start_sector", (long) UblkAbi.IoDesc.START_SECTOR);
        j.put("ublksrv_io_desc.addr", (long) UblkAbi.IoDesc.ADDR);
        j.put("ublksrv_io_cmd.q_id", (long) UblkAbi.IoCmd.Q_ID);
        j.put("ublksrv_io_cmd.tag", (long) UblkAbi.IoCmd.TAG);
        j.put("ublksrv_io_cmd.result", (long) UblkAbi.IoCmd.RESULT);
        j.put("ublksrv_io_cmd.addr", (long) UblkAbi.IoCmd.ADDR);
        j.put("ublk_params.len", (long) UblkAbi.Params.LEN);
        j.put("ublk_params.types", (long) UblkAbi.Params.TYPES);
        j.put("ublk_params.basic", (long) UblkAbi.Params.BASIC);
        j.put("ublk_params.discard", (long) UblkAbi.Params.DISCARD);
        j.put("ublk_params.devt", (long) UblkAbi.Params.DEVT);
        j.put("ublk_param_basic.attrs", (long) UblkAbi.Basic.ATTRS);
        j.put("ublk_param_basic.logical_bs_shift", (long) UblkAbi.Basic.LOGICAL_BS_SHIFT);
        j.put("ublk_param_basic.physical_bs_shift", (long) UblkAbi.Basic.PHYSICAL_BS_SHIFT);
        j.put("ublk_param_basic.io_opt_shift", (long) UblkAbi.Basic.IO_OPT_SHIFT);
        j.put("ublk_param_basic.io_min_shift", (long) UblkAbi.Basic.IO_MIN_SHIFT);
        j.put("ublk_param_basic.max_sectors", (long) UblkAbi.Basic.MAX_SECTORS);
        j.put("ublk_param_basic.chunk_sectors", (long) UblkAbi.Basic.CHUNK_SECTORS);
        j.put("ublk_param_basic.dev_sectors", (long) UblkAbi.Basic.DEV_SECTORS);
        j.put("ublk_param_basic.virt_boundary_mask", (long) UblkAbi.Basic.VIRT_BOUNDARY_MASK);
        j.put("ublk_param_discard.discard_alignment", (long) UblkAbi.Discard.DISCARD_ALIGNMENT);
        j.put("ublk_param_discard.discard_granularity", (long) UblkAbi.Discard.DISCARD_GRANULARITY);
        j.put("ublk_param_discard.max_discard_sectors", (long) UblkAbi.Discard.MAX_DISCARD_SECTORS);
        j.put("ublk_param_discard.max_write_zeroes_sectors", (long) UblkAbi.Discard.MAX_WRITE_ZEROES_SECTORS);
        j.put("ublk_param_discard.max_discard_segments", (long) UblkAbi.Discard.MAX_DISCARD_SEGMENTS);
        j.put("ublk_param_devt.char_major", (long) UblkAbi.Devt.CHAR_MAJOR);
        j.put("ublk_param_devt.char_minor", (long) UblkAbi.Devt.CHAR_MINOR);
        j.put("ublk_param_devt.disk_major", (long) UblkAbi.Devt.DISK_MAJOR);
        j.put("ublk_param_devt.disk_minor", (long) UblkAbi.Devt.DISK_MINOR);

        j.put("io_uring_params.sq_entries", (long) IoUringAbi.Params.SQ_ENTRIES);
        j.put("io_uring_params.cq_entries", (long) IoUringAbi.Params.CQ_ENTRIES);
        j.put("io_uring_params.flags", (long) IoUringAbi.Params.FLAGS);
        j.put("io_uring_params.features", (long) IoUringAbi.Params.FEATURES);
        j.put("io_uring_params.sq_off", (long) IoUringAbi.Params.SQ_OFF);
        j.put("io_uring_params.cq_off", (long) IoUringAbi.Params.CQ_OFF);
        j.put("io_sqring_offsets.head", (long) IoUringAbi.SqOffsets.HEAD);
        j.put("io_sqring_offsets.tail", (long) IoUringAbi.SqOffsets.TAIL);
        j.put("io_sqring_offsets.ring_mask", (long) IoUringAbi.SqOffsets.RING_MASK);
        j.put("io_sqring_offsets.ring_entries", (long) IoUringAbi.SqOffsets.RING_ENTRIES);
        j.put("io_sqring_offsets.flags", (long) IoUringAbi.SqOffsets.FLAGS);
        j.put("io_sqring_offsets.dropped", (long) IoUringAbi.SqOffsets.DROPPED);
        j.put("io_sqring_offsets.array", (long) IoUringAbi.SqOffsets.ARRAY);
        j.put("io_cqring_offsets.head", (long) IoUringAbi.CqOffsets.HEAD);
        j.put("io_cqring_offsets.tail", (long) IoUringAbi.CqOffsets.TAIL);
        j.put("io_cqring_offsets.ring_mask", (long) IoUringAbi.CqOffsets.RING_MASK);
        j.put("io_cqring_offsets.ring_entries", (long) IoUringAbi.CqOffsets.RING_ENTRIES);
        j.put("io_cqring_offsets.overflow", (long) IoUringAbi.CqOffsets.OVERFLOW);
        j.put("io_cqring_offsets.cqes", (long) IoUringAbi.CqOffsets.CQES);
        j.put("io_uring_sqe.opcode", (long) IoUringAbi.Sqe.OPCODE);
        j.put("io_uring_sqe.flags", (long) IoUringAbi.Sqe.FLAGS);
        j.put("io_uring_sqe.ioprio", (long) IoUringAbi.Sqe.IOPRIO);
        j.put("io_uring_sqe.fd", (long) IoUringAbi.Sqe.FD);
        j.put("io_uring_sqe.off", (long) IoUringAbi.Sqe.OFF);
        j.put("io_uring_sqe.cmd_op", (long) IoUringAbi.Sqe.CMD_OP);
        j.put("io_uring_sqe.addr", (long) IoUringAbi.Sqe.ADDR);
        j.put("io_uring_sqe.len", (long) IoUringAbi.Sqe.LEN);
        j.put("io_uring_sqe.rw_flags", (long) IoUringAbi.Sqe.OP_FLAGS);
        j.put("io_uring_sqe.user_data", (long) IoUringAbi.Sqe.USER_DATA);
        j.put("io_uring_sqe.buf_index", (long) IoUringAbi.Sqe.BUF_INDEX);
        j.put("io_uring_sqe.personality", (long) IoUringAbi.Sqe.PERSONALITY);
        j.put("io_uring_sqe.file_index", (long) IoUringAbi.Sqe.FILE_INDEX);
        j.put("io_uring_sqe.addr3", (long) IoUringAbi.Sqe.CMD);
        j.put("io_uring_sqe.cmd", (long) IoUringAbi.Sqe.CMD);
        j.put("io_uring_cqe.user_data", (long) IoUringAbi.Cqe.USER_DATA);
        j.put("io_uring_cqe.res", (long) IoUringAbi.Cqe.RES);
        j.put("io_uring_cqe.flags", (long) IoUringAbi.Cqe.FLAGS);
        j.put("io_uring_getevents_arg.sigmask", (long) IoUringAbi.GeteventsArg.SIGMASK);
        j.put("io_uring_getevents_arg.sigmask_sz", (long) IoUringAbi.GeteventsArg.SIGMASK_SZ);
        j.put("io_uring_getevents_arg.ts", (long) IoUringAbi.GeteventsArg.TS);
        j.putAll(constants());
        return j;
    }

    /** The header's constants, with the Java values they must equal. */
    private static Map<String, Long> constants() {
        Map<String, Long> k = new HashMap<>();
        k.put("UBLK_U_CMD_GET_QUEUE_AFFINITY", UblkAbi.U_CMD_GET_QUEUE_AFFINITY);
        k.put("UBLK_U_CMD_GET_DEV_INFO", UblkAbi.U_CMD_GET_DEV_INFO);
        k.put("UBLK_U_CMD_ADD_DEV", UblkAbi.U_CMD_ADD_DEV);
        k.put("UBLK_U_CMD_DEL_DEV", UblkAbi.U_CMD_DEL_DEV);
        k.put("UBLK_U_CMD_START_DEV", UblkAbi.U_CMD_START_DEV);
        k.put("UBLK_U_CMD_STOP_DEV", UblkAbi.U_CMD_STOP_DEV);
        k.put("UBLK_U_CMD_SET_PARAMS", UblkAbi.U_CMD_SET_PARAMS);
        k.put("UBLK_U_CMD_GET_PARAMS", UblkAbi.U_CMD_GET_PARAMS);
        k.put("UBLK_U_CMD_START_USER_RECOVERY", UblkAbi.U_CMD_START_USER_RECOVERY);
        k.put("UBLK_U_CMD_END_USER_RECOVERY", UblkAbi.U_CMD_END_USER_RECOVERY);
        k.put("UBLK_U_CMD_GET_DEV_INFO2", UblkAbi.U_CMD_GET_DEV_INFO2);
        k.put("UBLK_U_CMD_GET_FEATURES", UblkAbi.U_CMD_GET_FEATURES);
        k.put("UBLK_U_CMD_DEL_DEV_ASYNC", UblkAbi.U_CMD_DEL_DEV_ASYNC);
        k.put("UBLK_U_IO_FETCH_REQ", UblkAbi.U_IO_FETCH_REQ);
        k.put("UBLK_U_IO_COMMIT_AND_FETCH_REQ", UblkAbi.U_IO_COMMIT_AND_FETCH_REQ);
        k.put("UBLK_U_IO_NEED_GET_DATA", UblkAbi.U_IO_NEED_GET_DATA);
        k.put("UBLK_IO_RES_OK", (long) UblkAbi.IO_RES_OK);
        k.put("UBLK_IO_RES_NEED_GET_DATA", (long) UblkAbi.IO_RES_NEED_GET_DATA);
        k.put("UBLK_IO_RES_ABORT", (long) UblkAbi.IO_RES_ABORT);
        k.put("UBLKSRV_CMD_BUF_OFFSET", UblkAbi.CMD_BUF_OFFSET);
        k.put("UBLKSRV_IO_BUF_OFFSET", UblkAbi.IO_BUF_OFFSET);
        k.put("UBLK_MAX_QUEUE_DEPTH", (long) UblkAbi.MAX_QUEUE_DEPTH);
        k.put("UBLK_MAX_NR_QUEUES", (long) UblkAbi.MAX_NR_QUEUES);
        k.put("UBLK_FEATURES_LEN", (long) UblkAbi.FEATURES_LEN);
        k.put("UBLK_IO_BUF_BITS", (long) UblkAbi.IO_BUF_BITS);
        k.put("UBLK_TAG_OFF", (long) UblkAbi.TAG_OFF);
        k.put("UBLK_TAG_BITS", (long) UblkAbi.TAG_BITS);
        k.put("UBLK_QID_OFF", (long) UblkAbi.QID_OFF);
        k.put("UBLK_QID_BITS", (long) UblkAbi.QID_BITS);
        k.put("UBLK_F_SUPPORT_ZERO_COPY", UblkAbi.F_SUPPORT_ZERO_COPY);
        k.put("UBLK_F_URING_CMD_COMP_IN_TASK", UblkAbi.F_URING_CMD_COMP_IN_TASK);
        k.put("UBLK_F_NEED_GET_DATA", UblkAbi.F_NEED_GET_DATA);
        k.put("UBLK_F_USER_RECOVERY", UblkAbi.F_USER_RECOVERY);
        k.put("UBLK_F_USER_RECOVERY_REISSUE", UblkAbi.F_USER_RECOVERY_REISSUE);
        k.put("UBLK_F_UNPRIVILEGED_DEV", UblkAbi.F_UNPRIVILEGED_DEV);
        k.put("UBLK_F_CMD_IOCTL_ENCODE", UblkAbi.F_CMD_IOCTL_ENCODE);
        k.put("UBLK_F_USER_COPY", UblkAbi.F_USER_COPY);
        k.put("UBLK_F_ZONED", UblkAbi.F_ZONED);
        k.put("UBLK_S_DEV_DEAD", (long) UblkAbi.S_DEV_DEAD);
        k.put("UBLK_S_DEV_LIVE", (long) UblkAbi.S_DEV_LIVE);
        k.put("UBLK_S_DEV_QUIESCED", (long) UblkAbi.S_DEV_QUIESCED);
        k.put("UBLK_IO_OP_READ", (long) UblkAbi.IO_OP_READ);
        k.put("UBLK_IO_OP_WRITE", (long) UblkAbi.IO_OP_WRITE);
        k.put("UBLK_IO_OP_FLUSH", (long) UblkAbi.IO_OP_FLUSH);
        k.put("UBLK_IO_OP_DISCARD", (long) UblkAbi.IO_OP_DISCARD);
        k.put("UBLK_IO_OP_WRITE_SAME", (long) UblkAbi.IO_OP_WRITE_SAME);
        k.put("UBLK_IO_OP_WRITE_ZEROES", (long) UblkAbi.IO_OP_WRITE_ZEROES);
        k.put("UBLK_IO_F_FUA", (long) UblkAbi.IO_F_FUA);
        k.put("UBLK_IO_F_NOUNMAP", (long) UblkAbi.IO_F_NOUNMAP);
        k.put("UBLK_ATTR_READ_ONLY", (long) UblkAbi.ATTR_READ_ONLY);
        k.put("UBLK_ATTR_ROTATIONAL", (long) UblkAbi.ATTR_ROTATIONAL);
        k.put("UBLK_ATTR_VOLATILE_CACHE", (long) UblkAbi.ATTR_VOLATILE_CACHE);
        k.put("UBLK_ATTR_FUA", (long) UblkAbi.ATTR_FUA);
        k.put("UBLK_PARAM_TYPE_BASIC", (long) UblkAbi.PARAM_TYPE_BASIC);
        k.put("UBLK_PARAM_TYPE_DISCARD", (long) UblkAbi.PARAM_TYPE_DISCARD);
        k.put("UBLK_PARAM_TYPE_DEVT", (long) UblkAbi.PARAM_TYPE_DEVT);

        k.put("__NR_io_uring_setup", (long) IoUringAbi.SYS_SETUP);
        k.put("__NR_io_uring_enter", (long) IoUringAbi.SYS_ENTER);
        k.put("__NR_io_uring_register", (long) IoUringAbi.SYS_REGISTER);
        k.put("IORING_SETUP_CQSIZE", (long) IoUringAbi.SETUP_CQSIZE);
        k.put("IORING_SETUP_CLAMP", (long) IoUringAbi.SETUP_CLAMP);
        k.put("IORING_SETUP_SUBMIT_ALL", (long) IoUringAbi.SETUP_SUBMIT_ALL);
        k.put("IORING_SETUP_COOP_TASKRUN", (long) IoUringAbi.SETUP_COOP_TASKRUN);
        k.put("IORING_SETUP_SQE128", (long) IoUringAbi.SETUP_SQE128);
        k.put("IORING_SETUP_SINGLE_ISSUER", (long) IoUringAbi.SETUP_SINGLE_ISSUER);
        k.put("IORING_SETUP_DEFER_TASKRUN", (long) IoUringAbi.SETUP_DEFER_TASKRUN);
        k.put("IOSQE_FIXED_FILE", (long) IoUringAbi.SQE_FIXED_FILE);
        k.put("IORING_REGISTER_FILES", (long) IoUringAbi.REGISTER_FILES);
        k.put("IORING_ENTER_GETEVENTS", (long) IoUringAbi.ENTER_GETEVENTS);
        k.put("IORING_ENTER_EXT_ARG", (long) IoUringAbi.ENTER_EXT_ARG);
        k.put("IORING_FEAT_SINGLE_MMAP", (long) IoUringAbi.FEAT_SINGLE_MMAP);
        k.put("IORING_FEAT_NODROP", (long) IoUringAbi.FEAT_NODROP);
        k.put("IORING_FEAT_EXT_ARG", (long) IoUringAbi.FEAT_EXT_ARG);
        k.put("IORING_OFF_SQ_RING", IoUringAbi.OFF_SQ_RING);
        k.put("IORING_OFF_CQ_RING", IoUringAbi.OFF_CQ_RING);
        k.put("IORING_OFF_SQES", IoUringAbi.OFF_SQES);
        k.put("IORING_OP_NOP", (long) IoUringAbi.OP_NOP);
        k.put("IORING_OP_READ", (long) IoUringAbi.OP_READ);
        k.put("IORING_OP_URING_CMD", (long) IoUringAbi.OP_URING_CMD);
        return k;
    }

    @Test
    void structuresAndNumbersMatchTheKernelHeaders() throws Exception {
        Optional<Path> uapi = uapi();
        if (System.getenv("CI") == null) {
            assumeTrue(uapi.isPresent(), "no kernel headers with linux/ublk_cmd.h under /usr/src "
                    + "(apt-get install linux-headers-6.12-amd64)");
        }
        assertTrue(uapi.isPresent(), "no kernel headers with linux/ublk_cmd.h under /usr/src");
        Map<String, Long> c = fromC(uapi.get());
        // struct ublk_params grows in newer kernels (dma, segment after 6.12): the driver copies the
        // length both sides know, so ours must only be a prefix of the kernel's.
        long kernelParams = c.remove("sizeof ublk_params");
        assertTrue(UblkAbi.Params.SIZE <= kernelParams, "struct ublk_params: " + kernelParams + " bytes");
        Map<String, Long> java = java();
        assertEquals(c.keySet(), java.keySet(), "the same names on both sides");
        for (Map.Entry<String, Long> e : c.entrySet()) {
            assertEquals(e.getValue(), java.get(e.getKey()), e.getKey());
        }
    }
}
