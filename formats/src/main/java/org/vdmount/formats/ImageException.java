package org.vdmount.formats;

import java.io.IOException;

/**
 * A problem with an image file: damaged, hostile, unsupported or missing. Its message is always one
 * line, {@code <file>: <what is wrong>}, so the command line can print it as it is.
 */
public class ImageException extends IOException {
    private final String file;
    private final String reason;

    public ImageException(String file, String reason) {
        super(file + ": " + reason);
        this.file = file;
        this.reason = reason;
    }

    public ImageException(String file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    /** The file the problem was found in, as the user named it (or as a descriptor named it). */
    public String file() {
        return file;
    }

    /** What is wrong, without the file name. */
    public String reason() {
        return reason;
    }
}
