"""Compiled TUSZ models reused across folds: `ModelPool` and the model / Distiller builders.

Building a Keras model and tracing its training step costs far more than an epoch on a small
corpus, so `kerasseizure.experiments.tusz` keeps models in a `ModelPool` (`DEFAULT_POOL`,
one per process) keyed by architecture, input shapes, optimizer and seed: the first fold builds,
compiles and records the initial variables (model and optimizer); later folds restore them and
reuse the traced functions. Re-exported by `kerasseizure.experiments.tusz`.
"""

import json

import numpy as np

from kerasseizure.experiments.tusz_config import _model_inputs


class ModelPool:
    """Compiled models reused across folds: built once, reset to their initial values per fold.

    Entries are keyed by a JSON key (role, architecture, input shapes, optimizer, seed, precision).
    `clear()` drops them (and Keras' global state).
    """

    def __init__(self):
        self.entries = {}

    def get(self, key, build):
        """The entry for `key` (built by `build()` -> (model, extra dict) on first use), reset."""
        entry = self.entries.get(key)
        if entry is None:
            model, extra = build()
            entry = {"model": model, **extra,
                     "initial": [np.array(v.numpy()) for v in model.variables],
                     "initial_optimizer": [np.array(v.numpy()) for v in model.optimizer.variables]}
            self.entries[key] = entry
        else:
            for variable, value in zip(entry["model"].variables, entry["initial"]):
                variable.assign(value)
            for variable, value in zip(entry["model"].optimizer.variables, entry["initial_optimizer"]):
                variable.assign(value)
        return entry

    def clear(self):
        """Forget every model."""
        from kerasseizure.training.precision import clear_session

        self.entries.clear()
        clear_session()


DEFAULT_POOL = ModelPool()


def _shapes(features, names):
    return [tuple(int(d) for d in features.arrays[name].shape[1:]) for name in names]


def _build_network(config, features):
    from kerasseizure.models import SeizureNet, seizurenet_member, student
    from kerasseizure.training.batchnorm import set_batchnorm_momentum

    n_classes = len(features.classes)
    names, _ = _model_inputs(config, features)
    shapes = _shapes(features, names)
    options = dict(config.model)
    if config.kind == "ensemble":
        model = SeizureNet(input_shapes=shapes, num_classes=n_classes, input_names=names, **options)
    elif config.kind == "member":
        model = seizurenet_member(shapes[0], num_classes=n_classes, input_name=names[0], **options)
    else:
        model = student(shapes[0], num_classes=n_classes, input_name=config.input_name, **options)
    return set_batchnorm_momentum(model, config.bn_momentum)


def _pool_key(role, config, features):
    names, _ = _model_inputs(config, features)
    key = {"role": role, "kind": config.kind, "model": config.model, "bn_momentum": config.bn_momentum, "inputs": names,
           "shapes": _shapes(features, names), "classes": list(features.classes), "optimizer": config.optimizer,
           "lr": config.lr, "seed": config.seed, "precision": config.precision}
    if role == "distiller":
        key.update(teacher=json.loads(_pool_key("teacher", config.teacher, features)), input_name=config.input_name,
                   temperature=config.temperature, alpha=config.alpha,
                   feature_distillation=config.feature_distillation, feature_weight=config.feature_weight)
    return json.dumps(key, sort_keys=True, default=str)


def _network_entry(config, features, pool):
    """A compiled classifier (member, ensemble or student) at its initial state."""
    from kerasseizure.training import losses as losses_lib
    from kerasseizure.training.fit import make_optimizer, seed_everything
    from kerasseizure.training.precision import precision_scope

    def build():
        seed_everything(config.seed)
        with precision_scope(config.precision):
            model = _build_network(config, features)
            model.compile(optimizer=make_optimizer(config.optimizer, config.lr),
                          loss=losses_lib.get_loss("sparse_cross_entropy"))
            model.optimizer.build(model.trainable_variables)
        return model, {}

    return pool.get(_pool_key("network", config, features), build)


def _distiller_entry(config, features, pool):
    """A compiled Distiller (its own teacher and student instances) at its initial state."""
    from kerasseizure.models import student as student_builder
    from kerasseizure.models import with_teacher_inputs
    from kerasseizure.training.batchnorm import set_batchnorm_momentum
    from kerasseizure.training.distillation import compiled_distiller
    from kerasseizure.training.fit import seed_everything
    from kerasseizure.training.precision import precision_scope

    def build():
        seed_everything(config.seed)
        with precision_scope(config.precision):
            # The student is built first, right after seeding, exactly as the "student" row builds
            # it: a distilled student starts from the same weights as the student trained alone.
            shape = _shapes(features, [config.input_name])[0]
            small = set_batchnorm_momentum(student_builder(shape, num_classes=len(features.classes),
                                                           input_name=config.input_name, **config.model),
                                           config.bn_momentum)
            teacher = _build_network(config.teacher, features)
            teacher_names = [t.name for t in teacher.inputs]
            view = with_teacher_inputs(small, teacher, input_index=teacher_names.index(config.input_name),
                                       taps=("pool",))
            feature_layers = ("embedding", "pool_tap") if config.feature_distillation else None
            distiller, _ = compiled_distiller(teacher, view, temperature=config.temperature, alpha=config.alpha,
                                              feature_layers=feature_layers, feature_weight=config.feature_weight,
                                              student_loss="sparse_cross_entropy", optimizer=config.optimizer,
                                              lr=config.lr)
            shapes = _shapes(features, teacher_names)
            dummy = {n: np.zeros((1, *s), np.float32) for n, s in zip(teacher_names, shapes)}
            distiller(dummy if len(teacher_names) > 1 else dummy[teacher_names[0]])
            distiller.optimizer.build(distiller.trainable_variables)
        return distiller, {"teacher": teacher, "student": small, "view": view, "features": bool(feature_layers)}

    return pool.get(_pool_key("distiller", config, features), build)


def _network_entry_cached(config, features, pool):
    """The pool entry of a network trained just before (no reset: it holds the fold's weights)."""
    return pool.entries[_pool_key("network", config, features)]
