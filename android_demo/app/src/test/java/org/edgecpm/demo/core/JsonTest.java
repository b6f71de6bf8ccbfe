package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.Map;
import org.junit.Test;

public class JsonTest {
    @Test
    public void parsesNestedValuesInOrder() throws Exception {
        Map<String, Object> obj = Json.parseObject(" {\"b\": [1, -2.5e1, true, null], \"a\": {\"s\": \"x\\ny\\u00e9\\\"\"}} ");
        assertEquals(Arrays.asList("b", "a"), Arrays.asList(obj.keySet().toArray()));
        assertEquals(Arrays.asList(1.0, -25.0, true, Json.NULL), obj.get("b"));
        assertEquals("x\ny\u00e9\"", ((Map<?, ?>) obj.get("a")).get("s"));
    }

    @Test
    public void quoteRoundTripsEveryControlCharacterAndUnicode() throws Exception {
        StringBuilder s = new StringBuilder();
        for (char c = 0; c < 0x80; c++) s.append(c);
        s.append("é漢\uD83D\uDE00\\\"");
        assertEquals(s.toString(), Json.parse(Json.quote(s.toString())));
    }

    @Test
    public void refusesMalformedTextWithAnOffset() {
        for (String bad : new String[] {"", "{", "{\"a\":}", "[1,]", "\"abc", "{\"a\":1} x", "tru", "\"\\q\"", "[\"\u0001\"]"}) {
            try {
                Json.parse(bad);
                fail("accepted " + bad);
            } catch (Json.ParseException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("offset "));
            }
        }
    }

    @Test
    public void refusesDeepNestingInsteadOfOverflowingTheStack() {
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 10000; i++) deep.append('[');
        try {
            Json.parse(deep.toString());
            fail("accepted deep nesting");
        } catch (Json.ParseException e) {
            assertTrue(e.getMessage().contains("nested too deeply"));
        }
    }

    @Test
    public void nullIsADistinctValue() throws Exception {
        Map<String, Object> obj = Json.parseObject("{\"a\":null}");
        assertSame(Json.NULL, obj.get("a"));
        assertTrue(obj.containsKey("a"));
    }
}
