"""GPU memory in the fleet gauges: read from torch, only where torch is loaded and sees a CUDA device."""

import sys

import pytest
from antifragile_core.metrics import gpu_memory_allocated

BLOCK_BYTES = 64 * 1024 * 1024


def test_slim_workers_report_no_gpu_and_never_import_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert gpu_memory_allocated() == {}
    assert "torch" not in sys.modules


def test_allocated_tensor_memory_is_reported_per_device() -> None:
    import torch  # locked with worker-ml, so a missing torch fails here; imported late, not at collection

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here; the GPU machine runs this test")
    before = gpu_memory_allocated()
    block = torch.empty(BLOCK_BYTES, dtype=torch.uint8, device="cuda:0")
    after = gpu_memory_allocated()
    assert set(after) == set(range(torch.cuda.device_count()))
    assert after[0] - before[0] >= BLOCK_BYTES
    del block
