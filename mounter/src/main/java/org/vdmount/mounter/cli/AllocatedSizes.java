package org.vdmount.mounter.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The space files take on disk, as {@code du} and {@code qemu-img info} count it: holes take none.
 * Java's file attributes have no st_blocks, and loading a native-call library would cost a short
 * command more than it does, so one {@code stat} process measures every file, in the background
 * while the command does its own work.
 */
final class AllocatedSizes {
    private final CompletableFuture<Map<String, Long>> sizes;

    private AllocatedSizes(Set<String> files) {
        this.sizes = CompletableFuture.supplyAsync(() -> measure(files));
    }

    /** Starts measuring {@code files}. */
    static AllocatedSizes of(Iterable<String> files) {
        Set<String> set = new LinkedHashSet<>();
        files.forEach(set::add);
        return new AllocatedSizes(set);
    }

    /** Bytes the files take together (each counted once), or -1 when one cannot be measured. */
    long total(Iterable<String> files) {
        Map<String, Long> known;
        try {
            known = sizes.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (ExecutionException | TimeoutException e) {
            return -1;
        }
        long sum = 0;
        boolean any = false;
        for (String file : new LinkedHashSet<String>(toList(files))) {
            Long bytes = known.get(file);
            if (bytes == null) {
                return -1;
            }
            sum += bytes;
            any = true;
        }
        return any ? sum : -1;
    }

    private static List<String> toList(Iterable<String> files) {
        List<String> list = new ArrayList<>();
        files.forEach(list::add);
        return list;
    }

    /** stat prints "blocks unit" per file, in the order given; a file it cannot stat is left out. */
    private static Map<String, Long> measure(Set<String> files) {
        Map<String, Long> out = new HashMap<>();
        if (files.isEmpty()) {
            return out;
        }
        List<String> command = new ArrayList<>(List.of("stat", "--format=%b %B %n", "--"));
        command.addAll(files);
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String text;
            try (InputStream in = p.getInputStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            p.waitFor(5, TimeUnit.SECONDS);
            for (String line : text.split("\n")) {
                String[] f = line.split(" ", 3);
                if (f.length == 3 && files.contains(f[2])) {
                    out.put(f[2], Long.parseLong(f[0]) * Long.parseLong(f[1]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }
}
