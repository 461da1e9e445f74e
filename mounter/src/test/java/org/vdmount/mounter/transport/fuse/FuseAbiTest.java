package org.vdmount.mounter.transport.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.testing.TestImages;

/**
 * The Java mirror of the FUSE protocol must agree with the kernel's header: a C program compiled
 * against {@code <linux/fuse.h>} (linux-libc-dev, which libc6-dev brings) prints every size, offset
 * and number FuseAbi has, and each is compared.
 */
class FuseAbiTest {
    @TempDir
    Path dir;

    /** C expression to the Java value it must equal. */
    private static Map<String, Long> expected() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("FUSE_KERNEL_VERSION", (long) FuseAbi.KERNEL_MAJOR);
        m.put("FUSE_ROOT_ID", FuseAbi.ROOT_ID);
        m.put("FUSE_LOOKUP", (long) FuseAbi.LOOKUP);
        m.put("FUSE_FORGET", (long) FuseAbi.FORGET);
        m.put("FUSE_GETATTR", (long) FuseAbi.GETATTR);
        m.put("FUSE_SETATTR", (long) FuseAbi.SETATTR);
        m.put("FUSE_OPEN", (long) FuseAbi.OPEN);
        m.put("FUSE_READ", (long) FuseAbi.READ);
        m.put("FUSE_WRITE", (long) FuseAbi.WRITE);
        m.put("FUSE_STATFS", (long) FuseAbi.STATFS);
        m.put("FUSE_RELEASE", (long) FuseAbi.RELEASE);
        m.put("FUSE_FSYNC", (long) FuseAbi.FSYNC);
        m.put("FUSE_FLUSH", (long) FuseAbi.FLUSH);
        m.put("FUSE_INIT", (long) FuseAbi.INIT);
        m.put("FUSE_OPENDIR", (long) FuseAbi.OPENDIR);
        m.put("FUSE_READDIR", (long) FuseAbi.READDIR);
        m.put("FUSE_RELEASEDIR", (long) FuseAbi.RELEASEDIR);
        m.put("FUSE_FSYNCDIR", (long) FuseAbi.FSYNCDIR);
        m.put("FUSE_INTERRUPT", (long) FuseAbi.INTERRUPT);
        m.put("FUSE_DESTROY", (long) FuseAbi.DESTROY);
        m.put("FUSE_BATCH_FORGET", (long) FuseAbi.BATCH_FORGET);
        m.put("FUSE_LSEEK", (long) FuseAbi.LSEEK);
        m.put("FUSE_ASYNC_READ", (long) FuseAbi.ASYNC_READ);
        m.put("FUSE_BIG_WRITES", (long) FuseAbi.BIG_WRITES);
        m.put("FUSE_ASYNC_DIO", (long) FuseAbi.ASYNC_DIO);
        m.put("FUSE_PARALLEL_DIROPS", (long) FuseAbi.PARALLEL_DIROPS);
        m.put("FUSE_MAX_PAGES", (long) FuseAbi.MAX_PAGES);
        m.put("FOPEN_KEEP_CACHE", (long) FuseAbi.FOPEN_KEEP_CACHE);
        m.put("SEEK_DATA", (long) FuseAbi.SEEK_DATA);
        m.put("SEEK_HOLE", (long) FuseAbi.SEEK_HOLE);
        m.put("S_IFDIR", (long) FuseAbi.S_IFDIR);
        m.put("S_IFREG", (long) FuseAbi.S_IFREG);
        m.put("DT_DIR", (long) FuseAbi.DT_DIR);
        m.put("DT_REG", (long) FuseAbi.DT_REG);
        m.put("O_ACCMODE", (long) FuseAbi.O_ACCMODE);

        size(m, "fuse_in_header", FuseAbi.InHeader.SIZE);
        field(m, "fuse_in_header", "len", FuseAbi.InHeader.LEN);
        field(m, "fuse_in_header", "opcode", FuseAbi.InHeader.OPCODE);
        field(m, "fuse_in_header", "unique", FuseAbi.InHeader.UNIQUE);
        field(m, "fuse_in_header", "nodeid", FuseAbi.InHeader.NODEID);
        size(m, "fuse_out_header", FuseAbi.OutHeader.SIZE);
        field(m, "fuse_out_header", "len", FuseAbi.OutHeader.LEN);
        field(m, "fuse_out_header", "error", FuseAbi.OutHeader.ERROR);
        field(m, "fuse_out_header", "unique", FuseAbi.OutHeader.UNIQUE);

        field(m, "fuse_init_in", "major", FuseAbi.InitIn.MAJOR);
        field(m, "fuse_init_in", "minor", FuseAbi.InitIn.MINOR);
        field(m, "fuse_init_in", "max_readahead", FuseAbi.InitIn.MAX_READAHEAD);
        field(m, "fuse_init_in", "flags", FuseAbi.InitIn.FLAGS);
        size(m, "fuse_init_out", FuseAbi.InitOut.SIZE);
        field(m, "fuse_init_out", "major", FuseAbi.InitOut.MAJOR);
        field(m, "fuse_init_out", "minor", FuseAbi.InitOut.MINOR);
        field(m, "fuse_init_out", "max_readahead", FuseAbi.InitOut.MAX_READAHEAD);
        field(m, "fuse_init_out", "flags", FuseAbi.InitOut.FLAGS);
        field(m, "fuse_init_out", "max_background", FuseAbi.InitOut.MAX_BACKGROUND);
        field(m, "fuse_init_out", "congestion_threshold", FuseAbi.InitOut.CONGESTION_THRESHOLD);
        field(m, "fuse_init_out", "max_write", FuseAbi.InitOut.MAX_WRITE);
        field(m, "fuse_init_out", "time_gran", FuseAbi.InitOut.TIME_GRAN);
        field(m, "fuse_init_out", "max_pages", FuseAbi.InitOut.MAX_PAGES);
        field(m, "fuse_init_out", "map_alignment", FuseAbi.InitOut.MAP_ALIGNMENT);

        size(m, "fuse_attr", FuseAbi.Attr.SIZE);
        field(m, "fuse_attr", "ino", FuseAbi.Attr.INO);
        field(m, "fuse_attr", "size", FuseAbi.Attr.SIZE_BYTES);
        field(m, "fuse_attr", "blocks", FuseAbi.Attr.BLOCKS);
        field(m, "fuse_attr", "atime", FuseAbi.Attr.ATIME);
        field(m, "fuse_attr", "mtime", FuseAbi.Attr.MTIME);
        field(m, "fuse_attr", "ctime", FuseAbi.Attr.CTIME);
        field(m, "fuse_attr", "atimensec", FuseAbi.Attr.ATIMENSEC);
        field(m, "fuse_attr", "mtimensec", FuseAbi.Attr.MTIMENSEC);
        field(m, "fuse_attr", "ctimensec", FuseAbi.Attr.CTIMENSEC);
        field(m, "fuse_attr", "mode", FuseAbi.Attr.MODE);
        field(m, "fuse_attr", "nlink", FuseAbi.Attr.NLINK);
        field(m, "fuse_attr", "uid", FuseAbi.Attr.UID);
        field(m, "fuse_attr", "gid", FuseAbi.Attr.GID);
        field(m, "fuse_attr", "rdev", FuseAbi.Attr.RDEV);
        field(m, "fuse_attr", "blksize", FuseAbi.Attr.BLKSIZE);
        field(m, "fuse_attr", "flags", FuseAbi.Attr.FLAGS);

        size(m, "fuse_entry_out", FuseAbi.EntryOut.SIZE);
        field(m, "fuse_entry_out", "nodeid", FuseAbi.EntryOut.NODEID);
        field(m, "fuse_entry_out", "generation", FuseAbi.EntryOut.GENERATION);
        field(m, "fuse_entry_out", "entry_valid", FuseAbi.EntryOut.ENTRY_VALID);
        field(m, "fuse_entry_out", "attr_valid", FuseAbi.EntryOut.ATTR_VALID);
        field(m, "fuse_entry_out", "entry_valid_nsec", FuseAbi.EntryOut.ENTRY_VALID_NSEC);
        field(m, "fuse_entry_out", "attr_valid_nsec", FuseAbi.EntryOut.ATTR_VALID_NSEC);
        field(m, "fuse_entry_out", "attr", FuseAbi.EntryOut.ATTR);
        size(m, "fuse_attr_out", FuseAbi.AttrOut.SIZE);
        field(m, "fuse_attr_out", "attr_valid", FuseAbi.AttrOut.ATTR_VALID);
        field(m, "fuse_attr_out", "attr_valid_nsec", FuseAbi.AttrOut.ATTR_VALID_NSEC);
        field(m, "fuse_attr_out", "dummy", FuseAbi.AttrOut.DUMMY);
        field(m, "fuse_attr_out", "attr", FuseAbi.AttrOut.ATTR);

        field(m, "fuse_open_in", "flags", FuseAbi.OpenIn.FLAGS);
        size(m, "fuse_open_out", FuseAbi.OpenOut.SIZE);
        field(m, "fuse_open_out", "fh", FuseAbi.OpenOut.FH);
        field(m, "fuse_open_out", "open_flags", FuseAbi.OpenOut.OPEN_FLAGS);
        field(m, "fuse_open_out", "padding", FuseAbi.OpenOut.PADDING);
        field(m, "fuse_read_in", "offset", FuseAbi.ReadIn.OFFSET);
        field(m, "fuse_read_in", "size", FuseAbi.ReadIn.SIZE_BYTES);
        size(m, "fuse_write_in", FuseAbi.WriteIn.SIZE);
        field(m, "fuse_write_in", "offset", FuseAbi.WriteIn.OFFSET);
        field(m, "fuse_write_in", "size", FuseAbi.WriteIn.SIZE_BYTES);
        size(m, "fuse_write_out", FuseAbi.WriteOut.SIZE);
        field(m, "fuse_write_out", "size", FuseAbi.WriteOut.SIZE_BYTES);
        field(m, "fuse_write_out", "padding", FuseAbi.WriteOut.PADDING);
        field(m, "fuse_lseek_in", "offset", FuseAbi.LseekIn.OFFSET);
        field(m, "fuse_lseek_in", "whence", FuseAbi.LseekIn.WHENCE);
        size(m, "fuse_lseek_out", FuseAbi.LseekOut.SIZE);
        field(m, "fuse_lseek_out", "offset", FuseAbi.LseekOut.OFFSET);

        size(m, "fuse_statfs_out", FuseAbi.StatfsOut.SIZE);
        field(m, "fuse_kstatfs", "blocks", FuseAbi.StatfsOut.BLOCKS);
        field(m, "fuse_kstatfs", "bfree", FuseAbi.StatfsOut.BFREE);
        field(m, "fuse_kstatfs", "bavail", FuseAbi.StatfsOut.BAVAIL);
        field(m, "fuse_kstatfs", "files", FuseAbi.StatfsOut.FILES);
        field(m, "fuse_kstatfs", "ffree", FuseAbi.StatfsOut.FFREE);
        field(m, "fuse_kstatfs", "bsize", FuseAbi.StatfsOut.BSIZE);
        field(m, "fuse_kstatfs", "namelen", FuseAbi.StatfsOut.NAMELEN);
        field(m, "fuse_kstatfs", "frsize", FuseAbi.StatfsOut.FRSIZE);
        field(m, "fuse_kstatfs", "padding", FuseAbi.StatfsOut.PADDING);
        field(m, "fuse_statfs_out", "st", 0);

        field(m, "fuse_dirent", "ino", FuseAbi.Dirent.INO);
        field(m, "fuse_dirent", "off", FuseAbi.Dirent.OFF);
        field(m, "fuse_dirent", "namelen", FuseAbi.Dirent.NAMELEN);
        field(m, "fuse_dirent", "type", FuseAbi.Dirent.TYPE);
        m.put("FUSE_NAME_OFFSET", (long) FuseAbi.Dirent.NAME);
        m.put("FUSE_DIRENT_ALIGN(1)", (long) FuseAbi.Dirent.ALIGN);
        return m;
    }

    private static void size(Map<String, Long> m, String struct, int value) {
        m.put("sizeof(struct " + struct + ")", (long) value);
    }

    private static void field(Map<String, Long> m, String struct, String field, int value) {
        m.put("offsetof(struct " + struct + ", " + field + ")", (long) value);
    }

    @Test
    void structuresAndNumbersMatchTheKernelHeader() throws Exception {
        Map<String, Long> expected = expected();
        StringBuilder c = new StringBuilder("#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n"
                + "#include <fcntl.h>\n#include <dirent.h>\n#include <unistd.h>\n#include <sys/stat.h>\n"
                + "#include <linux/fuse.h>\nint main(void) {\n");
        for (String expression : expected.keySet()) {
            c.append("printf(\"%llu\\n\", (unsigned long long)(").append(expression).append("));\n");
        }
        c.append("printf(\"minor %d\\n\", FUSE_KERNEL_MINOR_VERSION);\nreturn 0;\n}\n");
        Path src = dir.resolve("fuse_abi.c");
        Files.writeString(src, c);
        TestImages.run(dir, "cc", "-Wall", "-o", dir.resolve("fuse_abi").toString(), src.toString());
        String[] lines = TestImages.run(dir, dir.resolve("fuse_abi").toString()).split("\n");
        int i = 0;
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            assertEquals(e.getValue(), Long.parseUnsignedLong(lines[i++].strip()), e.getKey());
        }
        // The structs we fill must be those of the newest minor we answer with, or a later one.
        int minor = Integer.parseInt(lines[i].substring("minor ".length()).strip());
        assertTrue(minor >= FuseAbi.MAX_MINOR, "the header is older (7." + minor + ") than what we speak (7."
                + FuseAbi.MAX_MINOR + ")");
    }
}
