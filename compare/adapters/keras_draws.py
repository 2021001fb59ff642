"""Keras initialiser draws, memoised: a draw is a pure function of the initialiser.

A Keras initializer seeded with an integer (every unseeded one draws its integer seed
when it is made, and ``KerasAdapter`` seeds that draw with the spec's seed and the
layer's index) gives the same values on every call with the same shape and dtype:
TensorFlow's stateless random ops. A sweep builds the same kernel shape with the same
seed over and over (300 random convs have 48 distinct kernel shapes), and each Glorot
draw is about 1 ms of eager TensorFlow ops. While a layer is built, its
``*_initializer`` attributes are wrapped so that a draw already made is handed back
instead of being drawn again: the layer's variables hold exactly the values Keras
would have drawn, the layer's own initialiser objects are put back afterwards.

Only Keras' own initializer classes, with an integer seed (or none: ``Zeros``,
``Ones``...) and a configuration JSON can write, are memoised; a ``SeedGenerator``
seed is stateful and is drawn every time. The memo holds TensorFlow tensors, which
TensorFlow never writes in place while a variable shares them (copy on write). It is
bounded: draws of up to ``MAX_DRAW_BYTES`` each, ``MAX_BYTES`` in all, least recently
used first out. The standard deviation the full report measures on a fresh weight is
kept with the key of its draw too (``Draws.measure``): measured on the first read of
the variable, handed back after (``KerasAdapter.fresh_stds``).

Example:
    >>> import numpy as np
    >>> draws = Draws()
    >>> layer = keras.layers.Dense(3, name="d")
    >>> with draws.memoised(layer):
    ...     layer.build((None, 4))
    >>> twin = keras.layers.Dense(3, name="d", kernel_initializer=layer.kernel_initializer)
    >>> with draws.memoised(twin):
    ...     twin.build((None, 4))
    >>> draws.hits, np.array_equal(twin.kernel.numpy(), layer.kernel.numpy())  # kernel, bias
    (2, True)
"""

from __future__ import annotations

import contextlib
import json
import math
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import tensorflow as tf

from compare.adapters._keras_import import keras

__all__ = ["MAX_BYTES", "MAX_DRAW_BYTES", "MAX_MEASURED", "Draws"]

#: The largest draw kept (bytes): a sweep's kernels, not a real model's big ones.
MAX_DRAW_BYTES = 1 << 20
#: All draws kept together (bytes).
MAX_BYTES = 32 << 20
#: Measured statistics kept (one float each, by the key of the draw measured).
MAX_MEASURED = 1 << 16


class _Memoised(keras.initializers.Initializer):
    """``init`` called through the memo (what Keras calls while the layer builds);
    the key of each draw is noted in ``drawn`` under the attribute ``name``."""

    def __init__(self, init: Any, draws: Draws, drawn: dict[str, Any], name: str) -> None:
        self.init, self.draws, self.drawn, self.name = init, draws, drawn, name

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Any:
        key = None if kwargs else self.draws.key(self.init, shape, dtype)
        # one attribute drawing twice with different keys: neither is its draw
        self.drawn[self.name] = key if self.drawn.get(self.name, key) == key else None
        if key is not None and key in self.draws.store:
            self.draws.store.move_to_end(key)
            self.draws.hits += 1
            return self.draws.store[key][0]
        value = self.init(shape, dtype=dtype, **kwargs)
        if key is not None:
            self.draws.keep(key, value)
        return value

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = self.init.get_config()
        return config


class Draws:
    """The memo of initialiser draws (one per ``KerasAdapter``)."""

    def __init__(self) -> None:
        self.store: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        # layer -> {initializer attribute: key of the draw it made}, for as long as
        # the layer lives; and the measured statistic of each draw, by key
        self.drawn: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
        self.measured: OrderedDict[Any, float] = OrderedDict()

    @staticmethod
    def key(init: Any, shape: Any, dtype: Any) -> Any:
        """What determines ``init``'s draw, or None where it cannot be memoised.

        Example:
            >>> init = keras.initializers.GlorotUniform(seed=1)
            >>> Draws.key(init, (2, 3), "float32")[2:]
            (1, (2, 3), 'float32')
            >>> stateful = keras.initializers.GlorotUniform(keras.random.SeedGenerator(1))
            >>> Draws.key(stateful, (2,), "float32") is None
            True
        """
        if dtype is None or not type(init).__module__.startswith("keras."):
            return None  # no dtype: Keras' floatx, which a user may change between builds
        seed = getattr(init, "seed", None)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            return None
        try:
            config = json.dumps(init.get_config(), sort_keys=True)
            dims = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            return None
        return (type(init), config, seed, dims, str(dtype))

    def keep(self, key: Any, value: Any) -> None:
        """Keep the eager tensor ``value`` drawn for ``key``, within the bounds."""
        if not tf.is_tensor(value) or not tf.executing_eagerly():
            return
        size = math.prod(key[3]) * value.dtype.size
        if size > MAX_DRAW_BYTES:
            return
        self.store[key] = (value, size)
        self.bytes += size
        while self.bytes > MAX_BYTES:
            _, (_, dropped) = self.store.popitem(last=False)
            self.bytes -= dropped

    def clear(self) -> None:
        """Forget every draw."""
        self.store.clear()
        self.bytes = 0
        self.measured.clear()

    def key_of(self, layer: Any, attr: str, variable: Any) -> Any:
        """The key of the one draw ``layer``'s initializer attribute ``attr`` made
        while it was built through the memo, when that draw is the whole of
        ``variable`` (its shape and dtype); else None (not built so, no key, several
        draws, or a draw that is only part of the variable, as in an LSTM's bias).

        Example:
            >>> draws = Draws()
            >>> dense = keras.layers.Dense(3, name="d")
            >>> with draws.memoised(dense):
            ...     dense.build((None, 4))
            >>> draws.key_of(dense, "kernel_initializer", dense.kernel)[3:]
            ((4, 3), 'float32')
            >>> draws.key_of(dense, "kernel_initializer", dense.bias) is None
            True
        """
        key = self.drawn.get(layer, {}).get(attr)
        whole = (tuple(int(d) for d in variable.shape), str(variable.dtype))
        return key if key is not None and key[3:] == whole else None

    def measure(self, key: Any, measure: Callable[[], float]) -> float:
        """``measure()`` of the draw ``key`` names, made once per key: a draw is a pure
        function of its key, so is any statistic of its values (kept for at most
        ``MAX_MEASURED`` keys, least recently used first out).

        Example:
            >>> draws = Draws()
            >>> key = Draws.key(keras.initializers.Zeros(), (2,), "float32")
            >>> draws.measure(key, lambda: 1.0), draws.measure(key, lambda: 2.0)
            (1.0, 1.0)
        """
        if key in self.measured:
            self.measured.move_to_end(key)
            return self.measured[key]
        value = self.measured[key] = measure()
        if len(self.measured) > MAX_MEASURED:
            self.measured.popitem(last=False)
        return value

    @contextlib.contextmanager
    def memoised(self, layer: Any) -> Iterator[None]:
        """While building ``layer`` (and its RNN cell), its ``*_initializer``
        attributes draw through the memo; the layer's own are put back afterwards."""
        owners = [o for o in (layer, getattr(layer, "cell", None)) if o is not None]
        saved = [
            (o, k, v)
            for o in owners
            for k, v in vars(o).items()
            if k.endswith("_initializer") and isinstance(v, keras.initializers.Initializer)
        ]
        try:
            for owner in owners:  # this build's draws, not an earlier build's
                self.drawn[owner] = {}
            for owner, name, init in saved:
                drawn = self.drawn[owner]
                setattr(owner, name, _Memoised(init, self, drawn, name))
            yield
        finally:
            for owner, name, init in saved:
                setattr(owner, name, init)
