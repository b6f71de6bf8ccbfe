package org.edgecpm.demo;

import android.content.Context;
import android.content.SharedPreferences;

import java.util.HashMap;
import java.util.Map;

import org.edgecpm.demo.core.ChatSettings;

/** ChatSettings kept in SharedPreferences as ChatSettings.toMap's strings. */
final class SettingsStore {
    private final SharedPreferences prefs;

    SettingsStore(Context context) {
        prefs = context.getSharedPreferences("chat_settings", Context.MODE_PRIVATE);
    }

    ChatSettings load() {
        Map<String, String> map = new HashMap<>();
        for (Map.Entry<String, ?> e : prefs.getAll().entrySet()) {
            map.put(e.getKey(), String.valueOf(e.getValue()));
        }
        try {
            return ChatSettings.fromMap(map);
        } catch (IllegalArgumentException e) {
            return ChatSettings.defaults();  // stored by another version: start from the defaults
        }
    }

    void save(ChatSettings settings) {
        SharedPreferences.Editor editor = prefs.edit();
        for (Map.Entry<String, String> e : settings.toMap().entrySet()) {
            editor.putString(e.getKey(), e.getValue());
        }
        editor.apply();
    }
}
