"""Hidden states of a llama.cpp context, read through its evaluation callback (``cb_eval``).

llama.cpp names each block's output ``l_out-<i>`` (0-based); layer ``L`` here is block
``L - 1``'s output, the residual stream before the final norm (``L`` = the block count is the
last layer). The callback is asked about every node of every graph it evaluates, so only a
context made for capturing gets one (``capturing_llama``); while ``on``, each evaluation adds
the last token's row of each wanted layer to a running sum.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
import numpy as np
from llama_cpp._ggml import libggml
from llama_cpp.llama import Llama

libggml.ggml_get_name.argtypes = [ctypes.c_void_p]
libggml.ggml_get_name.restype = ctypes.c_char_p
libggml.ggml_nelements.argtypes = [ctypes.c_void_p]
libggml.ggml_nelements.restype = ctypes.c_int64
libggml.ggml_backend_tensor_get.argtypes = [
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_size_t,
]
libggml.ggml_backend_tensor_get.restype = None
_PATCH_LOCK = threading.Lock()


class HiddenStates:
    """Running sums of the wanted layers' last-token rows while ``on``."""

    def __init__(self) -> None:
        self.width = 0
        self.wanted: dict[bytes, int] = {}
        """Tensor name -> layer."""
        self.on = False
        self.sums: dict[int, np.ndarray] = {}
        self.counts: dict[int, int] = {}
        self._row = np.zeros(0, np.float32)
        self.callback = llama_cpp.ggml_backend_sched_eval_callback(self._seen)

    def start(self, width: int, layers: Collection[int]) -> None:
        """Sum the rows of ``layers`` from the next evaluation on."""
        self.width = width
        self._row = np.zeros(width, np.float32)
        self.wanted = {f"l_out-{layer - 1}".encode(): layer for layer in layers}
        self.sums, self.counts = {}, {}
        self.on = True

    def stop(self) -> dict[int, list[float]]:
        """Stop summing; each layer's mean row."""
        self.on = False
        return {layer: (total / self.counts[layer]).tolist() for layer, total in self.sums.items()}

    def _seen(self, tensor: Any, ask: bool, user_data: Any) -> bool:
        if not self.on:
            return False
        layer = self.wanted.get(libggml.ggml_get_name(tensor))
        if layer is None or ask:
            return layer is not None
        rows = libggml.ggml_nelements(tensor) // self.width
        size = self.width * 4
        libggml.ggml_backend_tensor_get(tensor, self._row.ctypes.data, (rows - 1) * size, size)
        if layer in self.sums:
            self.sums[layer] += self._row
        else:
            self.sums[layer] = self._row.copy()
        self.counts[layer] = self.counts.get(layer, 0) + 1
        return True


def capturing_llama(make: Callable[[], Llama], states: HiddenStates) -> Llama:
    """A Llama made by ``make`` whose context calls ``states`` back at each evaluation
    (llama-cpp-python builds the context in its constructor and takes no callback, so its
    default context parameters are patched for the call)."""
    default = llama_lib.llama_context_default_params

    def with_callback() -> Any:
        params = default()
        params.cb_eval = states.callback
        return params

    with _PATCH_LOCK, _patched(with_callback):
        return make()


@contextlib.contextmanager
def _patched(params: Callable[[], Any]) -> Iterator[None]:
    default = llama_lib.llama_context_default_params
    llama_lib.llama_context_default_params = params
    try:
        yield
    finally:
        llama_lib.llama_context_default_params = default
