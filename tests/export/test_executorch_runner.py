"""ExecuTorch's own LLM runner (``TextLLMRunner``, through its Python bindings) on our bundles: the
metadata it reads, the BOS its tokenizer adds, and the same greedy text as ``edgecpm generate``."""

from __future__ import annotations

import json

import pytest

from edgecpm.checkpoint.locate import resolve_model
from edgecpm.errors import TokenizerError
from edgecpm.export.bundle_tokenizer import copy_tokenizer_files
from edgecpm.export.pte import PROGRAM, runner_prefills_whole_prompts
from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.conftest import GREEDY_PROMPT

PROMPT_TEXT = "Raise ValueError if the"  # GREEDY_PROMPT without its BOS


def _executorch_hf_tokenizer(path):
    tokenizers = pytest.importorskip("pytorch_tokenizers")
    tok = tokenizers.CppHFTokenizer()
    tok.load(str(path))
    return tok


def test_the_bundle_tokenizer_gives_executorch_the_bos(tmp_path):
    src = resolve_model("tiny")
    plain = _executorch_hf_tokenizer(src / "tokenizer.json")
    assert plain.encode(PROMPT_TEXT, 1, 0) == GREEDY_PROMPT[1:]  # the checkpoint's file: BOS dropped
    copy_tokenizer_files(src, tmp_path, bos_id=1)
    theirs = _executorch_hf_tokenizer(tmp_path / "tokenizer.json")
    assert theirs.encode(PROMPT_TEXT, 1, 0) == GREEDY_PROMPT
    assert theirs.encode(PROMPT_TEXT, 0, 0) == GREEDY_PROMPT[1:]  # num_bos=0 still means none
    # edgecpm's own tokenizer adds the BOS itself and reads both files alike.
    ours, before = load_tokenizer(tmp_path, 1, [2]), load_tokenizer(src, 1, [2])
    assert ours.encode(PROMPT_TEXT, bos=True) == before.encode(PROMPT_TEXT, bos=True) == GREEDY_PROMPT


def test_a_tokenizer_with_its_own_post_processor_is_copied_unchanged(tmp_path):
    spec = json.loads((resolve_model("tiny") / "tokenizer.json").read_text())
    spec["post_processor"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True}
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tokenizer.json").write_text(json.dumps(spec))
    (tmp_path / "out").mkdir()
    copy_tokenizer_files(tmp_path / "src", tmp_path / "out", bos_id=1)
    assert (tmp_path / "out" / "tokenizer.json").read_bytes() == (tmp_path / "src" / "tokenizer.json").read_bytes()


def test_a_broken_tokenizer_json_is_one_line(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tokenizer.json").write_bytes(b'{"model": \xff')
    with pytest.raises(TokenizerError, match=r"src/tokenizer.json: not a UTF-8 JSON tokenizer"):
        copy_tokenizer_files(tmp_path / "src", tmp_path, bos_id=1)


def test_dynamic_shape_only_where_a_call_takes_the_whole_context():
    # ExecuTorch's runner prefills get_max_seq_len tokens per call when enable_dynamic_shape is set.
    assert runner_prefills_whole_prompts(96, 96) and runner_prefills_whole_prompts(96, None)
    assert not runner_prefills_whole_prompts(512, 128)


@pytest.fixture(scope="module")
def float_bundle(tiny_bundles):
    return tiny_bundles["float"][1]


@pytest.mark.slow
def test_the_program_carries_the_runner_metadata(float_bundle):
    from edgecpm.runtime.pte import PteModel

    program = PteModel(float_bundle).program
    value = {name: program.load_method(name).execute([]) for name in
             ("get_bos_id", "get_eos_ids", "get_max_seq_len", "get_max_context_len", "use_kv_cache",
              "enable_dynamic_shape", "get_n_bos", "get_n_eos", "get_vocab_size")}
    assert value["get_bos_id"] == [1] and value["get_eos_ids"] == [2] and value["get_n_bos"] == [1]
    assert value["get_max_seq_len"] == value["get_max_context_len"] == [96]  # the tiny bundles' cache
    assert value["use_kv_cache"] == [True] and value["enable_dynamic_shape"] == [True]
    assert value["get_n_eos"] == [0] and value["get_vocab_size"] == [8192]


@pytest.mark.slow
def test_executorch_text_llm_runner_gives_the_tokens_of_edgecpm_generate(float_bundle):
    runner_api = pytest.importorskip("executorch.extension.llm.runner")
    from edgecpm.generate import generate
    from edgecpm.runtime.pte import PteModel

    ours = PteModel(float_bundle)  # also registers the edgecpm kernels ExecuTorch's runner needs
    tok = load_tokenizer(float_bundle, 1, [2])
    assert tok.encode(PROMPT_TEXT, bos=True) == GREEDY_PROMPT
    n = 16
    expected = tok.decode(generate(ours, GREEDY_PROMPT, n, eos_ids=ours.config.eos_token_id).tokens)

    runner = runner_api.TextLLMRunner(str(float_bundle / PROGRAM), str(float_bundle / "tokenizer.json"))
    pieces: list[str] = []
    config = runner_api.GenerationConfig(echo=False, max_new_tokens=n, temperature=0.0, num_bos=1)
    runner.generate(PROMPT_TEXT, config, token_callback=pieces.append)
    assert len(pieces) == n and "".join(pieces) == expected
