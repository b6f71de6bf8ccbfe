package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import java.util.Map;
import org.junit.Test;

public class ChatProtocolTest {
    @Test
    public void promptLineIsOneJsonLineCarryingTheTurnSettings() throws Exception {
        String text = "two\nlines \"quoted\" \\ é";
        String line = ChatProtocol.prompt(text, new ChatSettings(0.7, 0.9, 42, false), 7);
        assertFalse(line.contains("\n"));
        Map<String, Object> obj = Json.parseObject(line);
        assertEquals(text, obj.get("prompt"));
        assertEquals(42.0, obj.get("max_new_tokens"));
        assertEquals(0.7, obj.get("temperature"));
        assertEquals(0.9, obj.get("top_p"));
        assertEquals(7.0, obj.get("seed"));
        assertFalse(Json.parseObject(ChatProtocol.prompt("x", ChatSettings.defaults())).containsKey("seed"));
    }

    @Test
    public void commandsAreJson() throws Exception {
        assertEquals("stop", Json.parseObject(ChatProtocol.STOP).get("command"));
        assertEquals("reset", Json.parseObject(ChatProtocol.RESET).get("command"));
    }
}
