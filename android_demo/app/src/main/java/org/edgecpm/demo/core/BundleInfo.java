package org.edgecpm.demo.core;

import java.util.List;
import java.util.Map;

/**
 * What the model picker and settings screen show about a bundle folder, read from the
 * manifest.json that `edgecpm export` writes beside model.pte: the model, its quantization, the
 * architecture it was exported for, its context length, whether it carries draft methods
 * (speculative decoding can be offered) and whether its attention is InfLLM-v2 sparse.
 */
public final class BundleInfo {
    public final String name;          // the folder's name
    public final String model;
    public final String scheme;
    public final String arch;
    public final int maxSeqLen;
    public final boolean hasDraft;     // methods include draft and verify (`edgecpm export --draft`)
    public final boolean sparseAttention;  // the program calls edgecpm::infllm_attention

    private BundleInfo(String name, String model, String scheme, String arch, int maxSeqLen, boolean hasDraft,
                       boolean sparseAttention) {
        this.name = name;
        this.model = model;
        this.scheme = scheme;
        this.arch = arch;
        this.maxSeqLen = maxSeqLen;
        this.hasDraft = hasDraft;
        this.sparseAttention = sparseAttention;
    }

    /**
     * Throws IllegalArgumentException naming the folder and what to do when the manifest is not an
     * edgecpm bundle's, or the bundle was exported for another architecture than the phone's
     * (aarch64): the runner would refuse it anyway, later and less visibly.
     */
    public static BundleInfo parse(String folderName, String manifestText) {
        Map<String, Object> m;
        try {
            m = Json.parseObject(manifestText);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException(folderName + "/manifest.json is not valid JSON (" + e.getMessage()
                    + "); re-run `edgecpm export` and deploy again");
        }
        String arch = text(m, "arch", folderName);
        if (!"aarch64".equals(arch)) {
            throw new IllegalArgumentException(folderName + " was exported for " + arch
                    + "; a phone needs an aarch64 bundle: `edgecpm export ... --target jetson`");
        }
        List<?> methods = list(m, "methods", folderName);
        List<?> operators = list(m, "operators", folderName);
        boolean sparse = false;
        for (Object op : operators) {
            sparse |= String.valueOf(op).contains("infllm_attention");
        }
        Object len = m.get("max_seq_len");
        if (!(len instanceof Double)) {
            throw missing(folderName, "max_seq_len");
        }
        return new BundleInfo(folderName, text(m, "model", folderName), text(m, "scheme", folderName), arch,
                ((Double) len).intValue(), methods.contains("draft") && methods.contains("verify"), sparse);
    }

    /** One line for the picker. */
    public String describe() {
        StringBuilder s = new StringBuilder(model).append(" · ").append(scheme).append(" · ").append(maxSeqLen)
                .append(" tokens");
        if (hasDraft) s.append(" · speculative");
        if (sparseAttention) s.append(" · sparse attention");
        return s.toString();
    }

    private static String text(Map<String, Object> m, String key, String folder) {
        Object value = m.get(key);
        if (!(value instanceof String)) {
            throw missing(folder, key);
        }
        return (String) value;
    }

    private static List<?> list(Map<String, Object> m, String key, String folder) {
        Object value = m.get(key);
        if (!(value instanceof List)) {
            throw missing(folder, key);
        }
        return (List<?>) value;
    }

    private static IllegalArgumentException missing(String folder, String key) {
        return new IllegalArgumentException(folder + "/manifest.json has no " + key
                + ": not an `edgecpm export` bundle of this version; export it again");
    }
}
