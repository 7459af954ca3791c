"""The optimizer lab behind ``gradstep compare``, ``trajectories`` and ``plot``.

Modules: ``compare`` (fair training runs), ``data`` (data sets for the MLP), ``model``
(the MLP), ``specs`` (optimizer settings), ``records`` (CSV/JSON), ``summary``
(the table), ``report`` (Markdown), ``plotting`` (matplotlib, lazily), ``functions`` and
``expr`` (2-D test functions, safe expressions), ``trajectories``, ``outdir`` (atomic
output folders). Importing this package imports NumPy only.
"""

from __future__ import annotations

from ._errors import LabError

__all__ = ["LabError"]
