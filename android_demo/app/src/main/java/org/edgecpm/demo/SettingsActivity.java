package org.edgecpm.demo;

import android.app.Activity;
import android.os.Bundle;
import android.text.InputType;
import android.view.View;
import android.widget.Button;
import android.widget.CheckBox;
import android.widget.EditText;
import android.widget.LinearLayout;
import android.widget.TextView;

import org.edgecpm.demo.core.ChatSettings;

/**
 * Temperature, top-p and max tokens (sent with each prompt), speculative decoding (offered only
 * when the bundle has draft methods; switching it restarts the runner), and whether the bundle's
 * attention is sparse (a property of the export, shown, not set).
 */
public final class SettingsActivity extends Activity {
    static final String EXTRA_HAS_DRAFT = "has_draft";
    static final String EXTRA_SPARSE = "sparse";

    private SettingsStore store;
    private EditText temperature;
    private EditText topP;
    private EditText maxTokens;
    private CheckBox speculative;
    private TextView message;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        setTitle(R.string.settings);
        store = new SettingsStore(this);
        ChatSettings current = store.load();
        boolean hasDraft = getIntent().getBooleanExtra(EXTRA_HAS_DRAFT, false);
        LinearLayout root = new LinearLayout(this);
        root.setOrientation(LinearLayout.VERTICAL);
        int pad = Ui.dp(this, 16);
        root.setPadding(pad, pad, pad, pad);
        temperature = field(root, R.string.temperature, current.toMap().get("temperature"), true);
        topP = field(root, R.string.top_p, current.toMap().get("top_p"), true);
        maxTokens = field(root, R.string.max_tokens, Integer.toString(current.maxTokens), false);
        speculative = new CheckBox(this);
        speculative.setText(hasDraft ? R.string.speculative : R.string.speculative_unavailable);
        speculative.setChecked(hasDraft && current.speculative);
        speculative.setEnabled(hasDraft);
        root.addView(speculative);
        TextView sparse = new TextView(this);
        sparse.setText(getIntent().getBooleanExtra(EXTRA_SPARSE, false) ? R.string.sparse_on : R.string.sparse_off);
        root.addView(sparse);
        Button save = new Button(this);
        save.setText(R.string.save);
        save.setOnClickListener(new View.OnClickListener() {
            @Override public void onClick(View v) { save(); }
        });
        root.addView(save);
        message = new TextView(this);
        root.addView(message);
        setContentView(root);
    }

    private EditText field(LinearLayout root, int label, String value, boolean decimal) {
        TextView name = new TextView(this);
        name.setText(label);
        root.addView(name);
        EditText edit = new EditText(this);
        edit.setInputType(InputType.TYPE_CLASS_NUMBER | (decimal ? InputType.TYPE_NUMBER_FLAG_DECIMAL : 0));
        edit.setText(value);
        root.addView(edit);
        return edit;
    }

    private void save() {
        try {
            store.save(ChatSettings.parse(temperature.getText().toString(), topP.getText().toString(),
                    maxTokens.getText().toString(), speculative.isChecked()));
            finish();
        } catch (IllegalArgumentException e) {
            message.setText(e.getMessage());
        }
    }
}
