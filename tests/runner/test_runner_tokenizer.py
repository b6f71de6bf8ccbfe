"""The runner's C++ tokenizers give the Python tokenizer's ids (edgecpm.tokenizer, itself the
`tokenizers` and `sentencepiece` libraries) on a few hundred varied strings, for both formats a
bundle can carry: the embedded model's byte-level BPE tokenizer.json and MiniCPM4's SentencePiece
tokenizer.model with its added tokens. ``--tokenize`` encodes every string in one process.
Variants of both files (other pre-tokenizer and normalizer flags) check the code paths the two
real files leave unused; files the runner cannot encode exactly are refused naming the file.
``EDGECPM_RUNNER`` names another runner binary (`make kernels-sanitize`: the ASan/UBSan build)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from edgecpm.checkpoint.locate import resolve_model
from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.runner.test_runner import HOST_RUNNER, require
from tests.runner.tokenizer_strings import EDGE_CASES, all_strings

ERROR_PREFIX = "edgecpm-runner: error: "
RUNNER = Path(os.environ.get("EDGECPM_RUNNER", HOST_RUNNER))


def runner_ids(tokenizer_dir: Path, strings: list[str], tmp_path: Path) -> list[list[int]]:
    lines = tmp_path / "strings.jsonl"
    lines.write_text("".join(json.dumps(s) + "\n" for s in strings), encoding="utf-8")
    res = subprocess.run([str(require(RUNNER, "kernels")), "--tokenizer", str(tokenizer_dir), "--tokenize",
                          str(lines)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


def assert_same_ids(tokenizer_dir: Path, strings: list[str], tmp_path: Path) -> None:
    tok = load_tokenizer(tokenizer_dir)
    got = runner_ids(tokenizer_dir, strings, tmp_path)
    assert len(got) == len(strings)
    wrong = [(s, ids, tok.encode(s)) for s, ids in zip(strings, got) if ids != tok.encode(s)]
    assert not wrong, f"{len(wrong)} of {len(strings)} differ; first: {wrong[0]!r}"


def test_string_set_is_varied():
    strings = all_strings()
    assert len(strings) >= 300 and len(set(strings)) >= 300
    joined = "".join(strings)
    for needle in ["中", "😀", "\t", "\n", "  ", "<|im_start|>", "<s>", "</s>", "<|fim_prefix|>", "2025", "def "]:
        assert needle in joined
    assert "" in strings


def test_byte_level_bpe_matches_python(tmp_path):
    assert_same_ids(resolve_model("tiny"), all_strings(), tmp_path)


def test_sentencepiece_bpe_matches_python(minicpm4_tokenizer_dir, tmp_path):
    assert_same_ids(minicpm4_tokenizer_dir, all_strings(), tmp_path)


@pytest.mark.slow
def test_the_bundled_tokenizer_json_encodes_as_the_original(tiny_bundles, tmp_path):
    """Export adds a BOS post-processor to the bundle's copy; encoding (no special tokens) is unchanged."""
    _, bundle = tiny_bundles["float"]
    assert_same_ids(bundle, EDGE_CASES, tmp_path)


def tokenizer_json_variant(tmp_path: Path, name: str, edit) -> Path:
    spec = json.loads((resolve_model("tiny") / "tokenizer.json").read_text(encoding="utf-8"))
    edit(spec)
    where = tmp_path / name
    where.mkdir()
    (where / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return where


def set_pre_tokenizer(steps):
    def edit(spec):
        spec["pre_tokenizer"] = steps if isinstance(steps, dict) else {"type": "Sequence", "pretokenizers": steps}
    return edit


BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}


@pytest.mark.parametrize("name,edit", [
    ("byte-level-only", set_pre_tokenizer(BYTE_LEVEL)),
    ("prefix-space", set_pre_tokenizer({**BYTE_LEVEL, "add_prefix_space": True})),
    ("digit-runs", set_pre_tokenizer([{"type": "Digits", "individual_digits": False}, BYTE_LEVEL])),
    ("no-regex", set_pre_tokenizer({**BYTE_LEVEL, "use_regex": False})),
    ("merges-as-strings", lambda spec: spec["model"].update(merges=[" ".join(m) for m in spec["model"]["merges"]])),
    ("ignore-merges", lambda spec: spec["model"].update(ignore_merges=True)),
])
def test_tokenizer_json_variants_match_python(tmp_path, name, edit):
    assert_same_ids(tokenizer_json_variant(tmp_path, name, edit), all_strings()[:160], tmp_path)


def sentencepiece_variant(source: Path, tmp_path: Path, **flags) -> Path:
    from sentencepiece import sentencepiece_model_pb2 as pb

    model = pb.ModelProto()
    model.ParseFromString((source / "tokenizer.model").read_bytes())
    for key, value in flags.items():
        setattr(model.normalizer_spec, key, value)
    where = tmp_path / "_".join(f"{k}-{v}" for k, v in flags.items())
    where.mkdir()
    (where / "tokenizer.model").write_bytes(model.SerializeToString())
    for name in ("tokenizer_config.json", "added_tokens.json"):
        (where / name).write_bytes((source / name).read_bytes())
    return where


@pytest.mark.parametrize("flags", [
    {"add_dummy_prefix": True},
    {"remove_extra_whitespaces": True},
    {"add_dummy_prefix": True, "remove_extra_whitespaces": True},
    {"escape_whitespaces": False},
])
def test_sentencepiece_normalizer_flags_match_python(minicpm4_tokenizer_dir, tmp_path, flags):
    assert_same_ids(sentencepiece_variant(minicpm4_tokenizer_dir, tmp_path, **flags), all_strings()[:160], tmp_path)


def refusal(args: list[str]) -> str:
    res = subprocess.run([str(require(RUNNER, "kernels")), *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and res.stdout == "", (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), res.stderr
    return lines[0]


@pytest.mark.parametrize("name,edit,why", [
    ("normalizer", lambda spec: spec.update(normalizer={"type": "NFC"}), "a normalizer is not supported"),
    ("wordpiece", lambda spec: spec["model"].update(type="WordPiece"), "model type 'WordPiece' is not supported"),
    ("metaspace", set_pre_tokenizer({"type": "Metaspace"}), "pre_tokenizer 'Metaspace' is not supported"),
    ("unknown-merge", lambda spec: spec["model"]["merges"].append(["zzzq", "qqqz"]), "not in the vocabulary"),
    ("no-bytes", lambda spec: spec["model"]["vocab"].pop("Ġ"), "no token for byte 32"),
])
def test_tokenizer_json_it_cannot_encode_is_refused(tmp_path, name, edit, why):
    where = tokenizer_json_variant(tmp_path, name, edit)
    (where / "strings.jsonl").write_text('"x"\n')
    line = refusal(["--tokenizer", str(where), "--tokenize", str(where / "strings.jsonl")])
    assert f"{where / 'tokenizer.json'}: " in line and why in line


def test_unigram_or_normalizing_sentencepiece_is_refused(minicpm4_tokenizer_dir, tmp_path):
    from sentencepiece import sentencepiece_model_pb2 as pb

    source = (minicpm4_tokenizer_dir / "tokenizer.model").read_bytes()
    for name, change, why in [("unigram", lambda m: setattr(m.trainer_spec, "model_type", 1), "model type 1"),
                              ("nfkc", lambda m: setattr(m.normalizer_spec, "precompiled_charsmap", b"\1\2\3"),
                               "a normalizer with rules")]:
        model = pb.ModelProto()
        model.ParseFromString(source)
        change(model)
        (tmp_path / name).mkdir()
        (tmp_path / name / "tokenizer.model").write_bytes(model.SerializeToString())
        (tmp_path / name / "s.jsonl").write_text('"x"\n')
        line = refusal(["--tokenizer", str(tmp_path / name), "--tokenize", str(tmp_path / name / "s.jsonl")])
        assert f"{tmp_path / name / 'tokenizer.model'}: " in line and why in line


def test_bad_tokenize_input_is_one_line_naming_the_line(tmp_path):
    lines = tmp_path / "s.jsonl"
    lines.write_text('"fine"\n[1, 2]\n')
    assert f"{lines}:2: not a JSON string" in refusal(["--tokenizer", str(resolve_model("tiny")), "--tokenize",
                                                       str(lines)])
    lines.write_bytes(b'"fine"\n"\\ud800"\n')  # a lone surrogate: not UTF-8 text, as Python refuses it
    assert f"{lines}:2: not UTF-8 text" in refusal(["--tokenizer", str(resolve_model("tiny")), "--tokenize",
                                                    str(lines)])
    assert "no tokenizer.json or tokenizer.model" in refusal(["--tokenizer", str(tmp_path), "--tokenize", str(lines)])
