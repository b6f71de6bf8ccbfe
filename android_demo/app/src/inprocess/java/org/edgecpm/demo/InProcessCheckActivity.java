package org.edgecpm.demo;

import android.app.Activity;
import android.os.Bundle;
import android.widget.TextView;

import java.io.File;
import java.util.Arrays;
import java.util.List;

import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/**
 * The in-process route's first check (inprocess flavour only; not built on the project's
 * machines): the ExecuTorch AAR's runtime and our kernels (libedgecpm_kernels.so, built by the
 * NDK) in the app's process, the first usable bundle's program loaded through the AAR's Module,
 * and eight greedy steps of forward_last over the prompt ids every edgecpm test uses
 * ("Raise ValueError if the"). For the tiny model the ids shown must be
 * [669, 292, 1017, 18, 203, 203, 580, 268], the eager model's greedy tokens.
 */
public final class InProcessCheckActivity extends Activity {
    private static final long[] PROMPT = {1, 3451, 1822, 391, 268};
    private static final int STEPS = 8;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        TextView text = new TextView(this);
        setContentView(text);
        try {
            text.setText(run());
        } catch (RuntimeException | java.io.IOException e) {
            text.setText("in-process check failed: " + e);
        }
    }

    private String run() throws java.io.IOException {
        // The AAR's runtime first, then our kernels, which register the edgecpm:: ops into it:
        // both before the program's methods are loaded, when ExecuTorch resolves its operators.
        System.loadLibrary("executorch");
        System.loadLibrary("edgecpm_kernels");
        List<BundleStore.Entry> bundles = new BundleStore(this).list();
        for (BundleStore.Entry entry : bundles) {
            if (entry.problem != null) continue;
            File dir = new BundleStore(this).materialize(entry);
            Module module = Module.load(new File(dir, "model.pte").getPath());
            long[] ids = Arrays.copyOf(PROMPT, PROMPT.length + STEPS);
            int length = PROMPT.length;
            long[] feed = PROMPT;
            for (int step = 0; step < STEPS; step++) {
                long[] positions = new long[feed.length];
                for (int i = 0; i < feed.length; i++) positions[i] = length - feed.length + i;
                EValue[] out = module.execute("forward_last",
                        EValue.from(Tensor.fromBlob(feed, new long[] {1, feed.length})),
                        EValue.from(Tensor.fromBlob(positions, new long[] {feed.length})));
                Tensor result = out[0].toTensor();
                float[] logits = result.getDataAsFloatArray();
                long[] shape = result.shape();
                int vocab = (int) shape[shape.length - 1];  // the last row's logits are the last vocab floats
                long next = argmax(logits, logits.length - vocab, vocab);
                ids[length++] = next;
                feed = new long[] {next};
            }
            return entry.title() + ": greedy ids "
                    + Arrays.toString(Arrays.copyOfRange(ids, PROMPT.length, length));
        }
        return "no usable bundle: push one as README.md says";
    }

    private static long argmax(float[] row, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (row[offset + i] > row[offset + best]) best = i;
        }
        return best;
    }
}
