package org.vdmount.mounter.transport.ublk;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.vdmount.mounter.jna.LibC;

/**
 * The ublk devices there are, and which of them is ours: a device keeps, in the info field the
 * driver leaves to its server, a fingerprint of what it shows (the image, its size and whether it is
 * writable), so a new server for the same image finds the device a dead one left behind, and a
 * detach never removes a number that meanwhile went to another image.
 */
final class UblkDevices {
    private static final Path CLASS = Path.of("/sys/class/ublk-char");

    private UblkDevices() {
    }

    /** The fingerprint of a device showing {@code backing}, {@code sectors} long, writable or not; never 0. */
    static long fingerprint(String backing, long sectors, boolean writable) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(
                    (backing + "\n" + sectors + "\n" + (writable ? "rw" : "ro")).getBytes(StandardCharsets.UTF_8));
            long f = 0;
            for (int i = 0; i < 8; i++) {
                f = f << 8 | (digest[i] & 0xff);
            }
            return f == 0 ? 1 : f;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java has SHA-256
        }
    }

    /** Every ublk device's number, lowest first. */
    static List<Integer> all() throws IOException {
        List<Integer> ids = new ArrayList<>();
        if (!Files.isDirectory(CLASS)) {
            return ids;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(CLASS, UblkAbi.CHAR_PREFIX + "*")) {
            for (Path entry : entries) {
                String number = entry.getFileName().toString().substring(UblkAbi.CHAR_PREFIX.length());
                if (number.matches("\\d{1,7}")) {
                    ids.add(Integer.parseInt(number));
                }
            }
        }
        ids.sort(null);
        return ids;
    }

    /**
     * A device with {@code fingerprint} whose server is gone and which a new server may recover:
     * quiesced by the driver, or about to be (its server's process no longer exists).
     */
    static OptionalInt orphan(UblkControl control, long fingerprint) throws IOException {
        for (int id : all()) {
            UblkDeviceInfo info;
            try {
                info = control.info(id);
            } catch (IOException e) {
                continue; // removed meanwhile
            }
            if (info.fingerprint() != fingerprint || !info.has(UblkAbi.F_USER_RECOVERY)) {
                continue;
            }
            if (info.state() == UblkAbi.S_DEV_QUIESCED
                    || info.state() == UblkAbi.S_DEV_LIVE && !alive(info.serverPid())) {
                return OptionalInt.of(id);
            }
        }
        return OptionalInt.empty();
    }

    /**
     * Deletes the devices with {@code fingerprint} that never got their disk and have no server: what
     * an attach killed half way (after ADD_DEV, before START_DEV) leaves. A device that a server is
     * setting up right now has its /dev/ublkcN open, which the driver lets one opener have.
     */
    static void deleteStale(UblkControl control, long fingerprint) throws IOException {
        for (int id : all()) {
            UblkDeviceInfo info;
            try {
                info = control.info(id);
            } catch (IOException e) {
                continue;
            }
            if (info.fingerprint() != fingerprint || info.state() != UblkAbi.S_DEV_DEAD || !unopened(id)) {
                continue;
            }
            control.delete(id);
        }
    }

    /** Whether nobody has /dev/ublkcN open: we could open it (and close it again at once). */
    private static boolean unopened(int id) {
        try {
            int fd = LibC.INSTANCE.open("/dev/" + UblkAbi.CHAR_PREFIX + id, LibC.O_RDWR | LibC.O_CLOEXEC);
            LibC.INSTANCE.close(fd);
            return true;
        } catch (LastErrorException e) {
            return false;
        }
    }

    /** Whether device {@code id} still shows what {@code fingerprint} describes. */
    static boolean stillOurs(int id, long fingerprint) {
        try (UblkControl control = UblkControl.open()) {
            return control.info(id).fingerprint() == fingerprint;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether the device's number is free again (its server let go of /dev/ublkcN and it was deleted). */
    static boolean gone(int id) {
        return !Files.exists(CLASS.resolve(UblkAbi.CHAR_PREFIX + id));
    }

    private static boolean alive(int pid) {
        return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
