"""Edge trajectories of the real tf_keras legacy optimizers (tensorflow-cpu, float64)
for tests/test_flavour_edges.py: a momentum assigned after construction. Written to
``data/`` (not beside the flavours' cases: those are rebuilt from their config alone).

tf_keras's SGD and RMSprop decide in their constructor whether they use momentum
(``self._momentum = ... momentum > 0``, legacy/gradient_descent.py and rmsprop.py) and
run the kernel chosen then (SGD: ResourceApplyKerasMomentum or ResourceApplyGradientDescent;
RMSprop: ResourceApplyRMSProp with epsilon inside the root or the Python path with it
outside). ``opt.momentum = 0.9`` on one made with momentum 0 is stored and never used:
the trajectory is that of momentum 0. gradstep refuses such an assignment (whether
momentum is 0 is fixed from the constructor on in its tf_keras flavour), so its optimizer
keeps stepping as tf_keras does.

Hyperparameters are float64 ``tf.Variable``s as in ../generate_tf_keras.py. Run from the
repository root, in the tf_keras environment (see ../README.md):

    ~/.cache/gradstep-flavours/tf_keras/bin/python \
        tests/golden/flavours/edges/generate_tf_keras_edges.py
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE.parent))
from _cases import S3, make_data, max_rel, write_json  # noqa: E402

KW = {"lr": "learning_rate"}
AS_VARIABLE = {"lr", "rho", "epsilon"}  # momentum 0: a Python 0.0, as users pass it

# (name, optimizer, constructor config, step before which it is assigned, assigned)
CASES = [
    (
        "tf_keras_sgd_momentum_assigned_after_step_5",
        "SGD",
        {"lr": 0.05, "momentum": 0.0},
        5,
        {"momentum": 0.9},
    ),
    (
        "tf_keras_sgd_nesterov_momentum_assigned_before_first_step",
        "SGD",
        {"lr": 0.05, "momentum": 0.0, "nesterov": True},
        0,
        {"momentum": 0.8},
    ),
    (
        "tf_keras_rmsprop_momentum_assigned_before_first_step",
        "RMSprop",
        {"lr": 0.01, "rho": 0.9, "epsilon": 1e-3, "momentum": 0.0},
        0,
        {"momentum": 0.7},
    ),
]


def run(opt_name, config, when, assigned, params, grads):
    variables = [tf.Variable(np.asarray(p), dtype=tf.float64) for p in params]
    kwargs = {
        KW.get(k, k): tf.Variable(v, dtype=tf.float64) if k in AS_VARIABLE else v
        for k, v in config.items()
    }
    opt = getattr(tf_keras.optimizers.legacy, opt_name)(**kwargs)
    out = []
    for i, step in enumerate(grads):
        if i == when:
            for key, value in assigned.items():
                setattr(opt, key, value)
        opt.apply_gradients(zip([tf.constant(np.asarray(g)) for g in step], variables))
        out.append([np.array(v.numpy(), dtype=np.float64) for v in variables])
    for w in opt.weights:
        assert w.dtype in (tf.int64, tf.float64), (w.name, w.dtype)
    shown = ", ".join(
        f"{KW.get(k, k)}=tf.Variable({v!r}, dtype=tf.float64)"
        if k in AS_VARIABLE
        else f"{KW.get(k, k)}={v!r}"
        for k, v in config.items()
    )
    call = (
        f"opt = tf_keras.optimizers.legacy.{opt_name}({shown}); "
        + "; ".join(f"opt.{k} = {v!r}" for k, v in assigned.items())
        + f" before step {when + 1}; eager opt.apply_gradients per step"
    )
    return out, call


def main():
    version = f"tf_keras {tf_keras.__version__} / tensorflow-cpu {tf.__version__}"
    DATA.mkdir(exist_ok=True)
    for name, opt_name, config, when, assigned in CASES:
        params, grads = make_data(name, "normal", S3)
        expected, call = run(opt_name, config, when, assigned, params, grads)
        again, _ = run(opt_name, config, when, assigned, params, grads)
        assert max_rel(again, expected) == 0.0
        unassigned, _ = run(opt_name, config, when, {}, params, grads)
        assert max_rel(unassigned, expected) == 0.0, "tf_keras used the momentum"
        record = {
            "name": name,
            "flavour": "tf_keras",
            "optimizer": opt_name,
            "config": config,
            "assigned_before_step": when + 1,
            "assigned": assigned,
            "framework": "tf_keras",
            "framework_version": version,
            "framework_call": call,
            "dtype": "float64",
            "params": [p.tolist() for p in params],
            "grads": [[g.tolist() for g in step] for step in grads],
            "expected": [[e.tolist() for e in step] for step in expected],
        }
        write_json(DATA / f"{name}.json", record)
        print(f"{name}: wrote (tf_keras ignored the assigned momentum)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
