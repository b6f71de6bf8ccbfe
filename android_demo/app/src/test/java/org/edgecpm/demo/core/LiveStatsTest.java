package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class LiveStatsTest {
    @Test
    public void rateCountsTokensAfterTheFirstOverTheTimeSinceIt() {
        LiveStats live = new LiveStats();
        assertEquals(0, live.tokensPerSecond(), 0);
        live.onToken(5_000_000_000L);   // first token: end of prefill
        assertEquals(0, live.tokensPerSecond(), 0);
        for (int i = 1; i <= 10; i++) live.onToken(5_000_000_000L + i * 250_000_000L);
        assertEquals(11, live.tokens());
        assertEquals(4.0, live.tokensPerSecond(), 1e-9);
        assertEquals("11 tokens, 4.0 tok/s, 400 MB", live.line(409_600));
        assertEquals("11 tokens, 4.0 tok/s", live.line(-1));
        live.reset();
        assertEquals(0, live.tokens());
    }

    @Test
    public void vmRssFromProcStatus() {
        String status = "Name:\tlibld_glibc.so\nVmPeak:\t  900000 kB\nVmRSS:\t  412345 kB\nThreads:\t5\n";
        assertEquals(412345, LiveStats.parseVmRssKb(status));
        assertEquals(-1, LiveStats.parseVmRssKb("Name:\tx\n"));
        assertEquals(-1, LiveStats.parseVmRssKb("VmRSS:\tlots kB\n"));
    }
}
