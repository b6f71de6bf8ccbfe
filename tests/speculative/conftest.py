import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """These tests run many tiny matmuls: on a shared 2-core machine, intra-op threads only spin
    against each other (measured: 60 ms per 64-wide linear with 2 threads under load, 1 ms with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
