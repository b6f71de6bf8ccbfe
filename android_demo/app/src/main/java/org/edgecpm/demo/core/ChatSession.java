package org.edgecpm.demo.core;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;

/**
 * One conversation with a serving runner process, over its stdin and stdout (ChatProtocol,
 * RunnerEvent). A reader thread turns each stdout line into a listener call; send/stop/reset
 * write lines. The Android side starts the process and hands the streams over; the JUnit tests
 * hand over pipes with a scripted runner.
 *
 * Listener calls come from the reader thread; a UI posts them to its own thread.
 */
public final class ChatSession implements Closeable {
    public interface Listener {
        void onReady(RunnerEvent ready);
        void onToken(long id, String text);
        void onDone(TurnStats stats);
        /** A refused turn or a damaged line; the session stays usable. */
        void onError(String message);
        /** The runner's stdout closed: it exited or was killed. */
        void onExit();
    }

    private final Writer stdin;
    private final Listener listener;
    private final Thread reader;
    private volatile boolean ready;
    private volatile boolean busy;
    private volatile boolean exited;

    public ChatSession(OutputStream runnerStdin, final InputStream runnerStdout, Listener listener) {
        this.stdin = new OutputStreamWriter(runnerStdin, StandardCharsets.UTF_8);
        this.listener = listener;
        this.reader = new Thread(new Runnable() {
            @Override public void run() {
                readLines(runnerStdout);
            }
        }, "edgecpm-runner-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** True once the runner loaded its model and until it exits. */
    public boolean isReady() {
        return ready && !exited;
    }

    /** True from send() until the turn's done or error line. */
    public boolean isBusy() {
        return busy;
    }

    /** Starts a turn; throws IllegalStateException while the runner loads, answers, or after it exited. */
    public synchronized void send(String prompt, ChatSettings settings) throws IOException {
        if (!isReady()) {
            throw new IllegalStateException(exited ? "the runner has exited" : "the model is still loading");
        }
        if (busy) {
            throw new IllegalStateException("an answer is still streaming; stop it first");
        }
        busy = true;
        writeLine(ChatProtocol.prompt(prompt, settings.validate()));
    }

    /** Ends the streaming answer after its current token (the tokens so far stay in the conversation). */
    public synchronized void stop() throws IOException {
        if (busy && !exited) {
            writeLine(ChatProtocol.STOP);
        }
    }

    /** Starts a new conversation in the same process: the model stays loaded, the cache is cleared. */
    public synchronized void reset() throws IOException {
        if (busy) {
            throw new IllegalStateException("an answer is still streaming; stop it first");
        }
        writeLine(ChatProtocol.RESET);
    }

    /** Closes the runner's stdin, which makes it exit after the current turn. */
    @Override
    public synchronized void close() throws IOException {
        stdin.close();
    }

    /** Waits for the reader thread (after the process ended), for tests. */
    public void join(long millis) throws InterruptedException {
        reader.join(millis);
    }

    private void writeLine(String line) throws IOException {
        stdin.write(line);
        stdin.write('\n');
        stdin.flush();
    }

    private void readLines(InputStream stdout) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                dispatch(RunnerEvent.parse(line));
            }
        } catch (IOException e) {
            listener.onError("reading the runner's output failed: " + e.getMessage());
        } finally {
            exited = true;
            busy = false;
            listener.onExit();
        }
    }

    private void dispatch(RunnerEvent event) {
        switch (event.kind) {
            case READY:
                ready = true;
                listener.onReady(event);
                break;
            case TOKEN:
                listener.onToken(event.tokenId, event.text);
                break;
            case DONE:
                busy = false;
                listener.onDone(event.stats);
                break;
            case ERROR:
                busy = false;
                listener.onError(event.text);
                break;
        }
    }
}
