package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/** ChatSession against a scripted runner on pipes: what it writes, how it reads, when it refuses. */
public class ChatSessionTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final CountDownLatch exited = new CountDownLatch(1);
    private volatile CountDownLatch turn = new CountDownLatch(1);

    private final ChatSession.Listener listener = new ChatSession.Listener() {
        @Override public void onReady(RunnerEvent ready) { events.add("ready"); turn.countDown(); }
        @Override public void onToken(long id, String text) { events.add("token " + id + " " + text); }
        @Override public void onDone(TurnStats stats) { events.add("done " + stats.reason + " " + stats.tokens); turn.countDown(); }
        @Override public void onError(String message) { events.add("error " + message); turn.countDown(); }
        @Override public void onExit() { events.add("exit"); exited.countDown(); }
    };

    @Test
    public void aTurnStreamsTokensAndEndsWithStats() throws Exception {
        PipedInputStream fromApp = new PipedInputStream();
        PipedOutputStream appStdin = new PipedOutputStream(fromApp);
        PipedOutputStream runnerOut = new PipedOutputStream();
        PipedInputStream appStdout = new PipedInputStream(runnerOut);
        BufferedReader runnerIn = new BufferedReader(new InputStreamReader(fromApp, StandardCharsets.UTF_8));
        Writer runner = new OutputStreamWriter(runnerOut, StandardCharsets.UTF_8);

        ChatSession session = new ChatSession(appStdin, appStdout, listener);
        try {
            session.send("hi", ChatSettings.defaults());
            fail("sent before ready");
        } catch (IllegalStateException e) {
            assertEquals("the model is still loading", e.getMessage());
        }
        runner.write("{\"event\":\"ready\",\"pid\":5}\n");
        runner.flush();
        assertTrue(turn.await(5, TimeUnit.SECONDS));
        assertTrue(session.isReady());

        turn = new CountDownLatch(1);
        session.send("hé\nthere", new ChatSettings(0, 1, 2, false));
        assertTrue(session.isBusy());
        assertEquals(ChatProtocol.prompt("hé\nthere", new ChatSettings(0, 1, 2, false)), runnerIn.readLine());
        try {
            session.send("again", ChatSettings.defaults());
            fail("sent while busy");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().contains("still streaming"));
        }
        session.stop();
        assertEquals(ChatProtocol.STOP, runnerIn.readLine());
        runner.write("{\"event\":\"token\",\"id\":9,\"text\":\"ok\"}\n" + RunnerEventTest.DONE.replace("length", "stop") + "\n");
        runner.flush();
        assertTrue(turn.await(5, TimeUnit.SECONDS));
        assertFalse(session.isBusy());

        turn = new CountDownLatch(1);
        session.send("x", ChatSettings.defaults());
        runnerIn.readLine();
        runner.write("garbage\n");
        runner.flush();
        assertTrue(turn.await(5, TimeUnit.SECONDS));
        assertFalse(session.isBusy());
        session.reset();
        assertEquals(ChatProtocol.RESET, runnerIn.readLine());

        runner.close();
        assertTrue(exited.await(5, TimeUnit.SECONDS));
        assertFalse(session.isReady());
        assertEquals("ready", events.get(0));
        assertEquals("token 9 ok", events.get(1));
        assertEquals("done stop [5, 6, 7]", events.get(2));
        assertTrue(events.get(3), events.get(3).startsWith("error the runner wrote a line that is not JSON"));
        assertEquals("exit", events.get(4));
        try {
            session.send("late", ChatSettings.defaults());
            fail("sent after exit");
        } catch (IllegalStateException e) {
            assertEquals("the runner has exited", e.getMessage());
        }
    }
}
