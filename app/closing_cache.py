"""A bounded cache of open resources (git readers, database engines) that closes what it drops."""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ClosingCache(Generic[K, V]):
    """Up to ``size`` values by key; the least recently used is closed when a new one needs room,
    and every value still held is closed when the interpreter exits.

    Values belong to the process that made them: in a forked child the inherited ones are forgotten
    without being closed (closing them there would end the parent's git processes or connections).
    """

    def __init__(self, size: int, close: Callable[[V], object]):
        self.size = size
        self._close = close
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        atexit.register(self.clear)

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, made by ``make()`` when absent."""
        evicted: list[V] = []
        with self._lock:
            self._forget_inherited()
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            value = self._values[key] = make()
            while len(self._values) > self.size:
                evicted.append(self._values.popitem(last=False)[1])
        for old in evicted:
            self._close(old)
        return value

    def discard(self, key: K) -> None:
        """Close and forget the value for ``key``, if any."""
        with self._lock:
            self._forget_inherited()
            value = self._values.pop(key, None)
        if value is not None:
            self._close(value)

    def clear(self) -> None:
        """Close and forget every value."""
        with self._lock:
            self._forget_inherited()
            values = list(self._values.values())
            self._values.clear()
        for value in values:
            self._close(value)

    def __len__(self) -> int:
        return len(self._values) if self._pid == os.getpid() else 0

    def _forget_inherited(self) -> None:
        if self._pid != os.getpid():
            self._values.clear()
            self._pid = os.getpid()
