package org.vdmount.mounter.cli;

import org.vdmount.mounter.util.Sizes;
import picocli.CommandLine;

/** Lets options take sizes such as 64K or 3T. */
final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return Sizes.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
