package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.HashMap;
import java.util.Map;
import org.junit.Test;

public class ChatSettingsTest {
    @Test
    public void mapRoundTrip() {
        ChatSettings s = new ChatSettings(0.7, 0.9, 256, true);
        assertEquals(s, ChatSettings.fromMap(s.toMap()));
        assertEquals(ChatSettings.defaults(), ChatSettings.fromMap(new HashMap<String, String>()));
    }

    @Test
    public void parseNamesTheBadField() {
        expectBad("temperature 2.5 is outside", "2.5", "1", "10");
        expectBad("temperature -0.1 is outside", "-0.1", "1", "10");
        expectBad("temperature 'warm' is not a number", "warm", "1", "10");
        expectBad("top-p 0.0 is outside", "0", "0", "10");
        expectBad("top-p 1.5 is outside", "0", "1.5", "10");
        expectBad("max tokens 0 is outside", "0", "1", "0");
        expectBad("max tokens 5000 is outside", "0", "1", "5000");
        expectBad("max tokens '1.5' is not a whole number", "0", "1", "1.5");
        expectBad("temperature NaN is outside", "NaN", "1", "1");
    }

    @Test
    public void boundsAreInclusiveWhereTheRangeSays() {
        ChatSettings s = ChatSettings.parse(" 2 ", "1", "4096", false);
        assertEquals(2.0, s.temperature, 0);
        assertEquals(4096, s.maxTokens);
        assertEquals(1, ChatSettings.parse("0", "0.01", "1", false).maxTokens);
    }

    @Test
    public void withoutSpeculationKeepsTheRest() {
        ChatSettings s = new ChatSettings(0.5, 0.8, 64, true).withoutSpeculation();
        assertFalse(s.speculative);
        assertEquals(new ChatSettings(0.5, 0.8, 64, false), s);
        Map<String, String> map = new ChatSettings(0, 1, 1, true).toMap();
        assertTrue(Boolean.parseBoolean(map.get("speculative")));
    }

    private static void expectBad(String message, String t, String p, String n) {
        try {
            ChatSettings.parse(t, p, n, false);
            fail("accepted " + t + " " + p + " " + n);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(message));
        }
    }
}
