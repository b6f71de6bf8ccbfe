package org.edgecpm.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

public class BundleInfoTest {
    static String manifest(String arch, String methods, String operators) {
        return "{\"manifest_version\": 1, \"model\": \"tiny\", \"scheme\": \"int4\", \"arch\": \"" + arch + "\","
                + " \"max_seq_len\": 96, \"methods\": [" + methods + "], \"operators\": [" + operators + "],"
                + " \"config\": {\"sparse_config\": null}}";
    }

    @Test
    public void plainBundle() {
        BundleInfo b = BundleInfo.parse("tiny", manifest("aarch64", "\"forward\", \"forward_last\"", "\"edgecpm::int4_linear.out\""));
        assertEquals(96, b.maxSeqLen);
        assertFalse(b.hasDraft);
        assertFalse(b.sparseAttention);
        assertEquals("tiny · int4 · 96 tokens", b.describe());
    }

    @Test
    public void draftAndSparseAreDetected() {
        BundleInfo b = BundleInfo.parse("x", manifest("aarch64", "\"forward\", \"verify\", \"draft\"",
                "\"edgecpm::infllm_attention.out\""));
        assertTrue(b.hasDraft);
        assertTrue(b.sparseAttention);
        assertEquals("tiny · int4 · 96 tokens · speculative · sparse attention", b.describe());
        assertFalse(BundleInfo.parse("x", manifest("aarch64", "\"draft\"", "")).hasDraft);
    }

    @Test
    public void refusals() {
        expect("x was exported for x86_64; a phone needs an aarch64 bundle", manifest("x86_64", "", ""));
        expect("x/manifest.json is not valid JSON", "{");
        expect("x/manifest.json has no methods", "{\"arch\": \"aarch64\", \"model\": \"m\", \"scheme\": \"s\"}");
        expect("x/manifest.json has no arch", "{}");
    }

    private static void expect(String start, String text) {
        try {
            BundleInfo.parse("x", text);
            fail("accepted " + text);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(start));
        }
    }
}
