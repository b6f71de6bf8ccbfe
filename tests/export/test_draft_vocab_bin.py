"""draft_vocab.bin: a header (magic + version, count) that readers check before trusting an id."""

from __future__ import annotations

import pytest

from edgecpm.errors import CheckpointError
from edgecpm.export.draft_vocab_bin import MAGIC, draft_vocab_bin_bytes, read_draft_vocab_bin, write_draft_vocab_bin


def test_round_trip(tmp_path):
    write_draft_vocab_bin(tmp_path / "d.bin", [2, 0, 73447])
    assert (tmp_path / "d.bin").read_bytes()[:8] == MAGIC
    assert read_draft_vocab_bin(tmp_path / "d.bin") == [2, 0, 73447]


@pytest.mark.parametrize("data, message", [
    (b"\x02" + bytes(7) * 3, "no ECPMDVB1 header"),                      # the headerless old format
    (draft_vocab_bin_bytes([1, 2, 3])[:-8], "counts 3 ids but it holds 16 bytes"),  # truncated
    (b"ECPMDVB2" + draft_vocab_bin_bytes([1])[8:], "no ECPMDVB1 header"),  # another version
])
def test_other_files_are_refused(tmp_path, data, message):
    (tmp_path / "d.bin").write_bytes(data)
    with pytest.raises(CheckpointError, match=message):
        read_draft_vocab_bin(tmp_path / "d.bin")
