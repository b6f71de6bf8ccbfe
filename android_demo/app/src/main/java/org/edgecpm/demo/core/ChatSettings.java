package org.edgecpm.demo.core;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the user sets for a chat: sampling per turn (temperature, top-p, max tokens, sent with
 * every prompt, so changing them keeps the runner and its cache) and speculative decoding (a
 * runner start flag: changing it starts a new runner). Immutable; {@link #validate} names the
 * first bad value in words a settings screen can show.
 */
public final class ChatSettings {
    public static final double MAX_TEMPERATURE = 2.0;
    public static final int MAX_TOKENS_LIMIT = 4096;

    public final double temperature;  // 0 = greedy
    public final double topP;         // (0, 1]; 1 = off
    public final int maxTokens;       // new tokens per answer
    public final boolean speculative; // chain drafting with the bundle's draft head

    public ChatSettings(double temperature, double topP, int maxTokens, boolean speculative) {
        this.temperature = temperature;
        this.topP = topP;
        this.maxTokens = maxTokens;
        this.speculative = speculative;
    }

    /** Greedy, 128 tokens, no speculation: what a first run on a phone should use. */
    public static ChatSettings defaults() {
        return new ChatSettings(0.0, 1.0, 128, false);
    }

    /** Throws IllegalArgumentException naming the first value out of range and its range. */
    public ChatSettings validate() {
        if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
            throw new IllegalArgumentException("temperature " + temperature + " is outside 0.." + MAX_TEMPERATURE
                    + " (0 = greedy)");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p " + topP + " is outside (0, 1] (1 = off)");
        }
        if (maxTokens < 1 || maxTokens > MAX_TOKENS_LIMIT) {
            throw new IllegalArgumentException("max tokens " + maxTokens + " is outside 1.." + MAX_TOKENS_LIMIT);
        }
        return this;
    }

    /**
     * Settings from text fields (a settings screen, stored preferences); throws
     * IllegalArgumentException naming the field that is not a number or out of range.
     */
    public static ChatSettings parse(String temperature, String topP, String maxTokens, boolean speculative) {
        return new ChatSettings(number("temperature", temperature), number("top-p", topP),
                (int) integer("max tokens", maxTokens), speculative).validate();
    }

    /** As string values, for SharedPreferences or a test. */
    public Map<String, String> toMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("temperature", format(temperature));
        map.put("top_p", format(topP));
        map.put("max_tokens", Integer.toString(maxTokens));
        map.put("speculative", Boolean.toString(speculative));
        return map;
    }

    /** The inverse of {@link #toMap}; missing keys take the defaults. */
    public static ChatSettings fromMap(Map<String, String> map) {
        ChatSettings d = defaults();
        return parse(or(map.get("temperature"), format(d.temperature)), or(map.get("top_p"), format(d.topP)),
                or(map.get("max_tokens"), Integer.toString(d.maxTokens)),
                Boolean.parseBoolean(or(map.get("speculative"), "false")));
    }

    /** The same settings with speculation switched off (a bundle without draft methods). */
    public ChatSettings withoutSpeculation() {
        return new ChatSettings(temperature, topP, maxTokens, false);
    }

    static String format(double value) {
        return String.format(Locale.ROOT, "%s", value);
    }

    private static String or(String value, String fallback) {
        return value == null ? fallback : value;
    }

    private static double number(String name, String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + text + "' is not a number");
        }
    }

    private static long integer(String name, String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + text + "' is not a whole number");
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ChatSettings)) return false;
        ChatSettings s = (ChatSettings) o;
        return s.temperature == temperature && s.topP == topP && s.maxTokens == maxTokens && s.speculative == speculative;
    }

    @Override
    public int hashCode() {
        return toMap().hashCode();
    }
}
