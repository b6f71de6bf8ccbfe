package org.edgecpm.demo;

import android.app.Activity;
import android.content.Intent;
import android.os.Bundle;
import android.os.Handler;
import android.os.Looper;
import android.view.View;
import android.widget.Button;
import android.widget.EditText;
import android.widget.LinearLayout;
import android.widget.ScrollView;
import android.widget.TextView;

import java.io.File;
import java.io.IOException;

import org.edgecpm.demo.core.BundleInfo;
import org.edgecpm.demo.core.ChatSession;
import org.edgecpm.demo.core.ChatSettings;
import org.edgecpm.demo.core.LiveStats;
import org.edgecpm.demo.core.RunnerEvent;
import org.edgecpm.demo.core.TurnStats;

/**
 * One chat with one bundle: a runner process that lives as long as the screen (so the model is
 * read once and each turn prefills only its new tokens), streamed answers, a stop button, and a
 * live line of tokens/s and the runner's resident memory.
 */
public final class ChatActivity extends Activity {
    static final String EXTRA_BUNDLE = "bundle";
    private static final int MEMORY_POLL_MS = 500;

    private final Handler ui = new Handler(Looper.getMainLooper());
    private final LiveStats live = new LiveStats();
    private File bundle;
    private BundleInfo info;
    private ChatSettings settings;
    private RunnerProcess runner;
    private long runnerPid = -1;
    private int generation;  // which runner the UI listens to: a replaced one's late events are dropped
    private TextView transcript;
    private TextView status;
    private ScrollView scroll;
    private EditText input;
    private Button send;
    private Button stop;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        bundle = new File(getIntent().getStringExtra(EXTRA_BUNDLE));
        try {
            info = BundleInfo.parse(bundle.getName(), BundleStore.read(new File(bundle, "manifest.json")));
        } catch (IOException | IllegalArgumentException e) {
            finishWith(e.getMessage());
            return;
        }
        setTitle(bundle.getName());
        buildViews();
    }

    @Override
    protected void onResume() {
        super.onResume();
        ChatSettings wanted = new SettingsStore(this).load();
        if (!info.hasDraft) wanted = wanted.withoutSpeculation();
        // Speculation is a start flag of the runner; sampling settings go with each prompt.
        if (runner == null || wanted.speculative != settings.speculative) {
            settings = wanted;
            startRunner();
        }
        settings = wanted;
    }

    @Override
    protected void onDestroy() {
        stopRunner();
        ui.removeCallbacksAndMessages(null);
        super.onDestroy();
    }

    private void buildViews() {
        LinearLayout root = new LinearLayout(this);
        root.setOrientation(LinearLayout.VERTICAL);
        int pad = Ui.dp(this, 8);
        root.setPadding(pad, pad, pad, pad);
        status = new TextView(this);
        root.addView(status);
        scroll = new ScrollView(this);
        transcript = new TextView(this);
        transcript.setTextIsSelectable(true);
        scroll.addView(transcript);
        root.addView(scroll, new LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1));
        input = new EditText(this);
        input.setHint(R.string.chat_hint);
        root.addView(input);
        LinearLayout buttons = new LinearLayout(this);
        send = button(buttons, R.string.send, new View.OnClickListener() {
            @Override public void onClick(View v) { sendPrompt(); }
        });
        stop = button(buttons, R.string.stop, new View.OnClickListener() {
            @Override public void onClick(View v) { stopAnswer(); }
        });
        button(buttons, R.string.new_chat, new View.OnClickListener() {
            @Override public void onClick(View v) { newChat(); }
        });
        button(buttons, R.string.settings, new View.OnClickListener() {
            @Override public void onClick(View v) { openSettings(); }
        });
        root.addView(buttons);
        setContentView(root);
        showIdle(false);
    }

    private Button button(LinearLayout row, int label, View.OnClickListener click) {
        Button b = new Button(this);
        b.setText(label);
        b.setOnClickListener(click);
        row.addView(b, new LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 1));
        return b;
    }

    private void startRunner() {
        stopRunner();
        status.setText(getString(R.string.loading, info.describe()));
        showIdle(false);
        try {
            runner = new RunnerProcess(getApplicationInfo().nativeLibraryDir, bundle, settings,
                    new RunnerListener(++generation));
        } catch (IOException e) {
            status.setText(getString(R.string.runner_failed, e.getMessage()));
        }
    }

    private void stopRunner() {
        generation++;  // its late events are not this screen's any more
        if (runner != null) {
            runner.destroy();
            runner = null;
        }
        runnerPid = -1;
    }

    private void sendPrompt() {
        String text = input.getText().toString();
        if (text.trim().isEmpty() || runner == null) return;
        try {
            runner.session.send(text, settings);
        } catch (IOException | IllegalStateException | IllegalArgumentException e) {
            status.setText(e.getMessage());
            return;
        }
        input.setText("");
        transcript.append((transcript.length() > 0 ? "\n\n" : "") + "> " + text + "\n\n");
        live.reset();
        showIdle(false);
        pollMemory();
    }

    private void stopAnswer() {
        try {
            if (runner != null) runner.session.stop();
        } catch (IOException e) {
            status.setText(e.getMessage());
        }
    }

    private void newChat() {
        if (runner == null) return;
        try {
            runner.session.reset();
            transcript.setText("");
        } catch (IOException | IllegalStateException e) {
            status.setText(e.getMessage());
        }
    }

    private void openSettings() {
        Intent intent = new Intent(this, SettingsActivity.class);
        intent.putExtra(SettingsActivity.EXTRA_HAS_DRAFT, info.hasDraft);
        intent.putExtra(SettingsActivity.EXTRA_SPARSE, info.sparseAttention);
        startActivity(intent);
    }

    private void showIdle(boolean idle) {
        send.setEnabled(idle);
        stop.setEnabled(!idle && runner != null && runner.session.isBusy());
    }

    private long rssKb() {
        if (runnerPid < 0) return -1;
        try {
            return LiveStats.parseVmRssKb(BundleStore.read(new File("/proc/" + runnerPid + "/status")));
        } catch (IOException e) {
            return -1;
        }
    }

    private void pollMemory() {
        ui.postDelayed(new Runnable() {
            @Override public void run() {
                if (runner != null && runner.session.isBusy()) {
                    status.setText(live.line(rssKb()));
                    pollMemory();
                }
            }
        }, MEMORY_POLL_MS);
    }

    /**
     * Events of one runner process, called on its reader thread and handed to the UI thread,
     * where they are dropped if that runner has been replaced (speculation switched) or stopped.
     */
    private final class RunnerListener implements ChatSession.Listener {
        private final int mine;

        RunnerListener(int generation) {
            this.mine = generation;
        }

        private void onUi(final Runnable action) {
            ui.post(new Runnable() {
                @Override public void run() {
                    if (mine == generation && runner != null) action.run();
                }
            });
        }

        @Override
        public void onReady(final RunnerEvent ready) {
            onUi(new Runnable() {
                @Override public void run() {
                    Object pid = ready.fields.get("pid");
                    runnerPid = pid instanceof Double ? ((Double) pid).longValue() : -1;
                    status.setText(getString(R.string.ready, info.describe(), String.valueOf(ready.fields.get("load_ms"))));
                    showIdle(true);
                }
            });
        }

        @Override
        public void onToken(long id, final String text) {
            final long now = System.nanoTime();
            onUi(new Runnable() {
                @Override public void run() {
                    live.onToken(now);
                    transcript.append(text);
                    scroll.fullScroll(View.FOCUS_DOWN);
                    stop.setEnabled(true);
                }
            });
        }

        @Override
        public void onDone(final TurnStats stats) {
            onUi(new Runnable() {
                @Override public void run() {
                    String end = "stop".equals(stats.reason) ? " [stopped]" : "length".equals(stats.reason) ? " [max tokens]" : "";
                    transcript.append(end);
                    status.setText(stats.summary());
                    showIdle(true);
                }
            });
        }

        @Override
        public void onError(final String message) {
            onUi(new Runnable() {
                @Override public void run() {
                    status.setText(message);
                    showIdle(runner.session.isReady());
                }
            });
        }

        @Override
        public void onExit() {
            onUi(new Runnable() {
                @Override public void run() {
                    String why = runner.stderrTail();
                    status.setText(getString(R.string.runner_exited, why.isEmpty() ? "no message" : why));
                    showIdle(false);
                }
            });
        }
    }

    private void finishWith(String message) {
        android.widget.Toast.makeText(this, message, android.widget.Toast.LENGTH_LONG).show();
        finish();
    }
}
