"""A per-layer summary of a PyTorch model, like Keras's ``model.summary()``, plus multiply-adds.

``summarize(model, input_shape)`` runs one forward pass with a forward hook on every leaf
module and records its output shape, its parameters and its multiply-adds. The pass runs on
PyTorch's "meta" device by default: shapes propagate, nothing is computed, so even VGG-16 is
summarized in milliseconds and without memory.

Multiply-adds (MACs) per image: a convolution computes (c_in / groups) * KH * KW products for
each of its c_out * H' * W' outputs; a dense layer in_features * out_features. Biases, batch
norm, activations and pooling are counted as 0 (they cost O(outputs), not O(outputs * fan-in)).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from .param_counts import conv2d_mult_adds

__all__ = ["LayerRow", "Summary", "summarize", "mult_adds"]


@dataclass(frozen=True)
class LayerRow:
    name: str  # the module's path in the model, e.g. "features.0"
    kind: str  # its class, e.g. "Conv2d"
    output_shape: tuple[int, ...]  # without the batch axis
    params: int
    mult_adds: int  # per image


@dataclass(frozen=True)
class Summary:
    rows: tuple[LayerRow, ...]
    input_shape: tuple[int, ...]

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def mult_adds(self) -> int:
        return sum(r.mult_adds for r in self.rows)

    def markdown(self, skip_empty: bool = False) -> str:
        """A markdown table: layer, type, output shape, parameters, multiply-adds; then the totals.

        skip_empty drops layers with neither parameters nor multiply-adds whose output shape is
        that of the row before (ReLU, dropout, batch norm's companions) to keep long tables short.
        """
        lines = ["| layer | type | output shape | parameters | multiply-adds |", "|---|---|---|--:|--:|"]
        previous: tuple[int, ...] = self.input_shape[1:]
        for r in self.rows:
            if not (skip_empty and r.params == 0 and r.mult_adds == 0 and r.output_shape == previous):
                lines.append(f"| `{r.name}` | {r.kind} | {' x '.join(map(str, r.output_shape))} | {r.params:,} | "
                             f"{r.mult_adds:,} |")
            previous = r.output_shape
        lines.append(f"| **total** | | | **{self.params:,}** | **{self.mult_adds:,}** |")
        return "\n".join(lines)


def mult_adds(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds per image of one leaf module, given its output (N, ...)."""
    if isinstance(module, nn.Conv2d):
        _, c_out, ho, wo = output.shape
        return conv2d_mult_adds(module.in_channels, c_out, module.kernel_size, (ho, wo), module.groups)
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


def summarize(model: nn.Module, input_shape: tuple[int, ...], device: str | torch.device = "meta") -> Summary:
    """One row per leaf module, in the order the forward pass calls them.

    model: any nn.Module (it is copied, never changed); input_shape: (N, C, H, W) or (N, features).
    A module called twice gets two rows; its parameters are counted once. The totals equal
    ``cnnlib.models.count_parameters(model)`` when every parameter belongs to a leaf module.
    """
    if len(input_shape) < 2 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (N, ...) with positive sizes, got {input_shape!r}")
    copy_ = copy.deepcopy(model).to(device).eval()
    rows: list[LayerRow] = []
    seen: set[int] = set()
    names = {id(m): n for n, m in copy_.named_modules()}

    def hook(module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        params = 0 if id(module) in seen else sum(p.numel() for p in module.parameters(recurse=False))
        seen.add(id(module))
        rows.append(LayerRow(names[id(module)], type(module).__name__, tuple(output.shape[1:]), params,
                             mult_adds(module, output)))

    handles = [m.register_forward_hook(hook) for m in copy_.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            copy_(torch.zeros(input_shape, device=device))
    finally:
        for h in handles:
            h.remove()
    return Summary(tuple(rows), tuple(input_shape))
