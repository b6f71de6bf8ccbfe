package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import org.junit.Test;

public class RunnerEventTest {
    static final String DONE = "{\"event\":\"done\",\"reason\":\"length\",\"position\":40,\"max_seq_len\":96,"
            + "\"prompt_tokens\":12,\"generated_tokens\":3,\"tokens\":[5,6,7],\"stopped_on_eos\":false,"
            + "\"ttft_ms\":12.5,\"prefill_tok_s\":960.0,\"decode_tok_s\":31.25,\"peak_rss_mb\":410.2,\"threads\":4}";

    @Test
    public void tokenLine() {
        RunnerEvent e = RunnerEvent.parse("{\"event\":\"token\",\"id\":1822,\"text\":\" h\\u00e9\\n\"}");
        assertEquals(RunnerEvent.Kind.TOKEN, e.kind);
        assertEquals(1822, e.tokenId);
        assertEquals(" hé\n", e.text);
    }

    @Test
    public void doneLineCarriesTheStats() {
        RunnerEvent e = RunnerEvent.parse(DONE);
        assertEquals(RunnerEvent.Kind.DONE, e.kind);
        TurnStats s = e.stats;
        assertEquals("length", s.reason);
        assertEquals(Arrays.asList(5L, 6L, 7L), s.tokens);
        assertEquals(12, s.promptTokens);
        assertEquals(40, s.position);
        assertEquals("12 prompt + 3 tokens, 31.3 tok/s, first token 13 ms, peak 410 MB, context 40/96", s.summary());
    }

    @Test
    public void readyAndErrorLines() {
        RunnerEvent ready = RunnerEvent.parse("{\"event\":\"ready\",\"pid\":321,\"load_ms\":88.0}");
        assertEquals(RunnerEvent.Kind.READY, ready.kind);
        assertEquals(321.0, ready.fields.get("pid"));
        RunnerEvent error = RunnerEvent.parse("{\"event\":\"error\",\"message\":\"the conversation is full\"}");
        assertEquals(RunnerEvent.Kind.ERROR, error.kind);
        assertEquals("the conversation is full", error.text);
    }

    @Test
    public void damagedLinesBecomeErrorsThatQuoteThem() {
        assertError("not JSON", "Hello world");
        assertError("unknown line", "{\"event\":\"tokn\",\"id\":1,\"text\":\"a\"}");
        assertError("unknown line", "{\"event\":\"token\",\"id\":\"1\",\"text\":\"a\"}");
        assertError("lacks decode_tok_s", DONE.replace("\"decode_tok_s\"", "\"x\""));
        assertError("token id that is not a number", DONE.replace("[5,6,7]", "[5,\"6\"]"));
    }

    private static void assertError(String part, String line) {
        RunnerEvent e = RunnerEvent.parse(line);
        assertEquals(RunnerEvent.Kind.ERROR, e.kind);
        assertTrue(e.text, e.text.contains(part));
    }
}
