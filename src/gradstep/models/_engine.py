"""What ``compile`` fixes and the math of one batch (Keras 2.2.4's ``training.py``).

Per output with a loss: the score per sample (mean over the axes after the batch),
weighted as Keras's ``weighted_masked_objective``: ``mean(score * w) / mean(w != 0)``
(``w`` the sample weights, all ones when none are given). The training loss is the sum
over outputs of ``loss_weight * output loss`` plus every regularization penalty (weight
and activity regularizers). ``metrics_names``: 'loss', '<output>_loss' per output when
there are several, then per output its metrics and its weighted metrics
('<output>_' prefixed when there are several outputs, 'weighted_' for weighted ones).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import losses
from .. import metrics as metrics_module

__all__ = ["Compiled", "OutputSpec", "collect_per_output"]


class OutputSpec(NamedTuple):
    """One output as compiled: its loss (None: not trained), loss weight, metrics."""

    index: int
    name: str
    loss: losses.Loss | None
    weight: float
    metrics: list[tuple[str, Any]]
    weighted_metrics: list[tuple[str, Any]]


def collect_per_output(value: Any, names: list[str], what: str) -> list[Any]:
    """``value`` spread over the outputs: a dict by output name (missing: None), a list
    with one entry per output, or one value for every output."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(
                f"Unknown entry in {what} dictionary: {unknown[0]!r}. Only expected the "
                f"following keys: {names}"
            )
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"When passing a list as {what}, it should have one entry per model "
                f"output. The model has {len(names)} outputs, but you passed {what}="
                f"{value!r}"
            )
        return list(value)
    return [value] * len(names)


def _metric_lists(metrics: Any, names: list[str], what: str) -> list[list[Any]]:
    if metrics is None or (isinstance(metrics, (list, tuple)) and not metrics):
        return [[] for _ in names]
    if isinstance(metrics, (list, tuple)):
        return [copy.copy(list(metrics)) for _ in names]
    if isinstance(metrics, Mapping):
        unknown = [k for k in metrics if k not in names]
        if unknown:
            raise ValueError(
                f"Unknown entry in {what} dictionary: {unknown[0]!r}. Only expected the "
                f"following keys: {names}"
            )
        out = []
        for n in names:
            entry = metrics.get(n, [])
            out.append(list(entry) if isinstance(entry, (list, tuple)) else [entry])
        return out
    raise TypeError(
        f"Type of `{what}` argument not understood. Expected a list or dictionary, found: "
        f"{metrics!r}"
    )


def _loss_weight(value: Any, name: str) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(
            f"loss_weights: the weight of output {name!r} must be a number, got {value!r}"
        )
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"loss_weights: the weight of output {name!r} is {value}")
    return value


class Compiled:
    """The compiled outputs: losses, loss weights, metrics and their names."""

    def __init__(
        self,
        output_names: list[str],
        output_shapes: list[tuple[int | None, ...]],
        loss: Any,
        metrics: Any,
        loss_weights: Any,
        weighted_metrics: Any,
    ) -> None:
        if loss is None:
            raise ValueError(
                "compile() needs a loss, e.g. loss='categorical_crossentropy'; known "
                f"losses: {', '.join(losses.names())}"
            )
        several = len(output_names) > 1
        if isinstance(loss, Mapping):
            unknown = [k for k in loss if k not in output_names]
            if unknown:
                raise ValueError(
                    f"Unknown entry in loss dictionary: {unknown[0]!r}. Only expected the "
                    f"following keys: {output_names}"
                )
        elif isinstance(loss, (list, tuple)) and not several and len(loss) != 1:
            raise ValueError(
                f"When passing a list as loss, it should have one entry per model "
                f"output. The model has 1 output, but you passed loss={loss!r}"
            )
        per_loss = collect_per_output(loss, output_names, "loss")
        resolved = [None if spec is None else losses.get(spec) for spec in per_loss]
        if all(r is None for r in resolved):
            raise ValueError("compile(): no output has a loss; give at least one")
        if loss_weights is not None and not isinstance(
            loss_weights, (list, tuple, Mapping)
        ):
            raise TypeError(
                "Could not interpret loss_weights argument: "
                f"{loss_weights!r} - expected a list of dicts."
            )
        weights = collect_per_output(
            loss_weights if loss_weights is not None else [None] * len(output_names),
            output_names,
            "loss_weights",
        )
        plain = _metric_lists(metrics, output_names, "metrics")
        weighted = _metric_lists(weighted_metrics, output_names, "weighted_metrics")
        self.outputs: list[OutputSpec] = []
        self.metrics_names = ["loss"]
        trained = [i for i, r in enumerate(resolved) if r is not None]
        if several:
            self.metrics_names += [f"{output_names[i]}_loss" for i in trained]
        for i in trained:
            specs = []
            for group, prefix in ((plain[i], ""), (weighted[i], "weighted_")):
                resolved_group = []
                for m in group:
                    mname, fn = metrics_module.resolve(m, resolved[i], output_shapes[i])
                    mname = prefix + mname
                    if several:
                        mname = f"{output_names[i]}_{mname}"
                    base, j = mname, 1
                    while mname in self.metrics_names:
                        mname, j = f"{base}_{j}", j + 1
                    self.metrics_names.append(mname)
                    resolved_group.append((mname, fn))
                specs.append(resolved_group)
            self.outputs.append(
                OutputSpec(
                    i,
                    output_names[i],
                    resolved[i],
                    _loss_weight(weights[i], output_names[i]),
                    specs[0],
                    specs[1],
                )
            )
        self.several = several
        self.specs = (loss, metrics, loss_weights, weighted_metrics)

    @property
    def trained(self) -> list[int]:
        """The indices of the outputs that have a loss (and take targets)."""
        return [o.index for o in self.outputs]

    # ---- one batch -------------------------------------------------------------------
    def evaluate(
        self,
        ys: Sequence[np.ndarray],
        ps: Sequence[np.ndarray],
        sws: Sequence[np.ndarray | None],
        penalty: float,
        want_grads: bool,
        fused: Sequence[bool] = (),
    ) -> tuple[list[float], list[np.ndarray | None]]:
        """The values named by ``metrics_names`` for targets ``ys`` and weights ``sws``
        (aligned with ``outputs``) and predictions ``ps`` (one per model output); with
        ``want_grads`` also d(training loss)/d(output) per model output (None for
        outputs without a loss; ``fused[i]``: before the output layer's activation)."""
        total = 0.0
        output_losses, metric_values = [], []
        grads: list[np.ndarray | None] = [None] * len(ps)
        for k, spec in enumerate(self.outputs):
            y, p, sw = ys[k], ps[spec.index], sws[k]
            score = spec.loss.score(y, p)
            n = score.shape[0]
            value, scale = _weighted_mean(score, sw)
            output_losses.append(value)
            total += spec.weight * value
            for _, fn in spec.metrics:
                metric_values.append(float(np.mean(fn(y, p))))
            for _, fn in spec.weighted_metrics:
                metric_values.append(_weighted_mean(np.asarray(fn(y, p)), sw)[0])
            if want_grads:
                is_fused = bool(fused) and fused[spec.index]
                raw = (
                    spec.loss.fused_gradient(y, p)
                    if is_fused
                    else spec.loss.gradient(y, p)
                )
                dp = np.array(raw, dtype=p.dtype, copy=True)
                factor = scale * spec.weight
                if sw is None:
                    dp *= p.dtype.type(factor)
                else:
                    w = (
                        (sw * factor)
                        .astype(p.dtype)
                        .reshape((n,) + (1,) * (p.ndim - 1))
                    )
                    dp *= w
                grads[spec.index] = dp
        values = [total + penalty]
        if self.several:
            values += output_losses
        return values + metric_values, grads


def _weighted_mean(score: np.ndarray, sw: np.ndarray | None) -> tuple[float, float]:
    """Keras's weighted mean of a score array (N, ...) and the factor d(mean)/d(score_i)
    has per unit weight (the per-sample weight ``sw`` still multiplies it)."""
    if sw is None:
        return float(np.mean(score)), 1.0 / max(score.size, 1)
    nonzero = float(np.mean(sw != 0))
    if score.ndim == 0:  # a metric already averaged over the batch (top-k): Keras
        # broadcasts it against the weights, so mean(score * w) / mean(w != 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = float(score) * float(np.mean(sw)) / nonzero
        return (value if nonzero else float("nan")), float("nan")
    n = score.shape[0]
    per_sample = score.reshape(n, -1).mean(axis=1) if score.ndim > 1 else score
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(np.mean(per_sample * sw / nonzero)) if nonzero else float("nan")
    per = score.size // max(n, 1)
    scale = 1.0 / (n * per * nonzero) if nonzero else float("nan")
    return value, scale
