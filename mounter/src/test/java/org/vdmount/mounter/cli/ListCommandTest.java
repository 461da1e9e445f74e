package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vdmount.mounter.attach.AttachmentRecord;
import org.vdmount.mounter.transport.AttachedDevice;

class ListCommandTest {
    @Test
    void jsonIsEscapedAndComplete() {
        AttachmentRecord r = new AttachmentRecord(2, "/img/\"odd\"\\name\t.raw", "fuse", "read-only", 0,
                "/run/vdmount/2.log", List.of(new AttachedDevice("/dev/loop5", 4096, "disk", "x")), Map.of("mountPoint", "/run/vdmount/2"));
        assertEquals("[\n  {\"id\": 2, \"image\": \"/img/\\\"odd\\\"\\\\name\\t.raw\", \"transport\": \"fuse\","
                + " \"mode\": \"read-only\", \"pid\": 0, \"running\": false, \"log\": \"/run/vdmount/2.log\", \"devices\": [{\"path\": \"/dev/loop5\","
                + " \"size\": 4096, \"name\": \"disk\", \"label\": \"x\"}], \"mountPoint\": \"/run/vdmount/2\"}\n]",
                ListCommand.toJson(List.of(r)));
        assertEquals("[]", ListCommand.toJson(List.of()));
    }
}
