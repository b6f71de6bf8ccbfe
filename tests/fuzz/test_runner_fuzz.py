"""edgecpm-runner over damaged bundle files: a normal run, or one ``edgecpm-runner: error:`` line and
a non-zero exit; never a signal, a hang or a sanitizer report.

Fixed-seed mutations (tests/fuzz/mutations.py) of model.pte (its flatbuffer: the first 64 KiB),
manifest.json, vocab.bin and draft_vocab.bin of the tiny int4 and float-spec bundles, each run
with ``--stats-only -n 2`` (or printing text, for vocab.bin): about 450 runner calls, under a
minute on 2 cores. The program and vocabulary cases pass ``--no-verify``, so that the damage
reaches the readers instead of stopping at the manifest's checksums; a few cases run with
verification to check that it refuses them.

``EDGECPM_RUNNER`` names another runner binary: `make kernels-sanitize` runs this file with the
AddressSanitizer/UBSan build.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edgecpm.export.draft_vocab_bin import draft_vocab_bin_bytes
from tests.fuzz.mutations import mutations
from tests.runner.test_runner import HOST_RUNNER, require

RUNNER = Path(os.environ.get("EDGECPM_RUNNER", HOST_RUNNER))
PROMPT = ["--prompt-ids", "1,2"]
# Text through every kind of piece the tokenizers split: words, digits, CJK, emoji, added tokens.
TEXT_PROMPT = ["--prompt", "Raise ValueError if the 3 cats <|im_start|>user\n你好 😀<|im_end|>  end"]
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
ERROR_PREFIX = "edgecpm-runner: error: "


@dataclass
class Plan:
    """``count`` mutations of one file of one bundle, each run with ``flags``."""

    bundle: str
    file: str
    count: int
    seed: int
    window: int | None = None
    flags: list[str] = field(default_factory=list)
    verify: bool = False  # run without --no-verify: every real change must be refused by its checksum
    prompt: list[str] = field(default_factory=lambda: PROMPT)


PLANS = [
    Plan("int4", "model.pte", 130, seed=1, window=65536, flags=["--stats-only"]),
    Plan("float-spec", "model.pte", 50, seed=2, window=65536, flags=["--stats-only", "--spec", "chain"]),
    Plan("int4", "manifest.json", 130, seed=3, flags=["--stats-only"], verify=True),
    Plan("int4", "vocab.bin", 70, seed=4, flags=["--vocab", "{dir}/vocab.bin"]),
    Plan("float-spec", "draft_vocab.bin", 40, seed=5, flags=["--stats-only", "--spec", "tree",
                                                            "--draft-vocab", "{dir}/draft_vocab.bin"]),
    Plan("int4", "model.pte", 12, seed=6, flags=["--stats-only"], verify=True),
    Plan("int4", "vocab.bin", 12, seed=7, flags=["--vocab", "{dir}/vocab.bin"], verify=True),
    Plan("int4", "tokenizer.json", 60, seed=8, flags=["--stats-only"], prompt=TEXT_PROMPT),
    Plan("int4", "tokenizer.json", 8, seed=9, flags=["--stats-only"], prompt=TEXT_PROMPT, verify=True),
]


def draft_vocab_bytes(bundle: Path) -> bytes:
    """An identity FR-Spec list over the whole vocabulary: valid for any draft of full width."""
    vocab = json.loads((bundle / "manifest.json").read_text())["config"]["vocab_size"]
    return draft_vocab_bin_bytes(list(range(vocab)))


def case_dir(bundle: Path, work: Path) -> Path:
    """A bundle copy made of symlinks, so that one file can be replaced without copying the rest."""
    work.mkdir(parents=True, exist_ok=True)
    for f in bundle.iterdir():
        link = work / f.name
        if not link.exists():
            link.symlink_to(f)
    return work


def run_case(runner: Path, plan: Plan, where: Path, label: str, data: bytes) -> tuple[str | None, str]:
    """Writes the mutated file and runs the runner; returns (what went wrong or None, its stderr)."""
    target = where / plan.file
    target.unlink(missing_ok=True)
    target.write_bytes(data)
    args = [str(runner), "--model", str(where / "model.pte"), *plan.prompt, "-n", "2",
            *(f.format(dir=where) for f in plan.flags), *([] if plan.verify else ["--no-verify"])]
    return run_args(args, label, '{"prompt_tokens"')


def run_args(args: list[str], label: str, ok_prefix: str) -> tuple[str | None, str]:
    """Runs the runner; a success must end in a line starting with ``ok_prefix``, a failure in one
    error line with exit status 1."""
    try:
        res = subprocess.run(args, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return f"{label}: no answer in 60 s", ""
    err = res.stderr.decode(errors="replace")
    if res.returncode < 0:
        return f"{label}: signal {-res.returncode}: {err[-400:]!r}", err
    marks = [err.find(mark) for mark in SANITIZER_MARKS if mark in err]
    if marks:
        return f"{label}: sanitizer report: {err[min(marks):][:1500]}", err
    if res.returncode == 0:
        last = res.stdout.decode(errors="replace").rstrip("\n").rpartition("\n")[2]
        return (None if last.startswith(ok_prefix) else f"{label}: exit 0 without its last line"), err
    last = err.rstrip("\n").rpartition("\n")[2]
    if res.returncode != 1 or not last.startswith(ERROR_PREFIX) or err.count(ERROR_PREFIX) != 1 \
            or "terminate called" in err:
        return f"{label}: exit {res.returncode} without one error line: {err[-400:]!r}", err
    return None, err


@pytest.mark.slow
def test_runner_survives_damaged_bundle_files(tiny_bundles, tmp_path):
    runner = require(RUNNER, "kernels")
    failures, refused, total = [], 0, 0
    for p, plan in enumerate(PLANS):
        bundle = tiny_bundles[plan.bundle][1]
        where = case_dir(bundle, tmp_path / f"{p}-{plan.bundle}")
        original = draft_vocab_bytes(bundle) if plan.file == "draft_vocab.bin" else (bundle / plan.file).read_bytes()
        for label, data in mutations(original, plan.seed, plan.count, plan.window):
            label = f"{plan.bundle}/{plan.file}{' (verified)' if plan.verify else ''} {label}"
            problem, err = run_case(runner, plan, where, label, data)
            total += 1
            refused += ERROR_PREFIX in err
            checksummed = plan.verify and plan.file != "manifest.json"
            if problem is None and checksummed and data != original and "does not match" not in err:
                problem = f"{label}: a changed {plan.file} was not refused by its checksum: {err[-400:]!r}"
            if problem:
                failures.append(problem)
        (where / plan.file).unlink()
    print(f"{RUNNER}: {total} damaged bundles, {refused} refused, {len(failures)} bad outcomes")
    assert not failures, f"{len(failures)} of {total} bad outcomes:\n" + "\n".join(failures[:20])
    # The damage matters: most cases must reach a check (else the mutations or the flags are wrong).
    assert refused > total // 2


@pytest.mark.slow
def test_runner_survives_damaged_sentencepiece_files(minicpm4_tokenizer_dir, tmp_path):
    """MiniCPM4's tokenizer.model (damaged anywhere, and in its last 4 KiB, where the trainer and
    normalizer specs are) and its added-token files, read by --tokenize: ids or one error line."""
    runner = require(RUNNER, "kernels")
    where = tmp_path / "tokenizer"
    where.mkdir()
    strings = tmp_path / "strings.jsonl"
    strings.write_text(json.dumps(TEXT_PROMPT[1]) + "\n" + json.dumps("") + "\n", encoding="utf-8")
    failures, refused, total = [], 0, 0
    for name, count, seed, tail in [("tokenizer.model", 50, 21, None), ("tokenizer.model", 40, 22, 4096),
                                    ("tokenizer_config.json", 40, 23, None), ("added_tokens.json", 30, 24, None)]:
        for f in ("tokenizer.model", "tokenizer_config.json", "added_tokens.json"):
            (where / f).write_bytes((minicpm4_tokenizer_dir / f).read_bytes())
        original = (minicpm4_tokenizer_dir / name).read_bytes()
        head, body = (original[:-tail], original[-tail:]) if tail else (b"", original)
        for label, data in mutations(body, seed, count):
            (where / name).write_bytes(head + data)
            label = f"{name}{' tail' if tail else ''} {label}"
            problem, err = run_args([str(runner), "--tokenizer", str(where), "--tokenize", str(strings)], label, "[")
            total += 1
            refused += ERROR_PREFIX in err
            if problem:
                failures.append(problem)
    print(f"{RUNNER}: {total} damaged SentencePiece files, {refused} refused, {len(failures)} bad outcomes")
    assert not failures, f"{len(failures)} of {total} bad outcomes:\n" + "\n".join(failures[:20])
    assert refused > total // 4
