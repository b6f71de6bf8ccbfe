package org.edgecpm.demo;

import android.content.Context;
import android.content.res.AssetManager;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.edgecpm.demo.core.BundleInfo;

/**
 * Where the model picker finds bundles (folders holding manifest.json and model.pte):
 *  - the app's external files, bundles/NAME: `adb push BUNDLE /sdcard/Android/data/org.edgecpm.demo/files/bundles/NAME`
 *    writes there, and the app may read it without any permission (`edgecpm deploy` does not
 *    fit: it also starts its runner in the folder it copies to, and /sdcard is mounted noexec);
 *  - the app's internal files, bundles/NAME (where packed assets are copied);
 *  - bundles packed in the APK as assets/bundles/NAME, copied out on first use, because the
 *    runner maps model.pte from a real file.
 */
final class BundleStore {
    static final class Entry {
        final File dir;            // null for an asset bundle not yet copied
        final String assetName;    // non-null for an asset bundle
        final BundleInfo info;     // null when the manifest could not be read
        final String problem;      // why it cannot be used, or null

        Entry(File dir, String assetName, BundleInfo info, String problem) {
            this.dir = dir;
            this.assetName = assetName;
            this.info = info;
            this.problem = problem;
        }

        String title() {
            return dir != null ? dir.getName() : assetName + " (packed)";
        }
    }

    private final Context context;

    BundleStore(Context context) {
        this.context = context;
    }

    File externalRoot() {
        File ext = context.getExternalFilesDir(null);
        return ext == null ? null : new File(ext, "bundles");
    }

    List<Entry> list() {
        List<Entry> entries = new ArrayList<>();
        File ext = externalRoot();
        if (ext != null) addFolders(ext, entries);
        addFolders(new File(context.getFilesDir(), "bundles"), entries);
        try {
            String[] packed = context.getAssets().list("bundles");
            if (packed != null) {
                for (String name : packed) {
                    if (!new File(new File(context.getFilesDir(), "bundles"), name).isDirectory()) {
                        entries.add(readAsset(name));
                    }
                }
            }
        } catch (IOException e) {
            // No assets/bundles folder: nothing packed.
        }
        return entries;
    }

    /** The bundle's folder on disk, copying a packed one out of the APK first. */
    File materialize(Entry entry) throws IOException {
        if (entry.dir != null) return entry.dir;
        File target = new File(new File(context.getFilesDir(), "bundles"), entry.assetName);
        File partial = new File(target.getPath() + ".partial");
        deleteTree(partial);
        if (!partial.mkdirs()) throw new IOException("cannot create " + partial);
        AssetManager assets = context.getAssets();
        for (String file : assets.list("bundles/" + entry.assetName)) {
            try (InputStream in = assets.open("bundles/" + entry.assetName + "/" + file);
                 OutputStream out = new FileOutputStream(new File(partial, file))) {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = in.read(buffer)) > 0) out.write(buffer, 0, n);
            }
        }
        // Renamed only when complete, so an interrupted copy is never taken for a bundle.
        if (!partial.renameTo(target)) throw new IOException("cannot rename " + partial + " to " + target);
        return target;
    }

    private void addFolders(File root, List<Entry> entries) {
        File[] dirs = root.listFiles();
        if (dirs == null) return;
        for (File dir : dirs) {
            if (!dir.isDirectory() || dir.getName().endsWith(".partial")) continue;
            try {
                entries.add(new Entry(dir, null, BundleInfo.parse(dir.getName(), read(new File(dir, "manifest.json"))), null));
            } catch (IOException | IllegalArgumentException e) {
                entries.add(new Entry(dir, null, null, e.getMessage()));
            }
        }
    }

    private Entry readAsset(String name) {
        try (InputStream in = context.getAssets().open("bundles/" + name + "/manifest.json")) {
            return new Entry(null, name, BundleInfo.parse(name, new String(readAll(in), StandardCharsets.UTF_8)), null);
        } catch (IOException | IllegalArgumentException e) {
            return new Entry(null, name, null, e.getMessage());
        }
    }

    static String read(File file) throws IOException {
        try (InputStream in = new java.io.FileInputStream(file)) {
            return new String(readAll(in), StandardCharsets.UTF_8);
        } catch (java.io.FileNotFoundException e) {
            throw new IOException(file + " is missing: not an `edgecpm export` bundle");
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) > 0) out.write(buffer, 0, n);
        return out.toByteArray();
    }

    private static void deleteTree(File file) {
        File[] children = file.listFiles();
        if (children != null) for (File child : children) deleteTree(child);
        file.delete();
    }
}
