"""The attention family, framework-free: ``multi_head_attention`` (self- and
cross-attention): its spec, shapes and parameter formula, weight axis labels, and
weight porting (numpy only).

Inputs. One input is self-attention (query, key and value are the same sequence); two
are ``[query, key_value]`` (cross-attention: the key and the value are one sequence);
three are ``[query, key, value]``, PyTorch's order (Keras calls ``mha(query, value,
key)``). Every input is a sequence ``(channels=features, size=[steps])``, held
(N, steps, features) by Keras and channels-first (N, features, steps) by PyTorch,
whose ``nn.MultiheadAttention(batch_first=True)`` is therefore wrapped in axis moves.
The key and the value must have the same number of steps; the query may have others.
The output has the query's steps and its ``E`` features.

Weights. With ``H`` heads of ``D`` features each (``key_dim``, per head, Keras'
meaning; PyTorch's ``head_dim = embed_dim // num_heads``), Keras holds per-projection
``EinsumDense`` kernels ``query/kernel`` (E, H, D), ``key/kernel`` (Ek, H, D),
``value/kernel`` (Ev, H, D) with biases (H, D), and ``attention_output/kernel``
(H, D, E) with a bias (E,). PyTorch packs the three input projections into one
``in_proj_weight`` (3*H*D, E) (rows q, then k, then v; inside each block, head by
head) and ``in_proj_bias`` (3*H*D,), with ``out_proj.weight`` (E, H*D). When the key or
the value has other than E features PyTorch keeps them apart as ``q_proj_weight``
(H*D, E), ``k_proj_weight`` (H*D, Ek), ``v_proj_weight`` (H*D, Ev), the bias still
packed. PyTorch fixes ``H*D = E``: a Keras layer whose ``num_heads * key_dim`` is not
the query's E features has no ``nn.MultiheadAttention`` equivalent.

Example:
    >>> MultiHeadAttention(num_heads=4).formula((Shape(32, (10,)),)).params
    4224
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import check_bool, check_float, check_int
from compare.core.work import Work
from compare.errors import SpecError
from compare.spec import Layer

__all__ = [
    "INPUT_NAMES",
    "MultiHeadAttention",
    "head_dim",
    "port_attention",
    "weight_axes",
]

#: How many inputs -> what each one is.
INPUT_NAMES: dict[int, tuple[str, ...]] = {
    1: ("query = key = value",),
    2: ("query", "key = value"),
    3: ("query", "key", "value"),
}

#: Keras' projections in PyTorch's packing order (rows of ``in_proj_weight``).
PROJECTIONS = ("query", "key", "value")


def _describe(shape: Shape) -> str:
    if shape.dtype == "int":
        return f"a sequence of {shape.size[0]} integer token ids"
    if shape.rank == 0:
        return f"a flat vector of {shape.channels} features"
    return f"a {shape.rank}-d map of {shape.channels} channels, size {list(shape.size)}"


def head_dim(layer: MultiHeadAttention, embed: int) -> int:
    """Features per head: ``key_dim``, or PyTorch's ``embed_dim // num_heads``.

    Example:
        >>> head_dim(MultiHeadAttention(num_heads=4), 32), head_dim(
        ...     MultiHeadAttention(num_heads=4, key_dim=16), 32)
        (8, 16)
    """
    if layer.key_dim is not None:
        return layer.key_dim
    if embed % layer.num_heads:
        raise SpecError(
            f"num_heads={layer.num_heads} must divide the query's {embed} features when "
            "key_dim is not given (each head then has embed_dim // num_heads features)"
        )
    return embed // layer.num_heads


# -- weight axes ------------------------------------------------------------------------
#: role -> (PyTorch axes, Keras axes); ``Ek`` / ``Ev``: the key's / value's features.
_AXES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "in_proj_kernel": (("3*H*D", "E"), ()),
    "in_proj_bias": (("3*H*D",), ()),
    "query_kernel": (("H*D", "E"), ("E", "H", "D")),
    "key_kernel": (("H*D", "Ek"), ("Ek", "H", "D")),
    "value_kernel": (("H*D", "Ev"), ("Ev", "H", "D")),
    "query_bias": ((), ("H", "D")),
    "key_bias": ((), ("H", "D")),
    "value_bias": ((), ("H", "D")),
    "output_kernel": (("E", "H*D"), ("H", "D", "E")),
    "output_bias": (("E",), ("E",)),
}


def weight_axes(role: str, framework: str) -> tuple[str, ...]:
    """Axis labels of ``role`` as ``framework`` holds it (H heads of D features, E the
    query's features; () for a role the framework does not have).

    Example:
        >>> weight_axes("in_proj_kernel", "torch"), weight_axes("query_kernel", "keras")
        (('3*H*D', 'E'), ('E', 'H', 'D'))
    """
    torch_axes, keras_axes = _AXES.get(role, ((), ()))
    return torch_axes if framework == "torch" else keras_axes


# -- porting ----------------------------------------------------------------------------
def port_attention(
    weights: Mapping[str, np.ndarray],
    heads: int,
    *,
    to: str,
    packed: bool = True,
    transpose: bool = True,
    heads_first: bool = True,
) -> dict[str, np.ndarray]:
    """Port a multi-head attention's role arrays into framework ``to``.

    Torch roles: ``in_proj_kernel`` (or ``query_kernel``, ``key_kernel``,
    ``value_kernel`` when PyTorch keeps them apart), ``in_proj_bias``,
    ``output_kernel``, ``output_bias``; Keras roles: ``{query,key,value}_kernel`` and
    ``_bias``, ``output_kernel``, ``output_bias``. ``packed`` says which torch roles to
    write (keras -> torch). ``transpose=False`` (each block reshaped, not transposed)
    and ``heads_first=False`` (the H*D axis split as (D, H)) are the naive ports
    ``compare.naive`` measures.

    Example:
        >>> w = {"in_proj_kernel": np.arange(12.0).reshape(6, 2),
        ...      "output_kernel": np.eye(2)}
        >>> out = port_attention(w, 1, to="keras")
        >>> out["query_kernel"][:, 0, :].tolist(), out["output_kernel"].shape
        ([[0.0, 2.0], [1.0, 3.0]], (1, 2, 2))
        >>> back = port_attention(out, 1, to="torch")
        >>> bool((back["in_proj_kernel"] == w["in_proj_kernel"]).all())
        True
    """

    def split(n: int) -> tuple[int, int]:
        return (heads, n // heads) if heads_first else (n // heads, heads)

    def to_keras(matrix: np.ndarray) -> np.ndarray:  # (H*D, X) -> (X, H, D)
        rows, cols = matrix.shape
        flat = matrix.T if transpose else matrix.reshape(cols, rows)
        out = flat.reshape(cols, *split(rows))
        return np.ascontiguousarray(out if heads_first else out.transpose(0, 2, 1))

    def to_torch(kernel: np.ndarray) -> np.ndarray:  # (X, H, D) -> (H*D, X)
        cols = kernel.shape[0]
        return np.ascontiguousarray(kernel.reshape(cols, -1).T)

    out: dict[str, np.ndarray] = {}
    if to == "keras":
        if "in_proj_kernel" in weights:
            blocks = np.split(weights["in_proj_kernel"], 3, axis=0)
        else:
            blocks = [weights[f"{p}_kernel"] for p in PROJECTIONS]
        for name, block in zip(PROJECTIONS, blocks, strict=True):
            out[f"{name}_kernel"] = to_keras(block)
        if "in_proj_bias" in weights:
            for name, b in zip(PROJECTIONS, np.split(weights["in_proj_bias"], 3), strict=True):
                bias = b.reshape(split(b.shape[0]))
                out[f"{name}_bias"] = np.ascontiguousarray(bias if heads_first else bias.T)
        wo = weights["output_kernel"]  # (E, H*D) -> (H, D, E)
        out["output_kernel"] = np.ascontiguousarray(to_keras(wo.T).transpose(1, 2, 0))
        if "output_bias" in weights:
            out["output_bias"] = weights["output_bias"].copy()
        return out
    kernels = [to_torch(weights[f"{p}_kernel"]) for p in PROJECTIONS]
    if packed:
        out["in_proj_kernel"] = np.concatenate(kernels, axis=0)
    else:
        out.update({f"{p}_kernel": k for p, k in zip(PROJECTIONS, kernels, strict=True)})
    if "query_bias" in weights:
        out["in_proj_bias"] = np.concatenate([weights[f"{p}_bias"].ravel() for p in PROJECTIONS])
    wo_k = weights["output_kernel"]  # (H, D, E) -> (E, H*D)
    out["output_kernel"] = np.ascontiguousarray(wo_k.reshape(-1, wo_k.shape[-1]).T)
    if "output_bias" in weights:
        out["output_bias"] = weights["output_bias"].copy()
    return out


# -- the spec ---------------------------------------------------------------------------
@register_kind
@dataclass(frozen=True)
class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention over sequences (``nn.MultiheadAttention``,
    ``keras.layers.MultiHeadAttention``): one input (self-attention) or two or three
    (``[query, key_value]`` / ``[query, key, value]``, cross-attention).

    ``key_dim`` is the features per head (Keras' meaning); left out, it is PyTorch's
    ``embed_dim // num_heads``. ``dropout`` drops attention probabilities in training.

    Example:
        >>> MultiHeadAttention(num_heads=4).to_dict()["key_dim"] is None
        True
    """

    num_heads: int = 0
    key_dim: int | None = None
    use_bias: bool = True
    dropout: float = 0.0

    kind: ClassVar[str] = "multi_head_attention"
    min_rank: ClassVar[int] = 1
    #: PyTorch packs roles Keras keeps apart: ported as a whole.
    ported_by_role: ClassVar[bool] = False
    counted_shape_only: ClassVar[bool] = False  # CPU SDPA's fused kernel

    def __post_init__(self) -> None:
        check_int("num_heads", self.num_heads, 1)
        if self.key_dim is not None:
            check_int("key_dim", self.key_dim, 1)
        check_bool("use_bias", self.use_bias)
        object.__setattr__(
            self, "dropout", check_float("dropout", self.dropout, 0.0, 1.0, closed_high=False)
        )

    def settled_fields(self, formula: LayerFormula) -> dict[str, int]:
        """The fields whose value the input decides when left out, as they apply:
        ``key_dim`` (PyTorch's ``embed_dim // num_heads``), so that a PyTorch layer read
        without one and a Keras layer read with it compare as one network.

        Example:
            >>> mha = MultiHeadAttention(num_heads=4)
            >>> mha.settled_fields(mha.formula((Shape(32, (10,)),)))
            {'key_dim': 8}
        """
        return {"key_dim": head_dim(self, formula.input.channels)}

    def formula(self, inputs: tuple[Shape, ...]) -> LayerFormula:
        """Output: the query's steps, E features; parameters of the four projections.

        Example:
            >>> f = MultiHeadAttention(num_heads=2).formula((Shape(8, (5,)), Shape(6, (3,))))
            >>> f.output, f.params
            (Shape(channels=8, size=(5,), flattened_from=None, dtype='float'), 256)
        """
        n = len(inputs)
        if n not in INPUT_NAMES:
            raise SpecError(
                f"kind='{self.kind}' takes 1 input (self-attention), 2 ([query, key_value]) "
                f"or 3 ([query, key, value]), got {n}"
            )
        for shape, what in zip(inputs, INPUT_NAMES[n], strict=True):
            if shape.dtype != "float" or shape.rank != 1:
                raise SpecError(
                    f"kind='{self.kind}' needs sequences (channels=features, size=[steps]), "
                    f"but its {what} is {_describe(shape)}"
                )
        query = inputs[0]
        key, value = (inputs[1], inputs[-1]) if n > 1 else (query, query)
        if key.size != value.size:
            raise SpecError(
                f"kind='{self.kind}': the key ({key.size[0]} steps) and the value "
                f"({value.size[0]} steps) must have the same number of steps"
            )
        e, ek, ev = query.channels, key.channels, value.channels
        h = self.num_heads
        d = head_dim(self, e)
        hd = h * d
        b = 1 if self.use_bias else 0
        params = hd * (e + ek + ev) + 3 * hd * b + hd * e + e * b
        sources = f"{e}+{e}+{e}" if ek == ev == e else f"{e}+{ek}+{ev}"
        proj = f"{h}*{d}*({sources})" + (f"+3*{h}*{d}" if b else "")
        out = f"{h}*{d}*{e}" + (f"+{e}" if b else "")
        expression = f"{proj} + {out} = {params}"
        framework_params: tuple[tuple[str, int], ...] = ()
        if hd != e:
            # PyTorch cannot build it; Keras alone counts.
            framework_params = (("keras", params),)
            expression += f" (num_heads*key_dim = {hd} is not the query's {e} features)"
        return LayerFormula(
            params,
            expression,
            query,
            Shape(e, query.size),
            framework_params=framework_params,
            inputs=inputs if n > 1 else (),
        )

    def work(self, formula: LayerFormula) -> Work:
        """The four projections and both attention matmuls (``Q K^T`` and the weighted
        sum of the values), per head; the biases and the softmax listed apart.

        Example:
            >>> mha = MultiHeadAttention(num_heads=4).resolved(1)
            >>> w = mha.work(mha.formula((Shape(32, (10,)),)))
            >>> w.macs == 10 * 32 * 32 * 4 + 2 * 4 * 10 * 10 * 8
            True
        """
        shapes = formula.input_shapes or (formula.input,)
        query = shapes[0]
        key, value = (shapes[1], shapes[-1]) if len(shapes) > 1 else (query, query)
        lq, lk = query.size[0], key.size[0]
        e, h = query.channels, self.num_heads
        d = head_dim(self, e)
        hd = h * d
        proj = lq * e * hd + lk * key.channels * hd + lk * value.channels * hd
        matmuls = 2 * h * lq * lk * d
        out = lq * hd * e
        macs = proj + matmuls + out
        text = (
            f"{lq}*{e}*{hd} + {lk}*{key.channels}*{hd} + {lk}*{value.channels}*{hd} "
            f"(q, k, v) + 2*{h}*{lq}*{lk}*{d} (scores, weighted values) + {lq}*{hd}*{e} "
            f"(output) = {macs}"
        )
        bias = (lq * hd + 2 * lk * hd + lq * e) if self.use_bias else 0
        return Work(macs, text, bias_adds=bias, other=h * lq * lk)

    def weight_axes(
        self, formula: LayerFormula, role: str, framework: str, ndim: int
    ) -> tuple[str, ...]:
        """Axis labels of ``role`` as ``framework`` holds it (see ``weight_axes``).

        Example:
            >>> mha = MultiHeadAttention(num_heads=2).resolved(1)
            >>> f = mha.formula((Shape(8, (5,)),))
            >>> mha.weight_axes(f, "output_kernel", "keras", 3)
            ('H', 'D', 'E')
        """
        labels = weight_axes(role, framework)
        return labels if len(labels) == ndim else ()

    def port(
        self,
        formula: LayerFormula,
        weights: Mapping[str, np.ndarray],
        dst_shapes: Mapping[str, tuple[int, ...]],
        *,
        to: str,
    ) -> dict[str, np.ndarray]:
        """Unpacked and transposed to Keras, packed to PyTorch (``port_attention``).

        Example:
            >>> mha = MultiHeadAttention(num_heads=2, use_bias=False).resolved(1)
            >>> f = mha.formula((Shape(4, (3,)),))
            >>> w = {"in_proj_kernel": np.zeros((12, 4)), "output_kernel": np.zeros((4, 4))}
            >>> sorted(mha.port(f, w, {}, to="keras"))
            ['key_kernel', 'output_kernel', 'query_kernel', 'value_kernel']
        """
        return port_attention(
            weights, self.num_heads, to=to, packed="in_proj_kernel" in dst_shapes or not dst_shapes
        )
