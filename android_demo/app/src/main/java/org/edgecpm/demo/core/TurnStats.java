package org.edgecpm.demo.core;

import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The figures of one answer, from the runner's done line (its JSON stats, as run_stats.h). */
public final class TurnStats {
    public final String reason;         // eos | length | stop
    public final int promptTokens;      // this turn's new prompt tokens (the cache held the rest)
    public final List<Long> tokens;     // generated ids
    public final int position;          // tokens in the KV cache after the turn
    public final int maxSeqLen;         // the cache's size
    public final double ttftMs;         // this turn's prefill: time to its first token
    public final double decodeTokS;
    public final double peakRssMb;

    TurnStats(String reason, int promptTokens, List<Long> tokens, int position, int maxSeqLen, double ttftMs,
              double decodeTokS, double peakRssMb) {
        this.reason = reason;
        this.promptTokens = promptTokens;
        this.tokens = Collections.unmodifiableList(tokens);
        this.position = position;
        this.maxSeqLen = maxSeqLen;
        this.ttftMs = ttftMs;
        this.decodeTokS = decodeTokS;
        this.peakRssMb = peakRssMb;
    }

    /** Throws IllegalArgumentException ("lacks X") when a field the app shows is missing. */
    static TurnStats from(Map<String, Object> obj) {
        return new TurnStats(string(obj, "reason"), (int) number(obj, "prompt_tokens"), RunnerEvent.ids(obj.get("tokens")),
                (int) number(obj, "position"), (int) number(obj, "max_seq_len"), number(obj, "ttft_ms"),
                number(obj, "decode_tok_s"), number(obj, "peak_rss_mb"));
    }

    /** One line for the chat screen's status bar; the prompt count shows what this turn prefilled. */
    public String summary() {
        return String.format(Locale.ROOT,
                "%d prompt + %d tokens, %.1f tok/s, first token %.0f ms, peak %.0f MB, context %d/%d",
                promptTokens, tokens.size(), decodeTokS, ttftMs, peakRssMb, position, maxSeqLen);
    }

    private static double number(Map<String, Object> obj, String key) {
        Object value = obj.get(key);
        if (!(value instanceof Double)) {
            throw new IllegalArgumentException("lacks " + key);
        }
        return (Double) value;
    }

    private static String string(Map<String, Object> obj, String key) {
        Object value = obj.get(key);
        if (!(value instanceof String)) {
            throw new IllegalArgumentException("lacks " + key);
        }
        return (String) value;
    }
}
