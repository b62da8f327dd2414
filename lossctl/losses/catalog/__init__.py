"""The registry's entries, one module per loss family (beside the family's functions).

Adding a loss: its function in ``lossctl/losses/<family>.py`` and its
:class:`~lossctl.losses.spec.LossSpec` in ``lossctl/losses/catalog/<family>.py``.
"""
from __future__ import annotations

from lossctl.losses.catalog import (
    classification,
    ctc,
    deviance,
    divergence,
    embedding,
    fenchel,
    margin,
    metrics,
    ranking,
    regression,
    scores,
    segmentation,
)

#: Every entry, in the order ``lossctl list`` shows them.
SPECS = (
    regression.SPECS
    + deviance.SPECS
    + classification.SPECS
    + scores.SPECS
    + metrics.SPECS
    + divergence.SPECS
    + margin.SPECS
    + fenchel.SPECS
    + ranking.SPECS
    + embedding.SPECS
    + segmentation.SPECS
    + ctc.SPECS
)
