"""The public Keras 2.2 methods of a model: ``fit``, ``evaluate``, ``predict``, the
batch and generator forms, ``summary``, ``to_json``/``to_yaml`` and the weight files.
They check their arguments and hand over to the loops (``_training``,
``_generators``) and files (``_format``, ``_weights_io``); ``_network.Network`` supplies
the model underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["ModelAPI"]


class ModelAPI:
    """Mixin of ``Network``: Keras 2.2.4's model methods."""

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: Any = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: Any = None,
        validation_steps: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Train for ``epochs`` epochs (Keras 2.2.4's fit loop); returns a ``History``.

        ``sample_weight``: one weight per sample (an array, or a list/dict by output);
        ``class_weight``: {class: weight} (or a dict of them by output), used where no
        sample weights are given. Shuffling draws a fresh permutation each epoch from
        the model's training generator; ``shuffle='batch'`` shuffles whole batches. The
        validation split takes the last samples, before shuffling.
        """
        from . import _training

        if kwargs:
            raise TypeError(f"fit(): unexpected keyword argument {sorted(kwargs)[0]!r}")
        if steps_per_epoch is not None or validation_steps is not None:
            raise ValueError(
                "fit(): steps_per_epoch and validation_steps are for fit_generator "
                "here (arrays are split into batches of batch_size); pass None"
            )
        return _training.fit(
            self,
            x,
            y,
            batch_size,
            epochs,
            verbose,
            callbacks,
            validation_split,
            validation_data,
            shuffle,
            class_weight,
            sample_weight,
            initial_epoch,
        )

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int = 1,
        sample_weight: Any = None,
        steps: Any = None,
    ) -> Any:
        """The loss (and metrics) on ``x, y``: a float, or a list when there are more."""
        from . import _training

        if steps is not None:
            raise ValueError("evaluate(): steps is for evaluate_generator; pass None")
        return _training.evaluate(self, x, y, batch_size, verbose, sample_weight)

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: int = 0, steps: Any = None
    ) -> Any:
        """The outputs for ``x`` (inference mode): an array, or a list for several."""
        from . import _training

        if steps is not None:
            raise ValueError("predict(): steps is for predict_generator; pass None")
        return _training.predict(self, x, batch_size, verbose)

    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None
    ) -> Any:
        """One optimizer step on one batch; the loss (and metrics) before the step."""
        from . import _training

        return _training.on_batch(self, x, y, sample_weight, class_weight, train=True)

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None) -> Any:
        """The loss (and metrics) on one batch, without training."""
        from . import _training

        return _training.on_batch(self, x, y, sample_weight, None, train=False)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch."""
        from . import _training

        return _training.predict(self, x, None, 0, whole=True)

    def fit_generator(self, generator: Any, steps_per_epoch: Any = None, **kwargs: Any):
        """Train on batches from a generator or ``utils.Sequence`` (see
        ``gradstep.models._generators.fit_generator``)."""
        from . import _generators

        return _generators.fit_generator(self, generator, steps_per_epoch, **kwargs)

    def evaluate_generator(self, generator: Any, steps: Any = None, **kwargs: Any):
        """The loss (and metrics) over batches from a generator or Sequence."""
        from . import _generators

        return _generators.evaluate_generator(self, generator, steps, **kwargs)

    def predict_generator(self, generator: Any, steps: Any = None, **kwargs: Any):
        """The outputs for batches from a generator or Sequence, concatenated."""
        from . import _generators

        return _generators.predict_generator(self, generator, steps, **kwargs)

    # ---- description, saving -----------------------------------------------------------
    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Any = None,
    ) -> None:
        """Print the layers, output shapes and parameter counts as Keras does."""
        from ._summary import print_summary

        print_summary(self, line_length, positions, print_fn)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON: {'class_name': ..., 'config': ...}."""
        import json

        return json.dumps(
            {
                "class_name": type(self).__name__,
                "config": self.get_config(),
                "keras_version": "2.2.4",
                "backend": "numpy",
            },
            **kwargs,
        )

    def to_yaml(self, **kwargs: Any) -> str:
        """The architecture as YAML (needs PyYAML)."""
        import json

        try:
            import yaml
        except ImportError:
            raise ImportError(
                "to_yaml needs PyYAML: pip install pyyaml (or use to_json)"
            ) from None
        return yaml.safe_dump(json.loads(self.to_json()), **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Write only the weights (one .npz file, atomically)."""
        from . import _format

        self._claim()
        _format.save_weights(self, filepath, overwrite)

    def load_weights(
        self, filepath: Any, by_name: bool = False, skip_mismatch: bool = False
    ) -> None:
        """Read weights written by ``save_weights`` or ``save``; the file is checked
        completely before any weight changes. ``by_name``: match layers by name
        (layers not in the file keep their weights); ``skip_mismatch`` (with
        ``by_name``): skip layers whose weight count or shapes differ, with a warning."""
        from . import _weights_io

        self._claim()
        _weights_io.load_weights(self, filepath, by_name, skip_mismatch)
