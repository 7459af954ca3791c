"""The training display Keras users know: a bar per epoch (verbose=1) or a line per epoch
(verbose=2). verbose=1 uses tqdm when it is installed (the ``lab`` extra), else a
Keras-like text bar written to stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["format_logs", "EpochBar"]


def format_value(value: float) -> str:
    """Keras's Progbar number format: %.4f, or %.4e for tiny magnitudes."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_logs(logs: Mapping[str, Any], keys: list[str]) -> str:
    """' - loss: 0.1234 - acc: 0.9876' for the keys present in ``logs``."""
    return "".join(f" - {k}: {format_value(float(logs[k]))}" for k in keys if k in logs)


def _tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class EpochBar:
    """One epoch's display. ``update(seen, logs)`` after each batch, ``close(logs)`` at the
    end with the epoch's values (validation included)."""

    def __init__(
        self, total: int, verbose: int, keys: list[str], stream: Any = None
    ) -> None:
        self.total, self.verbose, self.keys = total, verbose, keys
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.seen = 0
        tqdm = _tqdm() if verbose == 1 else None
        self.bar = (
            tqdm(
                total=total,
                unit="sample",
                file=self.stream,
                dynamic_ncols=True,
                leave=True,
            )
            if tqdm is not None
            else None
        )
        self._last_draw = 0.0

    def update(self, seen: int, logs: Mapping[str, Any]) -> None:
        if self.verbose != 1:
            return
        if self.bar is not None:
            self.bar.update(seen - self.seen)
            self.bar.set_postfix_str(format_logs(logs, self.keys)[3:], refresh=False)
        else:
            now = time.perf_counter()
            if seen < self.total and now - self._last_draw < 0.05:
                self.seen = seen
                return
            self._last_draw = now
            self._draw(seen, logs, final=False)
        self.seen = seen

    def _draw(self, seen: int, logs: Mapping[str, Any], final: bool) -> None:
        width = 30
        done = int(width * seen / self.total)
        bar = (
            "=" * max(done - 1, 0)
            + (">" if done < width else "=")
            + "." * (width - done)
        )
        elapsed = time.perf_counter() - self.start
        if final:
            timing = f" - {elapsed:.0f}s {1e6 * elapsed / max(seen, 1):.0f}us/step"
        else:
            eta = elapsed / max(seen, 1) * (self.total - seen)
            timing = f" - ETA: {eta:.0f}s"
        digits = len(str(self.total))
        line = f"{seen:{digits}d}/{self.total} [{bar}]{timing}{format_logs(logs, self.keys)}"
        self.stream.write("\r" + line + ("\n" if final else ""))
        self.stream.flush()

    def close(self, logs: Mapping[str, Any]) -> None:
        if self.verbose == 2:
            elapsed = time.perf_counter() - self.start
            self.stream.write(f" - {elapsed:.0f}s{format_logs(logs, self.keys)}\n")
            self.stream.flush()
        elif self.verbose == 1:
            if self.bar is not None:
                self.bar.set_postfix_str(
                    format_logs(logs, self.keys)[3:], refresh=False
                )
                self.bar.close()
            else:
                self._draw(self.seen, logs, final=True)
