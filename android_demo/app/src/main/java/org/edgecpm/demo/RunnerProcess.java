package org.edgecpm.demo;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import org.edgecpm.demo.core.ChatSession;
import org.edgecpm.demo.core.ChatSettings;
import org.edgecpm.demo.core.RunnerCommand;

/**
 * The chat's runner process: started from nativeLibraryDir with the command line RunnerCommand
 * builds, its stdout handed to a ChatSession, its stderr kept (last lines) to explain an exit.
 */
final class RunnerProcess {
    private static final int STDERR_LINES = 8;

    final Process process;
    final ChatSession session;
    private final Deque<String> stderrTail = new ArrayDeque<>();

    RunnerProcess(String nativeLibraryDir, File bundle, ChatSettings settings, ChatSession.Listener listener)
            throws IOException {
        List<String> argv = RunnerCommand.chat(nativeLibraryDir, bundle.getPath(), settings, 0);
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().putAll(RunnerCommand.environment());
        builder.directory(bundle);
        process = builder.start();
        session = new ChatSession(process.getOutputStream(), process.getInputStream(), listener);
        Thread stderr = new Thread(new Runnable() {
            @Override public void run() {
                keepStderr();
            }
        }, "edgecpm-runner-stderr");
        stderr.setDaemon(true);
        stderr.start();
    }

    /** The runner's last stderr lines (its error line, when it refused the bundle). */
    synchronized String stderrTail() {
        StringBuilder text = new StringBuilder();
        for (String line : stderrTail) text.append(line).append('\n');
        return text.toString().trim();
    }

    void destroy() {
        try {
            session.close();
        } catch (IOException e) {
            // Already gone.
        }
        process.destroy();
    }

    private void keepStderr() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                synchronized (this) {
                    stderrTail.addLast(line);
                    if (stderrTail.size() > STDERR_LINES) stderrTail.removeFirst();
                }
            }
        } catch (IOException e) {
            // The process ended.
        }
    }
}
