package org.edgecpm.demo.core;

import java.util.Locale;

/**
 * Tokens/s and memory while an answer streams, for the chat screen's live line. The rate counts
 * tokens after the first (the first comes out of the prompt's prefill, as the runner's
 * decode_tok_s counts), over the time since that first token. Times are passed in (nanoseconds),
 * so the arithmetic is tested without a clock.
 */
public final class LiveStats {
    private long firstTokenNs = -1;
    private long lastTokenNs = -1;
    private int tokens;

    public void reset() {
        firstTokenNs = -1;
        lastTokenNs = -1;
        tokens = 0;
    }

    public void onToken(long nowNs) {
        if (tokens == 0) {
            firstTokenNs = nowNs;
        }
        lastTokenNs = nowNs;
        tokens++;
    }

    public int tokens() {
        return tokens;
    }

    /** Decode tokens per second so far; 0 until two tokens arrived. */
    public double tokensPerSecond() {
        if (tokens < 2 || lastTokenNs <= firstTokenNs) {
            return 0;
        }
        return (tokens - 1) / ((lastTokenNs - firstTokenNs) / 1e9);
    }

    /** "12 tokens, 8.3 tok/s, 412 MB" (memory omitted when unknown, i.e. rssKb < 0). */
    public String line(long rssKb) {
        String text = String.format(Locale.ROOT, "%d tokens, %.1f tok/s", tokens, tokensPerSecond());
        return rssKb < 0 ? text : text + String.format(Locale.ROOT, ", %d MB", rssKb / 1024);
    }

    /**
     * VmRSS in KiB from the text of /proc/PID/status (the runner's resident memory: the model's
     * mapped pages it touched plus its arenas), or -1 when the text has none.
     */
    public static long parseVmRssKb(String procStatus) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring(6).trim().split("\\s+");
                try {
                    return Long.parseLong(parts[0]);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
