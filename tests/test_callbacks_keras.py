"""Keras 2.2.4's BaseLogger, ProgbarLogger(count_mode=), RemoteMonitor (on a loopback
server, never the network), ReduceLROnPlateau(epsilon=) and TerminateOnNaN."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import threading
import urllib.parse
from collections.abc import Iterator

import numpy as np
import pytest

from gradstep import callbacks


class _Model:
    stop_training = False


def _run_epoch(cb, batches, params=None):
    cb.set_params(
        params or {"epochs": 1, "samples": 6, "steps": 2, "metrics": ["loss", "acc"]}
    )
    cb.set_model(_Model())
    cb.on_epoch_begin(0, {})
    for i, logs in enumerate(batches):
        cb.on_batch_begin(i, {})
        cb.on_batch_end(i, logs)
    logs = {}
    cb.on_epoch_end(0, logs)
    return logs


def test_base_logger_weighted_means_and_stateful_metrics():
    batches = [
        {"batch": 0, "size": 4, "loss": 1.0, "acc": 0.5},
        {"batch": 1, "size": 2, "loss": 4.0, "acc": 1.0},
    ]
    logs = _run_epoch(callbacks.BaseLogger(), batches)
    assert logs == {"loss": pytest.approx(2.0), "acc": pytest.approx(2 / 3)}
    logs = _run_epoch(callbacks.BaseLogger(stateful_metrics=["acc"]), batches)
    assert logs["acc"] == 1.0 and logs["loss"] == pytest.approx(2.0)


@pytest.mark.parametrize("mode", ["samples", "steps"])
def test_progbar_logger_count_modes(mode):
    out = io.StringIO()
    cb = callbacks.ProgbarLogger(verbose=2, stream=out, count_mode=mode)
    _run_epoch(cb, [{"size": 4, "loss": 1.0}, {"size": 2, "loss": 4.0}])
    assert "Epoch 1/1" in out.getvalue()
    keras_style = callbacks.ProgbarLogger(mode)
    assert keras_style.count_mode == mode and keras_style.verbose == 1


def test_progbar_logger_refuses_unknown_count_mode():
    with pytest.raises(ValueError, match="Unknown `count_mode`"):
        callbacks.ProgbarLogger(count_mode="batches")


def test_reduce_lr_on_plateau_epsilon_is_deprecated_min_delta():
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated"):
        cb = callbacks.ReduceLROnPlateau(epsilon=0.5)
    assert cb.min_delta == 0.5
    with pytest.raises(TypeError, match="Unexpected keyword argument: eps"):
        callbacks.ReduceLROnPlateau(eps=0.5)


def test_terminate_on_nan_stops_training():
    cb = callbacks.TerminateOnNaN()
    cb.set_model(_Model())
    cb.on_batch_end(0, {"loss": 1.0})
    assert not cb.model.stop_training
    cb.on_batch_end(1, {"loss": float("inf")})
    assert cb.model.stop_training


# ---- RemoteMonitor -----------------------------------------------------------------------
class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self):  # noqa: N802 - the base class's naming
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append(
            (self.path, dict(self.headers), self.rfile.read(length))
        )
        self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002
        pass


@contextlib.contextmanager
def _server() -> Iterator[tuple[str, list]]:
    received: list = []
    handler = type("Handler", (_Recorder,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_remote_monitor_posts_form_encoded_json_as_keras():
    with _server() as (root, received):
        cb = callbacks.RemoteMonitor(root=root, headers={"X-Run": "7"})
        cb.on_epoch_end(3, {"loss": np.float32(0.5), "acc": np.array(1.0)})
    path, headers, body = received[0]
    assert path == "/publish/epoch/end/"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Run"] == "7"
    form = urllib.parse.parse_qs(body.decode())
    assert json.loads(form["data"][0]) == {"epoch": 3, "loss": 0.5, "acc": 1.0}


def test_remote_monitor_send_as_json_and_field():
    with _server() as (root, received):
        callbacks.RemoteMonitor(root=root, path="/x", send_as_json=True).on_epoch_end(
            0, {"loss": 2.0}
        )
        callbacks.RemoteMonitor(root=root, path="/y", field="payload").on_epoch_end(
            1, {}
        )
    (p1, h1, b1), (p2, _, b2) = received
    assert p1 == "/x" and h1["Content-Type"] == "application/json"
    assert json.loads(b1) == {"epoch": 0, "loss": 2.0}
    assert p2 == "/y" and json.loads(
        urllib.parse.parse_qs(b2.decode())["payload"][0]
    ) == {"epoch": 1}


def test_remote_monitor_unreachable_server_warns():
    with _server() as (root, _):
        pass  # closed: nothing listens there any more
    cb = callbacks.RemoteMonitor(root=root, timeout=2)
    with pytest.warns(UserWarning, match="could not reach RemoteMonitor root server"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_remote_monitor_refusals():
    with pytest.raises(ValueError, match="root must be an http"):
        callbacks.RemoteMonitor(root="ftp://x")
    with pytest.raises(TypeError, match="path must be a string"):
        callbacks.RemoteMonitor(path=3)


# ---- in fit ---------------------------------------------------------------------------
def test_callbacks_see_validation_data_and_base_logger_agrees_with_fit():
    from gradstep.layers import Dense
    from gradstep.models import Sequential

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 1))
    xv, yv = rng.normal(size=(4, 3)), rng.normal(size=(4, 1))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.seen = self.validation_data
            self.loss = logs["loss"]

    spy, base = Spy(), callbacks.BaseLogger()
    history = model.fit(
        x,
        y,
        batch_size=5,
        epochs=1,
        verbose=0,
        validation_data=(xv, yv),
        callbacks=[base, spy],
    )
    np.testing.assert_array_equal(spy.seen[0], xv.astype(np.float32))
    np.testing.assert_array_equal(spy.seen[1], yv.astype(np.float32))
    assert spy.loss == pytest.approx(history.history["loss"][0], rel=1e-12)


def test_keras_style_callback_with_backend_values_and_remote_monitor_in_fit():
    """A callback written for Keras 2.2 (K.get_value / K.set_value on the optimizer's lr)
    runs in fit, next to a RemoteMonitor posting each epoch to a loopback server."""
    from gradstep import backend as K
    from gradstep.layers import Dense
    from gradstep.models import Sequential

    class Halve(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            lr = float(K.get_value(self.model.optimizer.lr))
            K.set_value(self.model.optimizer.lr, lr * 0.5)

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with _server() as (root, received):
        model.fit(
            x,
            y,
            epochs=3,
            verbose=0,
            callbacks=[Halve(), callbacks.RemoteMonitor(root=root, send_as_json=True)],
        )
    assert model.optimizer.lr == pytest.approx(0.01 / 8)
    assert [json.loads(body)["epoch"] for _, _, body in received] == [0, 1, 2]
    assert all("loss" in json.loads(body) for _, _, body in received)
