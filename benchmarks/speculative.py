"""Speculative decoding on the embedded tiny model: acceptance, speedup over plain decoding, and the
draft LM head's cost with FR-Spec vs the full vocabulary, side by side in one run.

Not a test: it prints tables. Shared machines are noisy; read the ratios, run it twice.

    .venv/bin/python -m benchmarks.speculative                        # eager, .pte (Python), native runner
    .venv/bin/python -m benchmarks.speculative --backends eager -n 32 # quicker
    .venv/bin/python -m benchmarks.speculative --backends eager --prompts 2 -n 8 --reps 3   # a quick check
    .venv/bin/python -m benchmarks.speculative --model DIR --draft DRAFT_DIR --frspec FILE
    .venv/bin/python -m benchmarks.speculative --shape minicpm4-0.5b   # speedup vs acceptance at real shapes

``--shape minicpm4-0.5b`` prices the mechanism instead (``edgecpm.bench_spec``): random-weight
ternary and int4 checkpoints of the shape (benchmarks.peers' cache), a random draft head of the
real EAGLE shape and random FR-Spec ids, and the native runner's replay draft
(``--replay-accept``), which sets the mean accepted length; it says nothing about acceptance.

Backends (each compares against its own plain decoding, in the same run):
- ``eager``: PyTorch, ``torch.set_num_threads(--threads)``.
- ``pte``: the ExecuTorch Python runtime on programs exported with the draft's ``verify``/``draft``
  methods (``edgecpm export --draft``), one without and one with FR-Spec (FR-Spec is fixed at
  export); they are exported into ``--bundles`` once (about 2.5 minutes each) and reused.
- ``runner``: the native ``edgecpm-runner`` (``make kernels``) on the same programs, ``--spec``.

Prompts: evenly spaced 32-token windows of the embedded corpus's held-out split (never trained
on, by the base or the draft). Every configuration decodes the same prompts greedily; the table
says whether its tokens equal plain decoding's (they must). A row's samples are its prompts' tok/s
(generated tokens over prefill + decode wall time, one sample per prompt); its speedup is all
prompts' tokens over all their time, against plain decoding's. The per-call tables time --reps
calls after a warm-up; their ratios compare the best calls. The FR-Spec list (default: the 25%
most frequent ids of the training split, EOS kept) is built in-process unless --frspec gives one.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import torch

from benchmarks.common import ROOT, RUNNER, add_format_option, emit, progress
from edgecpm.bench import executorch_threads, runner_spec_flags, runner_stats
from edgecpm.bench_records import BenchReport, BenchRow, cpu_name
from edgecpm.bench_timing import in_ms, time_calls
from edgecpm.checkpoint.contents import load_config
from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.generate import generate
from edgecpm.runtime.eager import EagerBase
from edgecpm.speculative.decode import speculative_generate
from edgecpm.speculative.draft import load_draft, resolve_draft
from edgecpm.speculative.frspec import FrequencyList, head_cost, load_frspec, save_frspec, top_ids
from edgecpm.speculative.train import held_out_prompts
from edgecpm.speculative.tree import SpecConfig
from edgecpm.tiny.corpus import split_text, stdlib_documents
from edgecpm.tokenizer.tokenizer import load_tokenizer

CONFIGS = [("chain 1", SpecConfig(mode="chain", chain_len=1)),
           ("chain 2", SpecConfig(mode="chain", chain_len=2)),
           ("chain 3", SpecConfig(mode="chain", chain_len=3)),
           ("tree 1/4/6", SpecConfig(num_iter=1, topk_per_iter=4, tree_size=6)),
           ("tree 2/10/12", SpecConfig())]


class Totals:
    """Generated tokens, wall time and speculative counters over all prompts of one configuration."""

    def __init__(self):
        self.outputs, self.seconds, self.steps, self.emitted, self.draft_s, self.verify_s = [], 0.0, 0, 0, 0.0, 0.0
        self.rates: list[float] = []  # tok/s of each prompt: the row's samples

    def add(self, tokens, seconds, steps=0, emitted=0, draft_s=0.0, verify_s=0.0):
        self.rates.append(len(tokens) / seconds)
        self.outputs.append(tokens)
        self.seconds += seconds
        self.steps += steps
        self.emitted += emitted
        self.draft_s += draft_s
        self.verify_s += verify_s

    @property
    def tok_s(self) -> float:
        return sum(map(len, self.outputs)) / self.seconds

    @property
    def mean_accepted(self) -> float:
        return self.emitted / self.steps if self.steps else 1.0

    @property
    def draft_share(self) -> float:
        return self.draft_s / (self.draft_s + self.verify_s) if self.steps else 0.0


def python_plain(model, prompts, n, eos) -> Totals:
    out = Totals()
    for p in prompts:
        r = generate(model, p, n, eos_ids=eos)
        out.add(r.tokens, r.prefill_s + r.decode_s)
    return out


def python_spec(base, draft, prompts, n, eos, spec) -> Totals:
    out = Totals()
    for p in prompts:
        r = speculative_generate(base, draft, p, n, spec=spec, eos_ids=eos)
        out.add(r.tokens, r.prefill_s + r.decode_s, r.verify_steps, sum(r.accepted_per_step), r.draft_s, r.verify_s)
    return out


def runner(bundle: Path, prompts, n, flags: list[str]) -> Totals:
    out = Totals()
    for p in prompts:
        s = runner_stats(RUNNER, bundle, p, n, flags)
        seconds = s["ttft_ms"] / 1e3 + (s["generated_tokens"] - 1) / s["decode_tok_s"] if s["decode_tok_s"] else 0
        out.add(s["tokens"], seconds, s.get("verify_steps", 0), round(s.get("mean_accepted", 0) * s.get("verify_steps", 0)),
                s.get("draft_s", 0.0), s.get("verify_s", 0.0))
    return out


def exported(model_dir: Path, draft: str, fr_path: Path | None, out: Path, max_seq_len: int) -> Path:
    """A bundle with the speculative methods, exported once and reused while its inputs match."""
    from edgecpm.export.pte import export_pte
    from edgecpm.speculative.export_methods import draft_methods

    want = {"model": str(model_dir), "draft": draft, "frspec": str(fr_path), "max_seq_len": max_seq_len}
    stamp = out / "bench-inputs.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return out
    progress(f"exporting {out} (about 2.5 minutes)")
    export_pte(model_dir, out, max_seq_len=max_seq_len, speculative=draft_methods(draft, fr_path), overwrite=True)
    stamp.write_text(json.dumps(want))
    return out


def decode_rows(rows, model_name: str, params_m: float, n: int, threads: dict[str, int | None]) -> list[BenchRow]:
    out, device = [], cpu_name()
    for backend, name, same, t, plain in rows:
        out.append(BenchRow(model_name, None, params_m, backend, threads[backend], f"tg{n} {name}", t.rates,
                            device=device, extra={"same tokens as plain": same,
                                                  "accepted tok/step": f"{t.mean_accepted:.2f}",
                                                  "draft time share": f"{100 * t.draft_share:.0f}%",
                                                  "speedup": f"{t.tok_s / plain.tok_s:.2f}x"}))
    return out


def head_report(draft, cfg, fr: FrequencyList, reps: int) -> BenchReport:
    """The draft LM head alone: one row (chain step) and ten rows (a tree expansion)."""
    h = cfg.hidden_size
    report = BenchReport(title=f"Draft LM head, hidden {h}: full vocabulary {cfg.vocab_size} rows vs FR-Spec "
                               f"{fr.ids.numel()} rows (eager; vs full: best calls)")
    with torch.no_grad():
        for t_rows in (1, 10):
            x = torch.randn(t_rows, h)
            best = {}
            for label, ids in (("full", None), ("FR-Spec", fr.ids)):
                draft.set_vocab(ids)
                samples = call_ms(lambda: draft.logits(x), reps)
                best[label] = min(samples)
                rows_n = cfg.vocab_size if ids is None else ids.numel()
                report.rows.append(BenchRow(
                    "draft LM head", None, None, "torch-eager", torch.get_num_threads(),
                    f"{t_rows} rows in, {label} ({rows_n})", samples, unit="ms", device=cpu_name(),
                    extra={"FLOPs": f"{t_rows * head_cost(h, rows_n) / 1e6:.2f} M",
                           "vs full": f"{best[label] / best['full']:.2f}x"}))
    draft.set_vocab(None)
    return report


def call_costs(bundles: dict, hidden_size: int, max_seq_len: int, reps: int) -> BenchReport:
    """What one call of each method costs in the Python runtime, relative to a plain decode step:
    speculation wins when a verify of T tokens costs little more than one plain step."""
    from edgecpm.runtime.pte import PteModel
    from edgecpm.torch_env import execute_single_threaded

    def per_call(method: str, t: int, with_fr: bool = False) -> list[float]:
        pos = torch.arange(40, 40 + t)
        mask = pos.unsqueeze(1) >= torch.arange(max_seq_len).unsqueeze(0)
        args = {"forward": [pos], "verify": [pos, pos.clone(), mask, no_move, no_move.clone()],
                "draft": [torch.randn(1, t, hidden_size), pos, pos.clone(), mask]}[method]
        call = programs[with_fr].load_method(method)
        return call_ms(lambda: execute_single_threaded(call, [torch.full((1, t), 5), *args]), reps)

    programs = {k: PteModel(b).program for k, b in bundles.items()}
    no_move = torch.zeros(1, dtype=torch.long)
    report = BenchReport(title="One call (ExecuTorch Python runtime, T tokens at positions 40..; vs plain decode "
                               "step: best calls)")

    def add(label: str, t: int, samples: list[float]) -> None:
        report.rows.append(BenchRow(label, None, None, "executorch (python)", executorch_threads(), f"T={t}",
                                    samples, unit="ms", device=cpu_name(),
                                    extra={"vs plain decode step": f"{min(samples) / base:.2f}x"}))

    plain = per_call("forward", 1)
    base = min(plain)
    add("forward (plain decode step)", 1, plain)
    for t in (2, 4, 6, 12):
        add("verify", t, per_call("verify", t))
    for label, with_fr in (("draft, full vocabulary", False), ("draft, FR-Spec", True)):
        for t in (1, 4, 10):
            add(label, t, per_call("draft", t, with_fr))
    return report


def call_ms(fn, reps: int) -> list[float]:
    return in_ms(time_calls(fn, reps))


def parse_draftings(text: str | None):
    from edgecpm.bench_spec.replay import DRAFTINGS, Drafting

    if text is None:
        return DRAFTINGS
    out = []
    for item in text.split(","):
        if item.startswith("chain") and item[5:].isdigit():
            out.append(Drafting.chain(int(item[5:])))
        elif item.startswith("tree") and len(item[4:].split("/")) == 3 and item[4:].replace("/", "").isdigit():
            out.append(Drafting.tree(*map(int, item[4:].split("/"))))
        else:
            raise SystemExit(f"--draftings: {item!r} is not chainN or treeI/K/N")
    return tuple(out)


def shape_main(args) -> None:
    """--shape: the replay-draft pricing (edgecpm.bench_spec), printed as markdown."""
    from benchmarks.peers_artifacts import checkpoints
    from edgecpm.bench_spec.replay import TARGETS
    from edgecpm.bench_spec.shape import price_speculation

    if args.format != "md":
        raise SystemExit("--shape prints markdown tables only: drop --format")
    if not RUNNER.is_file():
        raise SystemExit(f"{RUNNER} is not built: run `make kernels`")
    targets = TARGETS if args.targets is None else tuple(float(t) for t in args.targets.split(","))
    ternary, int4 = checkpoints(args.shape, ROOT / "build" / "peers" / args.shape, False)
    known = {"ternary": ternary, "int4": int4}
    schemes = args.schemes.split(",")
    if not set(schemes) <= set(known):
        raise SystemExit(f"--schemes {args.schemes}: choose from ternary, int4")
    lines = price_speculation({s: known[s] for s in schemes}, ROOT / "build" / "bench-spec" / args.shape, RUNNER,
                              n_gen=args.n, reps=args.shape_reps, threads=args.runner_threads,
                              frspec_size=args.frspec_size or 8192, draft_quant=args.draft_quant,
                              draftings=parse_draftings(args.draftings), targets=targets, say=progress)
    print("\n".join(lines), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--draft", default="tiny-draft")
    ap.add_argument("--frspec", default=None, help="FR-Spec file (default: built from the training split)")
    ap.add_argument("--frspec-size", type=int, default=None, help="default: a quarter of the vocabulary "
                    "(--shape: 8192 random ids)")
    ap.add_argument("--prompts", type=int, default=20)
    ap.add_argument("-n", type=int, default=64, help="tokens generated per prompt")
    ap.add_argument("--threads", type=int, default=1, help="eager: torch threads")
    ap.add_argument("--backends", default="eager,pte,runner", help="any of eager, pte, runner (the "
                    "per-call cost table comes with pte or runner)")
    ap.add_argument("--bundles", type=Path, default=ROOT / "build" / "spec-bench")
    ap.add_argument("--reps", type=int, default=200, help="timed calls per row of the per-call tables")
    ap.add_argument("--shape", choices=["minicpm4-0.5b"], default=None,
                    help="price speculation at this shape with the runner's replay draft (random weights)")
    ap.add_argument("--schemes", default="ternary,int4", help="--shape: the checkpoints to price")
    ap.add_argument("--runner-threads", type=int, default=None, help="--shape: the runner's -t")
    ap.add_argument("--shape-reps", type=int, default=5, help="--shape: interleaved repetitions")
    ap.add_argument("--targets", default=None, help="--shape: mean accepted lengths, e.g. 1,2.5,4 "
                    "(default 1.0 to 4.0 by 0.5)")
    ap.add_argument("--draftings", default=None, help="--shape: e.g. chain3,tree2/10/12 "
                    "(default chain 1-4 and tree 2/10/12)")
    ap.add_argument("--draft-quant", choices=["int8", "int4", "fp32"], default="int8",
                    help="--shape: how the random draft head's own linears are stored")
    add_format_option(ap)
    args = ap.parse_args()
    if args.shape:
        shape_main(args)
        return
    backends = args.backends.split(",")
    torch.set_num_threads(args.threads)

    model_dir = resolve_model(args.model)
    cfg = load_config(model_dir)
    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=256)
    draft = load_draft(resolve_draft(args.draft), cfg).bind(model)
    train_text, held_text = split_text(stdlib_documents())
    prompts = held_out_prompts(tok.encode(held_text), args.prompts, 32, cfg.bos_token_id)
    if args.frspec:
        fr_path = Path(args.frspec)
        fr = load_frspec(fr_path, cfg.vocab_size)
    else:
        size = args.frspec_size or cfg.vocab_size // 4
        fr = top_ids(Counter(tok.encode(train_text)), size, cfg.vocab_size, cfg.eos_token_id)
        args.bundles.mkdir(parents=True, exist_ok=True)
        fr_path = args.bundles / f"frspec-{size}.safetensors"
        save_frspec(fr, fr_path)
    eos = cfg.eos_token_id
    fr_name = f"FR-Spec {fr.ids.numel()}"
    configs = [(name, spec, False) for name, spec in CONFIGS] + \
              [(f"{name} + {fr_name}", spec, True) for name, spec in CONFIGS]

    about = (f"model {args.model} ({cfg.num_parameters / 1e6:.1f}M params, vocab {cfg.vocab_size}), draft "
             f"{args.draft}, {len(prompts)} held-out prompts x {args.n} greedy tokens, FR-Spec {fr.ids.numel()} ids "
             f"({100 * fr.coverage:.1f}% of corpus tokens), torch {torch.__version__}")
    rows, reports, threads = [], [], {}
    if "eager" in backends:
        name = "torch-eager"
        threads[name] = args.threads
        plain = python_plain(model, prompts, args.n, eos)
        rows.append((name, "plain", "-", plain, plain))
        for label, spec, with_fr in configs:
            draft.set_vocab(fr.ids if with_fr else None)
            t = python_spec(EagerBase(model), draft, prompts, args.n, eos, spec)
            rows.append((name, label, "yes" if t.outputs == plain.outputs else "NO", t, plain))
        draft.set_vocab(None)
    if "pte" in backends or "runner" in backends:
        from edgecpm.runtime.pte import PteModel
        from edgecpm.runtime.spec_program import load_pte_spec

        max_seq_len = 32 + 1 + args.n + 32   # + draft headroom: tree 2/10/12 needs 21 slots
        bundles = {False: exported(model_dir, args.draft, None, args.bundles / "full", max_seq_len),
                   True: exported(model_dir, args.draft, fr_path, args.bundles / "frspec", max_seq_len)}
        reports.append(call_costs(bundles, cfg.hidden_size, max_seq_len, args.reps))
        if "pte" in backends:
            name = "executorch (python)"
            threads[name] = executorch_threads()
            programs = {k: PteModel(b) for k, b in bundles.items()}
            plain = python_plain(programs[False], prompts, args.n, eos)
            rows.append((name, "plain", "-", plain, plain))
            for label, spec, with_fr in configs:
                base, pte_draft = load_pte_spec(programs[with_fr])
                t = python_spec(base, pte_draft, prompts, args.n, eos, spec)
                rows.append((name, label, "yes" if t.outputs == plain.outputs else "NO", t, plain))
        if "runner" in backends:
            if not RUNNER.is_file():
                raise SystemExit(f"{RUNNER} is not built: run `make kernels`")
            name = "edgecpm-runner (C++)"
            threads[name] = None  # the runner's default: one per core
            plain = runner(bundles[False], prompts, args.n, [])
            rows.append((name, "plain", "-", plain, plain))
            for label, spec, with_fr in configs:
                t = runner(bundles[with_fr], prompts, args.n, runner_spec_flags(spec))
                rows.append((name, label, "yes" if t.outputs == plain.outputs else "NO", t, plain))
    decoding = BenchReport(decode_rows(rows, f"{args.model} + {args.draft}", cfg.num_parameters / 1e6, args.n, threads),
                           title=f"Speculative decoding: {len(prompts)} held-out prompts x {args.n} greedy tokens "
                                 "(samples: one per prompt)", notes=[about])
    emit([decoding, *reports, head_report(draft, cfg, fr, args.reps)], args.format)


if __name__ == "__main__":
    main()
