package org.edgecpm.demo.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Drives a runner process through the app's ChatSession, as ChatActivity does, for the
 * end-to-end test (tests/android/test_fake_device.py): greedy turns of MAX_TOKENS, each printed as
 * one JSON line {"tokens": [...], "text": ..., "reason": ..., "prompt_tokens": ..., "position": ...};
 * a prompt written "!stop:TEXT" is sent and then stopped at once (the Stop button). Errors and an
 * early exit are printed as {"error": ...} and end the run.
 *
 *   ChatTool MAX_TOKENS PROMPT... -- RUNNER_ARGV...
 */
public final class ChatTool {
    private static final long TIMEOUT_S = 600;

    private ChatTool() {}

    public static void main(String[] args) throws Exception {
        int sep = Arrays.asList(args).indexOf("--");
        if (args.length < 3 || sep < 2) {
            System.err.println("usage: ChatTool MAX_TOKENS PROMPT... -- RUNNER_ARGV...");
            System.exit(2);
        }
        int maxTokens = Integer.parseInt(args[0]);
        List<String> prompts = Arrays.asList(args).subList(1, sep);
        ProcessBuilder builder = new ProcessBuilder(Arrays.asList(args).subList(sep + 1, args.length));
        builder.environment().putAll(RunnerCommand.environment());
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process = builder.start();

        final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        final StringBuilder text = new StringBuilder();
        final List<Long> streamed = new ArrayList<>();
        ChatSession session = new ChatSession(process.getOutputStream(), process.getInputStream(),
                new ChatSession.Listener() {
                    @Override public void onReady(RunnerEvent ready) { events.add(ready); }
                    @Override public void onToken(long id, String t) {
                        synchronized (text) { streamed.add(id); text.append(t); }
                    }
                    @Override public void onDone(TurnStats stats) { events.add(stats); }
                    @Override public void onError(String message) { events.add("error: " + message); }
                    @Override public void onExit() { events.add("exit"); }
                });
        if (!(next(events) instanceof RunnerEvent)) {
            fail("the runner did not become ready");
        }
        ChatSettings settings = new ChatSettings(0, 1, maxTokens, false);
        for (String prompt : prompts) {
            boolean stop = prompt.startsWith("!stop:");
            session.send(stop ? prompt.substring(6) : prompt, settings);
            if (stop) session.stop();
            Object event = next(events);
            if (!(event instanceof TurnStats)) fail(String.valueOf(event));
            TurnStats stats = (TurnStats) event;
            synchronized (text) {
                if (!streamed.equals(stats.tokens)) fail("streamed " + streamed + " but the done line says " + stats.tokens);
                System.out.println("{\"tokens\":" + stats.tokens + ",\"text\":" + Json.quote(text.toString())
                        + ",\"reason\":" + Json.quote(stats.reason) + ",\"prompt_tokens\":" + stats.promptTokens
                        + ",\"position\":" + stats.position + "}");
                text.setLength(0);
                streamed.clear();
            }
        }
        session.close();
        if (!process.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) fail("the runner did not exit at the end of its input");
        System.out.println("{\"exit\":" + process.exitValue() + "}");
    }

    private static Object next(LinkedBlockingQueue<Object> events) throws InterruptedException {
        Object event = events.poll(TIMEOUT_S, TimeUnit.SECONDS);
        return event == null ? "timeout" : event;
    }

    private static void fail(String why) {
        System.out.println("{\"error\":" + Json.quote(why) + "}");
        System.exit(1);
    }
}
