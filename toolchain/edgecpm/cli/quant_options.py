"""``edgecpm quantize``'s options → a quant config, refusing the ones the chosen scheme ignores.

Each scheme has its own options (ternary: ``--layout``; int4: ``--asym``, ``--method`` and, for
GPTQ, the calibration ones). Given to the other scheme they used to be dropped without a word,
so a user could believe in a ``--method gptq`` ternary model; now they are refused.
"""

from __future__ import annotations

from pathlib import Path

import typer

from edgecpm.cli.bounds import check_range, refuse_unless


def _check_group_size(scheme: str, group_size: int | None) -> None:
    from edgecpm.quant.formats import INT4_GROUP_SIZES, TERNARY_GROUP_SIZES

    if group_size is None:
        return
    if scheme == "ternary" and group_size not in (0, *TERNARY_GROUP_SIZES):
        raise typer.BadParameter(f"--group-size {group_size}: ternary takes {', '.join(map(str, TERNARY_GROUP_SIZES))} "
                                 "or 0 (per-channel)")
    if scheme == "int4" and group_size not in INT4_GROUP_SIZES:
        raise typer.BadParameter(f"--group-size {group_size}: int4 takes {', '.join(map(str, INT4_GROUP_SIZES))}")


def quant_config(scheme: str, group_size: int | None, method: str | None, asym: bool, layout: str | None,
                 embeddings: str, calib: Path | None, calib_seqs: int | None, calib_len: int | None,
                 skip_first: int | None):
    from edgecpm.quant.config import Int4Config, TernaryConfig

    if scheme not in ("ternary", "int4"):
        raise typer.BadParameter(f"--scheme {scheme!r}: choose ternary or int4")
    gptq = {"--calib": calib, "--calib-seqs": calib_seqs, "--calib-len": calib_len, "--skip-first": skip_first}
    _check_group_size(scheme, group_size)
    if scheme == "ternary":
        refuse_unless(False, {"--method": method, "--asym": asym, **gptq},
                      "only for --scheme int4; ternary has one quantizer (BitCPM absmean, or an "
                      "already-ternary checkpoint's own values)")
        return TernaryConfig(group_size=TernaryConfig.group_size if group_size is None else group_size,
                             layout=layout or TernaryConfig.layout, embeddings=embeddings).validate()
    refuse_unless(False, {"--layout": layout}, "only for --scheme ternary (tq2_0 or tq1_0); int4 has one layout")
    method = method or "rtn"
    refuse_unless(method == "gptq", gptq, f"only for --method gptq; {method} does not calibrate")
    check_range("--calib-seqs", calib_seqs, 1)
    defaults = Int4Config()
    config = Int4Config(group_size=defaults.group_size if group_size is None else group_size,
                        symmetric=not asym, method=method,
                        skip_first=defaults.skip_first if skip_first is None else skip_first,
                        calib_sequences=defaults.calib_sequences if calib_seqs is None else calib_seqs,
                        calib_seq_len=defaults.calib_seq_len if calib_len is None else calib_len,
                        embeddings=embeddings)
    config.validate()
    check_range("--skip-first", config.skip_first, 0, config.calib_seq_len - 1,
                " (positions dropped from each calibration sequence, fewer than --calib-len)")
    return config
