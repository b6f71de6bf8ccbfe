package org.edgecpm.demo.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One line of a serving runner's stdout, parsed. The runner writes one JSON object per line:
 *   {"event":"ready", "max_seq_len":..., "load_ms":..., ...}        once, after the model loaded
 *   {"event":"token", "id":..., "text":"..."}                       per generated token
 *   {"event":"done", "reason":"eos|length|stop", "position":..., stats}  at the end of a turn
 *   {"event":"error", "message":"..."}                             a refused turn (runner lives on)
 * A line that is none of these (a damaged stream, a runner of another version) is an error event
 * that names the line, so the chat shows it instead of hanging.
 */
public final class RunnerEvent {
    public enum Kind { READY, TOKEN, DONE, ERROR }

    public final Kind kind;
    public final long tokenId;      // TOKEN
    public final String text;       // TOKEN: its text (may be empty: a partial UTF-8 character); ERROR: message
    public final TurnStats stats;   // DONE
    public final Map<String, Object> fields;  // READY, DONE: everything the line carried

    private RunnerEvent(Kind kind, long tokenId, String text, TurnStats stats, Map<String, Object> fields) {
        this.kind = kind;
        this.tokenId = tokenId;
        this.text = text;
        this.stats = stats;
        this.fields = fields;
    }

    public static RunnerEvent error(String message) {
        return new RunnerEvent(Kind.ERROR, -1, message, null, Collections.<String, Object>emptyMap());
    }

    public static RunnerEvent parse(String line) {
        Map<String, Object> obj;
        try {
            obj = Json.parseObject(line);
        } catch (Json.ParseException e) {
            return error("the runner wrote a line that is not JSON (" + e.getMessage() + "): " + clip(line));
        }
        Object event = obj.get("event");
        if ("token".equals(event) && obj.get("id") instanceof Double && obj.get("text") instanceof String) {
            return new RunnerEvent(Kind.TOKEN, ((Double) obj.get("id")).longValue(), (String) obj.get("text"), null, obj);
        }
        if ("done".equals(event)) {
            try {
                return new RunnerEvent(Kind.DONE, -1, "", TurnStats.from(obj), obj);
            } catch (IllegalArgumentException e) {
                return error("the runner's done line " + e.getMessage() + ": " + clip(line));
            }
        }
        if ("ready".equals(event)) {
            return new RunnerEvent(Kind.READY, -1, "", null, obj);
        }
        if ("error".equals(event) && obj.get("message") instanceof String) {
            return new RunnerEvent(Kind.ERROR, -1, (String) obj.get("message"), null, obj);
        }
        return error("the runner wrote an unknown line: " + clip(line));
    }

    /** Token ids of a done line's "tokens" list. */
    static List<Long> ids(Object value) {
        List<Long> ids = new ArrayList<>();
        if (value instanceof List) {
            for (Object item : (List<?>) value) {
                if (!(item instanceof Double)) {
                    throw new IllegalArgumentException("has a token id that is not a number");
                }
                ids.add(((Double) item).longValue());
            }
        }
        return ids;
    }

    private static String clip(String line) {
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }
}
