"""Figures of a result, for people who would rather look than read: PNG or SVG.

Pure functions of plain data (the :class:`~lossctl.report.Report` the pipeline builds, a
metric's ``details``, numpy arrays), each returning the matplotlib ``Figure`` it wrote:

- :func:`report_figure` (``compute --plot``): the per-sample loss histogram (the report's bins:
  log-spaced when the values are positive and span decades), the mean loss per class (when
  the loss has classes), and the reliability diagram of a calibration metric (the
  ``reliability`` table of expected/maximum calibration error);
- :func:`paired_difference_figure`: the bootstrap distribution of the difference between two
  models, with the observed difference and its confidence interval marked.

The format is the path's extension (:func:`plot_format`); the file is written atomically and
never over an input (:func:`check_plot`, called before any input is read). This is the only
module that imports matplotlib, and only inside its functions (Agg, no pyplot): importing it
costs nothing, and a missing matplotlib is an error naming the extra that installs it.
"""
from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from typing import IO, Any

from lossctl.errors import OutputError, UsageError, opt

__all__ = ["FORMATS", "check_plot", "paired_difference_figure", "plot_format",
           "report_figure", "result_figure"]

#: Extensions the figures are written as, and matplotlib's format names for them.
FORMATS = {".png": "png", ".svg": "svg"}

#: PNG resolution: small files that still read well in a README or a CI artifact.
DPI = 100

_COLOR = "#4C72B0"
_ACCENT = "#C44E52"


def plot_format(path: str | os.PathLike) -> str:
    """``"png"`` or ``"svg"``, from the extension of ``path`` (case-insensitive).

    Raises:
        UsageError: any other extension (or none), naming the option ``plot``.
    """
    shown = os.fspath(path)
    ext = os.path.splitext(shown)[1].lower()
    if ext in FORMATS:
        return FORMATS[ext]
    if shown == "-":
        raise UsageError(f"{opt('plot')} writes a file, and standard output carries the data",
                         hint=f"give a file name, e.g. {opt('plot', 'plot.png')}", option="plot")
    stem = os.path.splitext(shown)[0] if ext else shown
    what = f"not {ext!r}" if ext else f"and {shown!r} has no extension"
    raise UsageError(f"{opt('plot')} writes PNG or SVG, chosen by the file's extension, {what}",
                     hint=f"name the file .png or .svg, e.g. {opt('plot', stem + '.png')}",
                     option="plot")


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise OutputError(f"{opt('plot')} needs matplotlib, which is not installed: install it "
                          "with pip install 'lossctl[plot]'", option="plot") from None
    return matplotlib


def check_plot(path: str | os.PathLike, inputs: Sequence[Any] = (), *, stdin: Any = None) -> None:
    """Refuse a plot before any input is read: an extension other than .png or .svg, a path
    that is a folder or one of ``inputs`` (as :func:`lossctl.out.check_output` compares them),
    or no matplotlib."""
    from lossctl.out import check_output

    plot_format(path)
    try:
        check_output(path, [s for s in inputs if isinstance(s, (str, os.PathLike))], stdin=stdin)
    except OutputError as exc:
        raise exc.rename_option("output", "plot") from None
    _matplotlib()


@contextlib.contextmanager
def _figure(path: str | os.PathLike, **kwargs: Any) -> Iterator[Any]:
    """A new Agg figure, saved atomically to ``path`` in its extension's format when the block
    ends without an error."""
    fmt = plot_format(path)
    _matplotlib()
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from lossctl.out import atomic_open

    # no dates, fixed SVG ids: the same data draws the same file
    with rc_context({"svg.hashsalt": "lossctl", "font.size": 9}):
        fig = Figure(**kwargs)
        FigureCanvasAgg(fig)
        yield fig
        fig.tight_layout()
        meta = {"Date": None} if fmt == "svg" else {"Software": None}
        fh: IO[bytes]
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=DPI, metadata=meta)


# --- compute --plot ------------------------------------------------------------------------


def result_figure(path: str | os.PathLike, result: Any) -> Any:
    """:func:`report_figure` of a :class:`~lossctl.result.Result` evaluated with
    ``report=True``."""
    if result.report is None:
        raise UsageError(f"a figure needs the report data: evaluate with {opt('report', True)}",
                         option="report")
    return report_figure(path, result.report, result.details)


def report_figure(path: str | os.PathLike, report: Any, details: dict | None = None) -> Any:
    """Draw a report in one figure and write it to ``path`` (``.png`` or ``.svg``).

    Subplots, left to right: the histogram of per-sample values (``report.histogram``), the
    mean loss per class (``report.per_class``, when there are classes) and the reliability
    diagram (``details["reliability"]``, for the calibration errors). Returns the figure.
    """
    table = reliability_rows(details)
    panels = [_histogram] + ([_per_class] if report.per_class else []) + (
        [_reliability] if table else [])
    with _figure(path, figsize=(4.6 * len(panels), 3.8)) as fig:
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for draw, ax in zip(panels, axes):
            draw(ax, report, details)
        fig.suptitle(_title(report))
    return fig


def reliability_rows(details: dict | None) -> list[dict]:
    """The bins of a calibration metric's reliability table that hold rows (empty when there is
    no table)."""
    rows = (details or {}).get("reliability")
    if not isinstance(rows, list):
        return []
    return [r for r in rows if isinstance(r, dict) and r.get("count")
            and r.get("accuracy") is not None and r.get("from") is not None]


def _title(report: Any) -> str:
    name = report.loss if not report.alias or report.alias == report.loss else (
        f"{report.loss} ({report.alias})")
    value = "" if report.value is None else f" = {report.value:.6g}"
    return f"{name}{value}, {report.convention}, {report.samples} samples"


def _log_spaced(edges: Sequence[float]) -> bool:
    """Whether the bins are the report's log-spaced ones (positive edges spanning more than
    two decades, the first edge possibly 0)."""
    pos = [e for e in edges if e > 0]
    return len(pos) >= 2 and min(edges) >= 0 and pos[-1] / pos[0] > 100 and len(pos) >= len(edges) - 1


def _histogram(ax: Any, report: Any, details: dict | None) -> None:
    bins = report.histogram
    ax.set_title("per-sample values")
    ax.set_ylabel("samples")
    if not bins:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
        return
    edges = [bins[0].lo] + [b.hi for b in bins]
    counts = [b.count for b in bins]
    log = _log_spaced(edges)
    if log and edges[0] <= 0:  # the first bin starts at 0: drawn one log step below the next
        edges[0] = edges[1] ** 2 / edges[2] if len(edges) > 2 else edges[1] / 10
    if edges[-1] == edges[0]:  # every value equal: one bar of some width
        half = abs(edges[0]) * 0.05 or 0.5
        edges = [edges[0] - half, edges[0] + half]
    ax.stairs(counts, edges, fill=True, color=_COLOR, alpha=0.85)
    if log:
        ax.set_xscale("log")
    name = report.labels[0]
    ax.set_xlabel(f"{name} (log scale)" if log else name)
    if report.samples and sum(counts) < report.samples:
        ax.text(0.98, 0.95, f"{sum(counts)} of {report.samples} shown", ha="right", va="top",
                transform=ax.transAxes, fontsize=8)


def _per_class(ax: Any, report: Any, details: dict | None) -> None:
    rows = report.per_class
    labels = [r.label for r in rows]
    x = list(range(len(rows)))
    mean = report.labels[1]
    ax.bar(x, [r.mean_loss for r in rows], color=_COLOR)
    ax.set_title(f"{mean} per class" + (" (elements)" if report.elements else ""))
    ax.set_xlabel("true class")
    ax.set_ylabel(mean)
    if len(rows) <= 40:
        ax.set_xticks(x, labels, rotation=90 if max(map(len, labels)) > 3 else 0)
    if report.value is not None and report.reduction == "mean" and not report.elements:
        ax.axhline(report.value, color=_ACCENT, lw=1, ls="--", label="overall")
        ax.legend(loc="upper right", fontsize=8)


def _reliability(ax: Any, report: Any, details: dict | None) -> None:
    rows = reliability_rows(details)
    lo = [float(r["from"]) for r in rows]
    hi = [float(r["to"]) for r in rows]
    width = [max(b - a, 0.005) for a, b in zip(lo, hi)]
    ax.bar(lo, [r["accuracy"] for r in rows], width=width, align="edge", color=_COLOR,
           edgecolor="white", label="accuracy")
    ax.plot([r["confidence"] for r in rows], [r["confidence"] for r in rows], "o",
            color=_ACCENT, ms=3, label="mean confidence")
    ax.plot([0, 1], [0, 1], color="gray", lw=1, ls=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ece = (details or {}).get("expected_calibration_error")
    binning = (details or {}).get("binning")
    ax.set_title("reliability" + (f" ({binning})" if binning else "") + (
        f", ECE {ece:.4f}" if isinstance(ece, float) and math.isfinite(ece) else ""))
    ax.legend(loc="upper left", fontsize=8)


# --- compare -------------------------------------------------------------------------------


def paired_difference_figure(path: str | os.PathLike, names: Sequence[str], differences: Any,
                             observed: float, interval: Sequence[float], *,
                             bins: int = 40) -> Any:
    """The distribution of bootstrap replicates of a paired difference between two models.

    Args:
        path: the file to write (``.png`` or ``.svg``).
        names: the two models, ``(baseline, candidate)``.
        differences: the replicates of ``value(candidate) - value(baseline)``.
        observed: the difference on the data itself.
        interval: the confidence interval ``(low, high)``.
        bins: histogram bins (linear: a difference is signed).

    Returns:
        The figure: one axes, the histogram (its counts add up to the finite replicates), a
        line at the observed difference, one at 0, and the interval shaded.
    """
    import numpy as np

    if len(names) != 2:
        raise UsageError(f"a paired difference is between two models, not {len(names)}")
    if len(interval) != 2 or not interval[0] <= interval[1]:
        raise UsageError(f"a confidence interval is (low, high), not {tuple(interval)!r}")
    d = np.asarray(differences, dtype=np.float64).reshape(-1)
    d = d[np.isfinite(d)]
    base, cand = (str(n) for n in names)
    with _figure(path, figsize=(6.4, 3.8)) as fig:
        ax = fig.subplots()
        if d.size:
            lo, hi = float(d.min()), float(d.max())
            if lo == hi:
                half = abs(lo) * 0.05 or 0.5
                lo, hi = lo - half, hi + half
            ax.hist(d, bins=np.linspace(lo, hi, bins + 1), color=_COLOR, alpha=0.85,
                    label=f"{d.size} bootstrap replicates")
        else:
            ax.text(0.5, 0.5, "no finite replicates", ha="center", va="center",
                    transform=ax.transAxes)
        ax.axvspan(interval[0], interval[1], color=_COLOR, alpha=0.15,
                   label=f"interval [{interval[0]:.4g}, {interval[1]:.4g}]")
        ax.axvline(observed, color=_ACCENT, lw=1.5, label=f"observed {observed:.4g}")
        ax.axvline(0.0, color="black", lw=1, ls=":", label="no difference")
        ax.set_xlabel(f"{cand} - {base}")
        ax.set_ylabel("replicates")
        ax.set_title(f"paired difference: {cand} vs {base}")
        ax.legend(loc="upper right", fontsize=8)
    return fig
