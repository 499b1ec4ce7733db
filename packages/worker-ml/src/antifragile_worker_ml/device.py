"""Where training runs: the best accelerator present, with the dtype that suits it."""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Device:
    type: str
    dtype: torch.dtype

    @property
    def name(self) -> str:
        if self.type == "cuda":
            return f"cuda ({torch.cuda.get_device_name()}, {self.dtype})"
        return f"{self.type} ({self.dtype})"


def pick_device() -> Device:
    """CUDA, then MPS, then CPU: bf16 on CUDA (tensor cores, no loss scaling), fp32 elsewhere.

    MPS gets fp32 because its bf16 support is partial and fp16 training would need loss scaling.
    """
    if torch.cuda.is_available():
        return Device("cuda", torch.bfloat16)
    if torch.backends.mps.is_available():
        return Device("mps", torch.float32)
    return Device("cpu", torch.float32)
