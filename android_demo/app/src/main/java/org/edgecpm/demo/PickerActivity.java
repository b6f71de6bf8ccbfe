package org.edgecpm.demo;

import android.app.Activity;
import android.content.Intent;
import android.os.Bundle;
import android.view.View;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.LinearLayout;
import android.widget.ListView;
import android.widget.TextView;
import android.widget.Toast;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The launcher screen: the bundles found on the phone (BundleStore), one tap opens a chat. */
public final class PickerActivity extends Activity {
    private BundleStore store;
    private List<BundleStore.Entry> entries = new ArrayList<>();
    private ArrayAdapter<String> adapter;
    private TextView hint;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        store = new BundleStore(this);
        LinearLayout root = new LinearLayout(this);
        root.setOrientation(LinearLayout.VERTICAL);
        int pad = Ui.dp(this, 16);
        root.setPadding(pad, pad, pad, pad);
        hint = new TextView(this);
        root.addView(hint);
        ListView list = new ListView(this);
        adapter = new ArrayAdapter<>(this, android.R.layout.simple_list_item_1, new ArrayList<String>());
        list.setAdapter(adapter);
        list.setOnItemClickListener(new AdapterView.OnItemClickListener() {
            @Override public void onItemClick(AdapterView<?> parent, View view, int position, long id) {
                open(entries.get(position));
            }
        });
        root.addView(list, new LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1));
        setContentView(root);
        setTitle(R.string.picker_title);
    }

    @Override
    protected void onResume() {
        super.onResume();
        entries = store.list();
        adapter.clear();
        for (BundleStore.Entry e : entries) {
            adapter.add(e.title() + "\n" + (e.problem != null ? "cannot use: " + e.problem : e.info.describe()));
        }
        File ext = store.externalRoot();
        hint.setText(entries.isEmpty()
                ? getString(R.string.picker_empty, ext == null ? "(no external storage)" : ext.getPath())
                : getString(R.string.picker_hint));
    }

    private void open(BundleStore.Entry entry) {
        if (entry.problem != null) {
            Toast.makeText(this, entry.problem, Toast.LENGTH_LONG).show();
            return;
        }
        try {
            File dir = store.materialize(entry);
            Intent intent = new Intent(this, ChatActivity.class);
            intent.putExtra(ChatActivity.EXTRA_BUNDLE, dir.getPath());
            startActivity(intent);
        } catch (IOException e) {
            Toast.makeText(this, "copying " + entry.title() + " failed: " + e.getMessage(), Toast.LENGTH_LONG).show();
        }
    }
}
