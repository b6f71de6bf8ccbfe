package org.edgecpm.demo.core;

import java.util.Locale;

/**
 * The lines the app writes to a `edgecpm-runner BUNDLE --serve` process's stdin: one JSON object
 * per line. A prompt line starts a turn, sampled with that turn's settings; the runner answers with
 * token lines and one done (or error) line (RunnerEvent). "stop" during a turn ends it after the
 * current token; "reset" starts a new conversation (the cache is cleared) without reloading.
 */
public final class ChatProtocol {
    public static final String STOP = "{\"command\":\"stop\"}";
    public static final String RESET = "{\"command\":\"reset\"}";

    private ChatProtocol() {}

    public static String prompt(String text, ChatSettings settings) {
        return prompt(text, settings, -1);
    }

    /** @param seed a seed for sampled turns, or -1 for the runner to pick one. */
    public static String prompt(String text, ChatSettings settings, long seed) {
        StringBuilder line = new StringBuilder("{\"prompt\":").append(Json.quote(text))
                .append(",\"max_new_tokens\":").append(settings.maxTokens)
                .append(",\"temperature\":").append(String.format(Locale.ROOT, "%s", settings.temperature))
                .append(",\"top_p\":").append(String.format(Locale.ROOT, "%s", settings.topP));
        if (seed >= 0) {
            line.append(",\"seed\":").append(seed);
        }
        return line.append('}').toString();
    }
}
