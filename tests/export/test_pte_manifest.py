"""A bundle's manifest.json as hostile input: each broken field is one line naming the manifest and
the fix, and nothing is loaded (the checks run before the program or any library is touched)."""

from __future__ import annotations

import json

import pytest

from edgecpm.checksum import file_sha256
from edgecpm.errors import CheckpointError
from edgecpm.export.pte_manifest import MANIFEST, PROGRAM, read_manifest


@pytest.fixture
def bundle(tmp_path):
    """A bundle's files as far as the manifest is concerned (the program bytes are never run)."""
    d = tmp_path / "bundle"
    d.mkdir()
    (d / PROGRAM).write_bytes(b"program bytes")
    (d / "tokenizer.json").write_text("{}")
    manifest = {"manifest_version": 1, "model": "tiny", "scheme": "float32", "target": "host",
                "arch": "x86_64", "backend": "xnnpack", "max_seq_len": 96, "prefill_chunk": 96,
                "config": {"model_type": "minicpm"}, "operators": ["edgecpm::cached_attention.out"],
                "sha256": {name: file_sha256(d / name) for name in (PROGRAM, "tokenizer.json")}}
    (d / MANIFEST).write_text(json.dumps(manifest))
    return d


def rewrite(bundle, change):
    manifest = json.loads((bundle / MANIFEST).read_text())
    change(manifest)
    (bundle / MANIFEST).write_text(json.dumps(manifest))


def test_a_sound_manifest_reads(bundle):
    assert read_manifest(bundle)["max_seq_len"] == 96


@pytest.mark.parametrize("change,message", [
    (lambda m: m.pop("sha256"), "has no 'sha256' (checksums of the bundle's files)"),
    (lambda m: m.update(sha256={}), "its sha256 map is empty, so nothing in the bundle can be verified"),
    (lambda m: m["sha256"].pop(PROGRAM), "its sha256 map does not list model.pte"),
    (lambda m: m["sha256"].update({"../../etc/passwd": "0" * 64}), "'../../etc/passwd' is not a file name"),
    (lambda m: m["sha256"].update({PROGRAM: 7}), "sha256 of model.pte is 7, not a sha256 hex digest"),
    (lambda m: m.pop("config"), "has no 'config' (the model's config)"),
    (lambda m: m.pop("max_seq_len"), "has no 'max_seq_len'"),
    (lambda m: m.update(max_seq_len="96"), "has a str for 'max_seq_len'"),
    (lambda m: m.update(max_seq_len=True), "has a bool for 'max_seq_len'"),
    (lambda m: m.update(max_seq_len=0), "max_seq_len 0 must be at least 1"),
    (lambda m: m.update(prefill_chunk=500), "prefill_chunk 500 must be a number from 1 to max_seq_len"),
    (lambda m: m.pop("operators"), "has no 'operators'"),
    (lambda m: m.update(operators=[1, 2]), "'operators' must list operator names"),
    (lambda m: m.pop("arch"), "has no 'arch' (the target CPU architecture)"),
    (lambda m: m.update(manifest_version="1"), "manifest_version '1' is not a number"),
    (lambda m: m.update(manifest_version=99), "written by a newer edgecpm; upgrade edgecpm or re-export"),
])
def test_a_broken_manifest_is_one_line(bundle, change, message):
    rewrite(bundle, change)
    with pytest.raises(CheckpointError) as e:
        read_manifest(bundle)
    assert str(e.value).startswith(f"{bundle / MANIFEST}: ") and message in str(e.value)
    assert "\n" not in str(e.value) and ("re-run `edgecpm export`" in str(e.value) or "re-export" in str(e.value))


@pytest.mark.parametrize("text", ["[1, 2]", "{", "", "\xff\xfe"])
def test_a_manifest_that_is_not_a_json_object_is_one_line(bundle, text):
    (bundle / MANIFEST).write_bytes(text.encode("latin-1"))
    with pytest.raises(CheckpointError, match=r"manifest.json: (unreadable manifest|not a JSON object)"):
        read_manifest(bundle)


def test_checksums_are_verified_and_can_be_skipped(bundle):
    (bundle / PROGRAM).write_bytes(b"swapped")
    with pytest.raises(CheckpointError, match="model.pte: missing or its sha256 does not match manifest.json"):
        read_manifest(bundle)
    assert read_manifest(bundle, verify=False)["arch"] == "x86_64"


def test_generate_on_a_broken_manifest_says_one_line(bundle):
    from tests.cli.test_cli import invoke

    rewrite(bundle, lambda m: m.pop("sha256"))
    r = invoke("generate", bundle, "-p", "Hello", "-n", "2")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"error: {bundle / MANIFEST}: has no 'sha256'" in r.output


@pytest.mark.parametrize("field,value", [("hidden_size", "64"), ("rope_scaling", [1]), ("num_attention_heads", 0)])
def test_a_config_that_does_not_parse_is_one_line(bundle, field, value):
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.export.pte_manifest import manifest_config

    config = json.loads((resolve_model("tiny") / "config.json").read_text())
    assert manifest_config(bundle, {"config": config}).hidden_size == config["hidden_size"]
    with pytest.raises(CheckpointError, match=r"manifest.json: its config is not a valid MiniCPM4 config"):
        manifest_config(bundle, {"config": {**config, field: value}})
