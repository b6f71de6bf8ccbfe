"""The shared bench rows and their printers: every machine-readable format gives the row back,
markdown shows the derived columns, and the schema refuses what it cannot print."""

from __future__ import annotations

import json

import pytest

from edgecpm.bench_records import FORMATS, BenchReport, BenchRow, num, parse_rows


def sample_rows() -> list[BenchRow]:
    return [
        BenchRow("tiny (int4 g32)", 3.5, 9.75, "torch-eager", 2, "pp8", [100.0, 110.0, 120.0], device="cpu x"),
        BenchRow("tiny (int4 g32)", 3.5, 9.75, "torch-eager", 2, "tg4", [10.0, 12.0, 20.0], device="cpu x"),
        BenchRow("linear 4096x4096", 8.0, None, "xnnpack", None, "gemv", [0.5, 0.25], unit="ms",
                 extra={"vs fp32": 2.0, "path": "int4, \"quoted\""}),
    ]


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "md"])
def test_machine_readable_formats_round_trip(fmt):
    rows = sample_rows()
    assert parse_rows(BenchReport(rows).render(fmt), fmt) == rows


def test_json_keeps_derived_values_summary_and_notes():
    report = BenchReport(sample_rows(), notes=["ratio 2x"], summary={"agreement": {"top1_match": 1.0}})
    body = json.loads(report.json())
    tg = body["rows"][1]
    assert tg["mean"] == 14.0 and tg["median"] == 12.0 and tg["samples"] == [10.0, 12.0, 20.0]
    assert tg["weight_gb_s"] == pytest.approx(3.5 * 2**20 * 14.0 / 1e9)
    assert body["rows"][0]["weight_gb_s"] is None  # prefill amortises the weights over the chunk
    assert body["rows"][2]["weight_gb_s"] == pytest.approx(8 * 2**20 / 0.375e-3 / 1e9)  # one read per call
    assert body["agreement"] == {"top1_match": 1.0} and body["notes"] == ["ratio 2x"]
    assert [json.loads(line)["test"] for line in report.jsonl().splitlines()] == ["pp8", "tg4", "gemv"]


def test_markdown_columns_units_and_notes():
    md = BenchReport(sample_rows(), title="T", notes=["ratio 2x"]).markdown().splitlines()
    assert md[:2] == ["### T", ""]
    assert md[2] == ("| model | size | params | backend | threads | test | mean ± sd | median | GB/s | device "
                     "| vs fp32 | path |")
    assert md[5] == ("| tiny (int4 g32) | 3.50 MiB | 9.75 M | torch-eager | 2 | tg4 | 14.00 ± 5.29 t/s | 12.00 t/s "
                     f"| {3.5 * 2**20 * 14 / 1e9:.2f} | cpu x |  |  |")
    assert md[6].startswith("| linear 4096x4096 | 8.00 MiB |  | xnnpack |  | gemv | 0.375 ± 0.177 ms | 0.375 ms |")
    assert md[6].endswith("|  | 2.00 | int4, \"quoted\" |")
    assert md[-2:] == ["", "ratio 2x"]
    # One unit for every row: it heads the column and the cells carry none.
    one_unit = BenchReport(sample_rows()[:2]).markdown().splitlines()
    assert one_unit[0].startswith("| model | size | params | backend | threads | test | t/s | median |")
    assert "| 14.00 ± 5.29 | 12.00 |" in one_unit[3]


def test_peak_memory_and_copy_bandwidth_columns():
    tg = BenchRow("m", 512.0, 1.0, "edgecpm-runner", 4, "tg8 @ d64", [20.0, 30.0], peak_rss_mib=700.5, copy_gb_s=40.0)
    pp = BenchRow("m", 512.0, 1.0, "edgecpm-runner", 4, "pp8", [200.0], peak_rss_mib=700.5, copy_gb_s=40.0)
    assert tg.bw_pct == pytest.approx(100 * 512 * 2**20 * 25 / 1e9 / 40) and pp.bw_pct is None
    assert BenchRow("m", 512.0, 1.0, "b", 4, "tg8", [20.0]).bw_pct is None   # no copy bandwidth measured
    for fmt in ("csv", "json", "jsonl"):
        assert parse_rows(BenchReport([pp, tg]).render(fmt), fmt) == [pp, tg]
    assert json.loads(BenchReport([tg]).jsonl())["bw_pct"] == pytest.approx(tg.bw_pct)
    md = BenchReport([pp, tg]).markdown().splitlines()
    assert md[0].endswith("| GB/s | % bw | peak RSS | device |")
    assert md[3].endswith(f"| {tg.weight_gb_s:.2f} | {tg.bw_pct:.1f} | 700 MiB |  |")


def test_numbers_keep_their_digits_at_any_magnitude():
    assert [num(x) for x in (374.04, 17.271, 0.01234)] == ["374.0", "17.27", "0.0123"]


def test_rows_without_samples_or_with_an_unknown_unit_are_refused():
    with pytest.raises(ValueError, match="no samples"):
        BenchRow("m", None, None, "b", 1, "t", [])
    with pytest.raises(ValueError, match="unit 'us'"):
        BenchRow("m", None, None, "b", 1, "t", [1.0], unit="us")
    with pytest.raises(ValueError, match="choose one of md, csv, json, jsonl"):
        BenchReport(sample_rows()).render("xml")
