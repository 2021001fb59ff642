"""Named differences and naive-port checks of the pooling kinds (max_pool, avg_pool,
global_avg_pool, global_max_pool).

Their padding is measured by the generic 'same'-padding check; registered here: the
default field a naive twin tries (``count_include_pad``) and why each default matters.
"""

from __future__ import annotations

from compare.core.registry import ANY, register_part

__all__: list[str] = []

POOLS = ("max_pool", "avg_pool")
GLOBAL_POOLS = ("global_avg_pool", "global_max_pool")

register_part(ANY, "default_fields", "avg_pool")(("count_include_pad",))

register_part(ANY, "explain", *POOLS)(
    {
        "pool_size": "the pooling window",
        "strides": "the step between windows (both default to the window)",
        "padding": "PyTorch's padding is an integer (0), Keras' a mode ('valid')",
        "ceil_mode": "PyTorch can add a last, partial window; Keras has no such option",
        "count_include_pad": (
            "whether padded zeros count in the average's divisor; Keras has no parameter: "
            "its 'same' always excludes them"
        ),
    }
)

register_part(ANY, "explain", *GLOBAL_POOLS)(
    {"keepdims": "whether the pooled spatial axes stay as size-1 axes"}
)
