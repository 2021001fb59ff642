"""Named differences of the embedding kind: its table is held alike in both."""

from __future__ import annotations

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, copied_table
from compare.records import Difference

__all__ = ["embeddings_layout"]


@register_part(ANY, "weight_differences", "embedding")
def embeddings_layout(facts: LayerFacts) -> list[Difference]:
    """The embedding table, one row per id in both: a port is a copy.

    Example:
        >>> from compare.adapters.base import WeightFact
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Embedding, Input, Model
        >>> m = Model("m", Input(1, (7,), dtype="int"), (Embedding(input_dim=5, output_dim=2),))
        >>> w_t = WeightFact("weight", (5, 2), ("V", "D"), True, "embeddings")
        >>> w_k = WeightFact("embeddings", (5, 2), ("V", "D"), True, "embeddings")
        >>> t = FrameworkLayer("torch", True, weights=(w_t,))
        >>> k = FrameworkLayer("keras", True, weights=(w_k,))
        >>> [d.detail for d in embeddings_layout(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['PyTorch weight and Keras embeddings are both (5, 2) [V,D] (one row per id): a port ...']
    """
    table = copied_table(facts, "embeddings", "embeddings_layout", "one row per id")
    return [] if table is None else [table]
