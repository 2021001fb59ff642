"""Naive-port checks of the pooling kinds (max_pool, avg_pool, global_avg_pool,
global_max_pool).

Their padding is measured by the generic 'same'-padding check; registered here: the
default field a naive twin tries (``count_include_pad``).
"""

from __future__ import annotations

from compare.core.registry import ANY, register_part

__all__: list[str] = []

register_part(ANY, "default_fields", "avg_pool")(("count_include_pad",))
