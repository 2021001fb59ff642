"""PyTorch builder and initialisers of the ``embedding`` kind: ``nn.Embedding`` then
``MoveAxis(-1, 1)``, the channels-first (N, features, steps) of every rank-1 activation.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Embedding, Input, Model
    >>> m = Model("m", Input(1, (5,), dtype="int"), (Embedding(input_dim=10, output_dim=3),))
    >>> build_embedding(m.layers[0], infer(m)[0])[0][0]
    Embedding(10, 3)
"""

from __future__ import annotations

from torch import nn

from compare.adapters.base import Made, Notes
from compare.adapters.torch_defaults import fan_in_uniform
from compare.adapters.torch_modules import MoveAxis
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.embedding.spec import Embedding

__all__ = ["build_embedding"]

# What the reports have shown so far: the fan-in rule of nn.Linear, read off the
# table's (input_dim, output_dim) weight. nn.Embedding really draws from N(0, 1) (the
# build's "initializers" note says so, and the measured std shows it).
register_part("torch", "initialisers", "embedding")(fan_in_uniform)


@register_part("torch", "build", "embedding")
def build_embedding(layer: Embedding, formula: LayerFormula) -> Made:
    """``nn.Embedding`` and a move of its features to the channel axis.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (5,), dtype="int"), (Embedding(input_dim=10, output_dim=3),))
        >>> sorted(build_embedding(m.layers[0], infer(m)[0])[1])
        ['embeddings']
    """
    emb = nn.Embedding(layer.input_dim, layer.output_dim)
    steps = formula.input.size[0]
    weight = emb.weight.detach()
    read_back = (
        ""
        if weight.is_meta  # meta tensors (the shape-only mode) have no values to read
        else f" (read back: mean {float(weight.mean()):.3g}, "
        f"std {float(weight.std(correction=0)):.3g})"
    )
    notes: Notes = (
        (
            "sequence_layout",
            f"nn.Embedding returns (N, {steps}, {layer.output_dim}); MoveAxis(-1, 1) makes "
            f"it the channels-first (N, {layer.output_dim}, {steps}) of every rank-1 activation",
        ),
        (
            "initializers",
            f"reset_parameters draws the table from N(0, 1){read_back}",
        ),
        (
            "input_dtype",
            "ids must be an integer tensor (int64 here); a float tensor raises; an id "
            f"outside [0, {layer.input_dim}) raises IndexError",
        ),
        ("masking", f"padding_idx={emb.padding_idx}: no row is kept at zero"),
    )
    module = nn.Sequential(emb, MoveAxis(-1, 1))
    return module, {"embeddings": (emb, "weight")}, notes
