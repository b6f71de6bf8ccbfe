"""The rows that ``edgecpm bench`` and every benchmark in ``benchmarks/`` print, and their printers
(markdown, csv, json, jsonl), so all speed figures share one schema.

A row has llama-bench's columns (model, size, params, backend, threads, test), the device it ran
on, the raw samples and their unit (``t/s``: tokens per second, one sample per repetition;
``ms``: milliseconds per call, for op-level benchmarks), and what is derived from them: mean ± sd,
median and, where the row knows the bytes of weights a token or a call streams, GB/s; on a device
that reports power (a Jetson's tegrastats), the mean W of each repetition and tokens per joule; the
native runner's peak resident memory (MiB); and the copy bandwidth measured on the machine the row
ran on, with decode's weight GB/s as a percentage of it (``bw_pct``: how near the memory roofline). Columns
that only one benchmark has (a ratio to a baseline, acceptance of a draft) go in ``extra`` and
print after the standard ones. The schema is this one dataclass: a new standard column is a new
field with a default, and every printer picks it up from ``row_dict``.
"""

from __future__ import annotations

import csv
import io
import json
import platform
from dataclasses import asdict, dataclass, field, fields

from edgecpm.bench_timing import mean, median, sd
from edgecpm.runtime.device_info import describe

FORMATS = ("md", "csv", "json", "jsonl")
UNITS = ("t/s", "ms")
DERIVED = ("mean", "sd", "median", "weight_gb_s", "bw_pct", "watts", "tokens_per_j")  # computed, never read back
LISTS = ("samples", "power_w")  # one csv cell each, space-separated


@dataclass
class BenchRow:
    model: str
    size_mib: float | None  # stored weights streamed per token (t/s rows) or per call (ms rows)
    params_m: float | None
    backend: str
    threads: int | None
    test: str
    samples: list[float]
    unit: str = "t/s"
    device: str = ""
    extra: dict[str, float | str] = field(default_factory=dict)
    power_w: list[float] | None = None  # a device's mean power during each repetition (tegrastats)
    peak_rss_mib: float | None = None  # the native runner's peak resident memory over the row's runs
    copy_gb_s: float | None = None  # memcpy GB/s (read + written) on the machine the row ran on

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"BenchRow unit {self.unit!r}: choose one of {', '.join(UNITS)}")
        if not self.samples:
            raise ValueError(f"BenchRow {self.model} / {self.test}: no samples")

    @property
    def mean(self) -> float:
        return mean(self.samples)

    @property
    def sd(self) -> float:
        return sd(self.samples)

    @property
    def median(self) -> float:
        return median(self.samples)

    @property
    def weight_gb_s(self) -> float | None:
        """Stored weight bytes streamed per second (the roofline measure), from the mean: each
        decoded token (a ``tg`` test) or each call of an op reads every weight once; prefill
        amortises them over the chunk, so ``pp`` rows have none."""
        if self.size_mib is None:
            return None
        nbytes = self.size_mib * 2**20
        if self.unit == "ms":
            return nbytes / (self.mean / 1e3) / 1e9
        return nbytes * self.mean / 1e9 if self.test.startswith("tg") else None

    @property
    def bw_pct(self) -> float | None:
        """Weight GB/s as a percentage of the machine's measured copy bandwidth."""
        gb_s = self.weight_gb_s
        return None if gb_s is None or not self.copy_gb_s else 100 * gb_s / self.copy_gb_s

    @property
    def watts(self) -> float | None:
        return mean(self.power_w) if self.power_w else None

    @property
    def tokens_per_j(self) -> float | None:
        """Each repetition's rate over its own power: a run's tokens per joule."""
        if not self.power_w or self.unit != "t/s":
            return None
        return mean([t / w for t, w in zip(self.samples, self.power_w)])

    @classmethod
    def from_dict(cls, d: dict) -> BenchRow:
        """The row back from ``row_dict`` (derived values are recomputed, not read)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def row_dict(row: BenchRow) -> dict:
    return {**asdict(row), **{k: getattr(row, k) for k in DERIVED}}


def num(x: float) -> str:
    """Enough digits to compare rows, whatever the magnitude (tok/s in the hundreds, µs in ms)."""
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.3g}"


def _cell(v) -> str:
    return num(v) if isinstance(v, float) else str(v)


def _extra_keys(rows: list[BenchRow]) -> list[str]:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r.extra if k not in keys]
    return keys


def cpu_name() -> str:
    """The host CPU's model name (Linux /proc/cpuinfo), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass
class BenchReport:
    rows: list[BenchRow] = field(default_factory=list)
    title: str = ""  # a heading over the markdown table
    notes: list[str] = field(default_factory=list)  # text lines after the markdown table (ratios, agreement)
    summary: dict = field(default_factory=dict)  # the same, machine-readable: json's other top-level keys
    fingerprint: dict | None = None  # a remote device's (runtime.device_info), warnings included: json's "device"

    def markdown(self) -> str:
        units = {r.unit for r in self.rows}
        value_head = units.pop() if len(units) == 1 else "mean ± sd"
        with_gbs = any(r.weight_gb_s is not None for r in self.rows)
        with_power = any(r.power_w for r in self.rows)
        with_bw = any(r.bw_pct is not None for r in self.rows)
        with_rss = any(r.peak_rss_mib is not None for r in self.rows)
        extra = _extra_keys(self.rows)
        head = ["model", "size", "params", "backend", "threads", "test", value_head, "median",
                *(["GB/s"] if with_gbs else []),
                *(["% bw"] if with_bw else []), *(["peak RSS"] if with_rss else []), *(["W", "tok/J"] if with_power else []), "device", *extra]
        lines = ([f"### {self.title}", ""] if self.title else []) + \
            ([describe(self.fingerprint), ""] if self.fingerprint else []) + \
            ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        for r in self.rows:
            unit = "" if value_head in UNITS else f" {r.unit}"
            cells = [r.model, "" if r.size_mib is None else f"{num(r.size_mib)} MiB",
                     "" if r.params_m is None else f"{r.params_m:.2f} M", r.backend,
                     "" if r.threads is None else str(r.threads), r.test,
                     f"{num(r.mean)} ± {num(r.sd)}{unit}", f"{num(r.median)}{unit}"]
            if with_gbs:
                cells.append("" if r.weight_gb_s is None else f"{r.weight_gb_s:.2f}")
            if with_bw:
                cells.append("" if r.bw_pct is None else f"{r.bw_pct:.1f}")
            if with_rss:
                cells.append("" if r.peak_rss_mib is None else f"{r.peak_rss_mib:.0f} MiB")
            if with_power:
                cells += ["" if r.watts is None else f"{r.watts:.2f}",
                          "" if r.tokens_per_j is None else f"{r.tokens_per_j:.2f}"]
            cells += [r.device, *(_cell(r.extra[k]) if k in r.extra else "" for k in extra)]
            lines.append("| " + " | ".join(cells) + " |")
        if self.notes:
            lines += [""] + self.notes
        return "\n".join(lines)

    def csv(self) -> str:
        """One line per row; samples (and power) space-separated in one column each; ``extra`` keys as
        columns."""
        extra = _extra_keys(self.rows)
        base = [f.name for f in fields(BenchRow) if f.name not in (*LISTS, "extra")]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*base, *DERIVED, *LISTS, *extra])
        for r in self.rows:
            d = row_dict(r)
            writer.writerow([*("" if d[k] is None else d[k] for k in (*base, *DERIVED)),
                             *(" ".join(repr(v) for v in d[k] or ()) for k in LISTS),
                             *(r.extra.get(k, "") for k in extra)])
        return out.getvalue().rstrip("\n")

    def json(self) -> str:
        body = {"rows": [row_dict(r) for r in self.rows], **self.summary}
        if self.fingerprint is not None:
            body["device"] = self.fingerprint
        if self.notes:
            body["notes"] = self.notes
        return json.dumps(body, indent=2)

    def jsonl(self) -> str:
        """One row per line (appendable across runs: ``>> results.jsonl``)."""
        return "\n".join(json.dumps(row_dict(r)) for r in self.rows)

    def render(self, fmt: str) -> str:
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
        return {"md": self.markdown, "csv": self.csv, "json": self.json, "jsonl": self.jsonl}[fmt]()


def parse_rows(text: str, fmt: str) -> list[BenchRow]:
    """Rows read back from the csv, json or jsonl printers' output."""
    if fmt == "json":
        return [BenchRow.from_dict(d) for d in json.loads(text)["rows"]]
    if fmt == "jsonl":
        return [BenchRow.from_dict(json.loads(line)) for line in text.splitlines() if line.strip()]
    if fmt != "csv":
        raise ValueError(f"parse_rows: format {fmt!r} is not machine-readable; use csv, json or jsonl")
    reader = csv.DictReader(io.StringIO(text))
    standard = {f.name for f in fields(BenchRow)} | set(DERIVED)
    rows = []
    for d in reader:
        extra = {k: _number_or_text(v) for k, v in d.items() if k not in standard and v != ""}
        rows.append(BenchRow(
            model=d["model"], size_mib=_optional(d["size_mib"], float), params_m=_optional(d["params_m"], float),
            backend=d["backend"], threads=_optional(d["threads"], int), test=d["test"],
            samples=[float(s) for s in d["samples"].split()], unit=d["unit"], device=d["device"], extra=extra,
            power_w=[float(w) for w in d["power_w"].split()] or None,
            peak_rss_mib=_optional(d.get("peak_rss_mib", ""), float), copy_gb_s=_optional(d.get("copy_gb_s", ""), float)))
    return rows


def _optional(text: str, kind):
    return None if text == "" else kind(text)


def _number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
