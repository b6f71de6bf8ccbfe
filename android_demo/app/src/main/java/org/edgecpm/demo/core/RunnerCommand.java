package org.edgecpm.demo.core;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line that starts one chat's runner process from the app's nativeLibraryDir.
 *
 * The runner is an aarch64 glibc program packed in the APK as lib/arm64-v8a/libedgecpm_runner.so,
 * beside its own glibc loader (libld_glibc.so) and libraries, all renamed lib*.so so that the
 * package manager extracts them (extractNativeLibs). Android lets an app exec files only from its
 * nativeLibraryDir (not from its data folder since Android 10), and the phone's linker is bionic,
 * so the process is the packed loader, told where the libraries are, running the runner.
 */
public final class RunnerCommand {
    public static final String LOADER = "libld_glibc.so";
    public static final String RUNNER = "libedgecpm_runner.so";

    private RunnerCommand() {}

    /**
     * argv for a long-lived chat runner over the bundle folder: it loads the model once, then
     * answers prompt lines on stdin (ChatProtocol) keeping its KV cache between turns.
     *
     * @param threads 0 = the runner's default (one per core)
     */
    public static List<String> chat(String nativeLibraryDir, String bundleDir, ChatSettings settings, int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads " + threads + " must be >= 0 (0 = one per core)");
        }
        List<String> argv = new ArrayList<>();
        argv.add(new File(nativeLibraryDir, LOADER).getPath());
        argv.add("--library-path");
        argv.add(nativeLibraryDir);
        argv.add(new File(nativeLibraryDir, RUNNER).getPath());
        argv.add(bundleDir);
        argv.add("--serve");
        argv.add("--chat");
        if (threads > 0) {
            argv.add("-t");
            argv.add(Integer.toString(threads));
        }
        if (settings.speculative) {
            argv.add("--spec");
            argv.add("chain");
        }
        return Collections.unmodifiableList(argv);
    }

    /**
     * Environment added to the process's. glibc's start-up rseq registration is a system call
     * outside the app seccomp allow-list on some Android versions (the process would be killed
     * before main); this tunable skips it.
     */
    public static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("GLIBC_TUNABLES", "glibc.pthread.rseq=0");
        return Collections.unmodifiableMap(env);
    }
}
