"""The loss functions, one small pure numpy function per loss, grouped by family.

- :mod:`lossctl.losses.regression`: squared, absolute, percentage, log, Huber, Poisson, pinball...
- :mod:`lossctl.losses.binary`: binary cross-entropy and focal losses (elementwise);
- :mod:`lossctl.losses.categorical`: categorical/sparse/PyTorch cross-entropy, NLL, Brier...
- :mod:`lossctl.losses.divergence`: KL divergence, cosine similarity.
- :mod:`lossctl.losses.margin`: hinge family, multi-margin, soft margin.
- :mod:`lossctl.losses.segmentation`: Dice, Tversky, optax's Dice losses.
- :mod:`lossctl.losses.embedding`: Gaussian NLL, cosine embedding, triplet, Circle, NT-Xent
  (inputs by role);
- :mod:`lossctl.losses.ctc`: connectionist temporal classification;
- :mod:`lossctl.losses.fenchel`: sparsemax, perceptron and optax's hinge losses;
- :mod:`lossctl.losses.ranking`: optax's ranking softmax loss;
- :mod:`lossctl.losses.deviance`: scikit-learn's regression metrics (deviances, log errors,
  median and max error, D² scores);
- :mod:`lossctl.losses.scores`: scikit-learn's classification metrics (log loss, hinge, 0-1,
  Hamming, ranking, D² scores).
- :mod:`lossctl.losses.reduction`: running-sum reductions.
- :mod:`lossctl.losses.registry`: names, aliases, options and explain text for every loss
  (:mod:`lossctl.losses.spec` defines an entry, :mod:`lossctl.losses.catalog` holds them).

Each function returns unreduced values (elementwise ``(N, C)`` or per-sample ``(N,)``); the
engine (:mod:`lossctl.engine`) validates inputs, applies weights, masks and reductions.
Attribute access (``lossctl.losses.huber``) imports the family module on first use, so importing
this package costs nothing.
"""
from __future__ import annotations

_FAMILIES = ("regression", "binary", "categorical", "divergence", "margin", "segmentation",
             "embedding", "ctc", "fenchel", "ranking", "deviance", "scores")


def __getattr__(name: str):
    import importlib

    if name in _FAMILIES or name in ("reduction", "registry", "spec", "catalog"):
        return importlib.import_module(f"lossctl.losses.{name}")
    if name.startswith("_"):
        raise AttributeError(f"module 'lossctl.losses' has no attribute {name!r}")
    for family in _FAMILIES:
        module = importlib.import_module(f"lossctl.losses.{family}")
        if hasattr(module, name) and not name.startswith("_"):
            return getattr(module, name)
    raise AttributeError(f"module 'lossctl.losses' has no attribute {name!r}")
