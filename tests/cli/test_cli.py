from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from edgecpm.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_help_does_not_import_torch():
    code = ("import sys\nsys.argv = ['edgecpm', '--help']\nfrom edgecpm.cli.app import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules, 'edgecpm --help imported torch'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "generate" in out.stdout and "eval" in out.stdout


def test_init_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "m"
    r = invoke("init", "--preset", "tiny", "--random", "--layers", "1", "--dtype", "fp32", "-o", out)
    assert r.exit_code == 0, r.output
    assert "tiny" in r.output and (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    from edgecpm.checkpoint.loader import load_model

    assert load_model(out, max_seq_len=16).config.num_hidden_layers == 1


def test_init_refuses_existing_output_and_missing_random(tmp_path):
    (tmp_path / "m").mkdir()
    r = invoke("init", "--preset", "tiny", "--random", "-o", tmp_path / "m")
    assert r.exit_code == 2 and "already exists" in r.output
    r = invoke("init", "--preset", "tiny", "-o", tmp_path / "n")
    assert r.exit_code == 2 and "--random" in r.output
    r = invoke("init", "--preset", "minicpm9", "--random", "-o", tmp_path / "n")
    assert r.exit_code == 2 and "unknown preset" in r.output


def test_interrupted_write_leaves_nothing_behind(tmp_path, monkeypatch):
    import edgecpm.checkpoint.random_init as ri

    real = ri.random_tensors

    def dies_halfway(*a, **k):
        for i, item in enumerate(real(*a, **k)):
            if i == 5:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(ri, "random_tensors", dies_halfway)
    r = invoke("init", "--preset", "tiny", "--random", "-o", tmp_path / "m")
    assert r.exit_code == 130
    assert list(tmp_path.iterdir()) == []


def test_generate_without_tokenizer_is_a_clear_error(tied_ckpt):
    r = invoke("generate", tied_ckpt, "-p", "hi", "-n", "2")
    assert r.exit_code == 2
    assert "no tokenizer.json or tokenizer.model" in r.output


def test_missing_model_dir(tmp_path):
    r = invoke("generate", tmp_path / "absent", "-p", "hi")
    assert r.exit_code == 2 and "no such model directory" in r.output


def test_generate_and_eval_on_embedded_model(tmp_path):
    r = invoke("generate", "tiny", "-p", "Return the number of", "-n", "12", "--stats")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Return the number of") and len(r.output) > len("Return the number of") + 10
    text = tmp_path / "t.txt"
    text.write_text("Return a list of the items in the dictionary. " * 40)
    r = invoke("eval", "tiny", "--corpus", text, "--ctx", "64")
    assert r.exit_code == 0, r.output
    ppl = float(r.output.strip().splitlines()[-1].split("|")[5])
    assert 1.0 < ppl < 100.0  # repetitive in-domain text is easy once the first window is seen


def test_doctor_lists_pins():
    # `true` as the adb client: a machine's real adb would start its server and list its phones.
    r = runner.invoke(app, ["doctor"], env={"EDGECPM_ADB": "true", "EDGECPM_DEVICES": ""})
    assert r.exit_code == 0 and "executorch" in r.output and "1.5.1" in r.output


def test_quantize_prints_summary_and_eval_compares(tmp_path):
    out = tmp_path / "t"
    r = invoke("quantize", "tiny", "--scheme", "int4", "--group-size", "32", "-o", out)
    assert r.exit_code == 0, r.output
    assert "block linears → int4 sym g32 (rtn)" in r.output and "| **total** |" in r.output
    r = invoke("eval", "tiny", out, "--max-tokens", "600", "--ctx", "200")
    assert r.exit_code == 0, r.output
    last = [c.strip() for c in r.output.strip().splitlines()[-1].split("|")]
    assert last[2] == "int4 sym g32 rtn" and last[3] == "4.5"
    assert 0 < float(last[7]) < 0.2 and float(last[8]) > 70  # KLD, top-1 %: int4 g32 is close


def test_quantize_bad_scheme_and_group(tmp_path):
    r = invoke("quantize", "tiny", "--scheme", "int3", "-o", tmp_path / "x")
    assert r.exit_code == 2 and "choose ternary or int4" in r.output
    r = invoke("quantize", "tiny", "--scheme", "int4", "--group-size", "48", "-o", tmp_path / "x")
    assert r.exit_code == 2 and "--group-size 48: int4 takes 32, 64, 128" in r.output
    assert not (tmp_path / "x").exists()


def test_export_gguf_and_unsupported_formats(tmp_path):
    r = invoke("export", "tiny", "--format", "gguf", "-o", tmp_path / "t.gguf")
    assert r.exit_code == 0 and (tmp_path / "t.gguf").is_file(), r.output
    r = invoke("export", "tiny", "--format", "tflite", "-o", tmp_path / "t.tflite")
    assert r.exit_code == 2 and "choose pte, gguf or onnx" in r.output and not (tmp_path / "t.tflite").exists()
