package org.vdmount.mounter.util;

/**
 * A mistake on the command line that parsing alone could not see: a value out of range, options
 * that contradict each other, a partition or offset the image does not have. Exit status 2, like
 * the mistakes picocli finds.
 */
public class UsageError extends UserError {
    public UsageError(String message) {
        super(message);
    }
}
