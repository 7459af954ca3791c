"""Progress display: a tqdm bar on stderr (a plain line per epoch without tqdm)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """Counts finished epochs over the whole run and shows the latest one's numbers."""

    def __init__(
        self, total: int, enabled: bool = True, stream: TextIO | None = None
    ) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._bar: Any = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(
                    total=total,
                    unit="epoch",
                    file=self.stream,
                    dynamic_ncols=True,
                    leave=False,
                )

    def update(self, text: str) -> None:
        """One more epoch done; ``text`` says which and how it went."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(1)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
