package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.util.Arrays;
import org.junit.Test;

public class RunnerCommandTest {
    private static final String LIB = "/data/app/~~x/org.edgecpm.demo-1/lib/arm64";

    @Test
    public void loaderRunsTheRunnerFromNativeLibraryDir() {
        assertEquals(Arrays.asList(LIB + "/libld_glibc.so", "--library-path", LIB, LIB + "/libedgecpm_runner.so",
                        "/sdcard/b/tiny", "--serve", "--chat"),
                RunnerCommand.chat(LIB, "/sdcard/b/tiny", ChatSettings.defaults(), 0));
    }

    @Test
    public void threadsAndSpeculationBecomeFlags() {
        assertEquals(Arrays.asList(LIB + "/libld_glibc.so", "--library-path", LIB, LIB + "/libedgecpm_runner.so",
                        "B", "--serve", "--chat", "-t", "4", "--spec", "chain"),
                RunnerCommand.chat(LIB, "B", new ChatSettings(0, 1, 8, true), 4));
    }

    @Test
    public void negativeThreadsAreRefused() {
        try {
            RunnerCommand.chat(LIB, "B", ChatSettings.defaults(), -1);
            fail();
        } catch (IllegalArgumentException e) {
            assertEquals("threads -1 must be >= 0 (0 = one per core)", e.getMessage());
        }
    }

    @Test
    public void environmentTurnsOffRseq() {
        assertEquals("glibc.pthread.rseq=0", RunnerCommand.environment().get("GLIBC_TUNABLES"));
    }
}
