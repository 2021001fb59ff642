"""Named differences of the position kind: neither framework has the layer, and the
table is held alike (steps by features) by the two modules of ours."""

from __future__ import annotations

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, copied_table
from compare.records import Difference

__all__ = ["position_table"]


@register_part(ANY, "weight_differences", "position_embedding")
def position_table(facts: LayerFacts) -> list[Difference]:
    """The position table, one row per step in both: a port is a copy; the layer is a
    module of ours on both sides.

    Example:
        >>> from compare.adapters.base import WeightFact
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.position.spec import PositionEmbedding
        >>> m = Model("m", Input(2, (5,)), (PositionEmbedding(),))
        >>> w_t = WeightFact("weight", (5, 2), ("L", "E"), True, "embeddings")
        >>> w_k = WeightFact("embeddings", (5, 2), ("L", "E"), True, "embeddings")
        >>> t = FrameworkLayer("torch", True, weights=(w_t,))
        >>> k = FrameworkLayer("keras", True, weights=(w_k,))
        >>> [d.what for d in position_table(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['position_table', 'no_layer']
    """
    table = copied_table(
        facts,
        "embeddings",
        "position_table",
        "one row per step",
        "; a PyTorch model's own (1, steps, features) parameter is the same table with a "
        "batch axis of 1",
    )
    if table is None:
        return []
    return [
        table,
        Difference(
            "no_layer",
            "neither PyTorch nor Keras has a layer adding learned positions (keras_hub's "
            "PositionEmbedding returns the table, to be added): both sides are a small "
            "module of ours, x + table",
            torch="nn.Parameter added in forward",
            keras="no core layer",
        ),
    ]
