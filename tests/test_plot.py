"""Figures (``lossctl.plot``, ``compute --plot``): the files are PNG or SVG, the figures hold the
report's data (histogram counts, one bar per class, the reliability bins), the data output
is unchanged by ``--plot``, and bad paths, inputs and a missing matplotlib are refused before
anything is read."""
from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import lossctl
from lossctl import plot
from lossctl.errors import OutputError, UsageError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DIGITS = (str(SAMPLES / "digits_labels.csv"), str(SAMPLES / "digits_probs.csv"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_svg(path: Path) -> bool:
    return ET.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def _histogram_counts(ax) -> np.ndarray:
    """The counts of the histogram panel (one StepPatch)."""
    steps = [p for p in ax.patches if hasattr(p, "get_data")]
    assert len(steps) == 1
    return np.asarray(steps[0].get_data().values)


def _bars(ax) -> list:
    from matplotlib.patches import Rectangle

    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_report_figure_draws_the_histogram_and_one_bar_per_class(tmp_path):
    res = lossctl.evaluate("scce", *DIGITS, report=True)
    fig = plot.report_figure(tmp_path / "r.png", res.report, res.details)
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG_MAGIC
    hist, classes = fig.axes
    assert _histogram_counts(hist).sum() == res.samples == 270
    assert hist.get_xscale() == "log"  # cross-entropy spans decades, as the report's bins do
    bars = _bars(classes)
    assert len(bars) == res.classes == len(res.report.per_class) == 10
    assert [b.get_height() for b in bars] == pytest.approx(
        [r.mean_loss for r in res.report.per_class])
    assert [t.get_text() for t in classes.get_xticklabels()] == [str(i) for i in range(10)]


def test_a_calibration_metric_adds_the_reliability_diagram_in_svg(tmp_path):
    res = lossctl.evaluate("expected_calibration_error", *DIGITS, report=True, bins=10)
    fig = plot.result_figure(tmp_path / "c.svg", res)
    assert _is_svg(tmp_path / "c.svg")
    assert len(fig.axes) == 3
    rows = [r for r in res.details["reliability"] if r["count"]]
    bars = _bars(fig.axes[2])
    assert len(bars) == len(rows) and 0 < len(rows) <= 10
    assert [b.get_height() for b in bars] == pytest.approx([r["accuracy"] for r in rows])
    assert [b.get_x() for b in bars] == pytest.approx([r["from"] for r in rows])
    assert "ECE" in fig.axes[2].get_title()


def test_no_classes_no_class_panel_and_linear_bins_for_a_narrow_range(tmp_path):
    rng = np.random.default_rng(0)
    y, p = np.zeros(500), rng.uniform(1.0, 2.0, 500)  # squared errors in [1, 4]: one decade
    res = lossctl.evaluate("mse", y, p, report=True)
    fig = plot.report_figure(tmp_path / "m.png", res.report, res.details)
    (hist,) = fig.axes
    assert hist.get_xscale() == "linear"
    assert _histogram_counts(hist).sum() == 500


def test_plot_format_is_the_extension_and_anything_else_names_the_option(tmp_path):
    assert plot.plot_format("a/b.PNG") == "png" and plot.plot_format("x.svg") == "svg"
    for bad in ("report.pdf", "report", "-"):
        with pytest.raises(UsageError) as err:
            plot.plot_format(bad)
        assert err.value.option == "plot"
        assert "plot" in str(err.value) and err.value.hint
    with pytest.raises(UsageError):
        plot.report_figure(tmp_path / "r.jpg", lossctl.evaluate("scce", *DIGITS,
                                                                report=True).report)
    assert not list(tmp_path.iterdir())


def test_the_figure_is_written_atomically(tmp_path, monkeypatch):
    """A failure while saving leaves the old file as it was and no temporary file; a success
    replaces it whole."""
    from matplotlib.figure import Figure

    target = tmp_path / "r.png"
    target.write_bytes(b"old figure")
    report = lossctl.evaluate("scce", *DIGITS, report=True).report
    real = Figure.savefig

    def half_then_fail(self, fh, **kwargs):
        fh.write(PNG_MAGIC + b"half")
        raise RuntimeError("renderer died")

    monkeypatch.setattr(Figure, "savefig", half_then_fail)
    with pytest.raises(RuntimeError):
        plot.report_figure(target, report)
    assert target.read_bytes() == b"old figure"
    assert [p.name for p in tmp_path.iterdir()] == ["r.png"]
    monkeypatch.setattr(Figure, "savefig", real)
    plot.report_figure(target, report)
    assert target.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["r.png"]


def test_paired_difference_figure(tmp_path):
    rng = np.random.default_rng(1)
    diffs = rng.normal(-0.02, 0.01, 2000)
    diffs[:5] = np.nan  # replicates without a value are left out
    lo, hi = np.nanpercentile(diffs, [2.5, 97.5])
    fig = plot.paired_difference_figure(tmp_path / "d.svg", ["model_a", "model_b"], diffs,
                                        -0.021, (lo, hi), bins=30)
    assert _is_svg(tmp_path / "d.svg")
    (ax,) = fig.axes
    (hist,) = ax.containers
    bars = list(hist)
    assert len(bars) == 30
    assert sum(b.get_height() for b in bars) == 1995
    assert sorted(line.get_xdata()[0] for line in ax.lines) == pytest.approx([-0.021, 0.0])
    (span,) = [p for p in ax.patches if p not in bars]  # the interval
    xs = ax.transData.inverted().transform(span.get_verts())[:, 0]
    assert (xs.min(), xs.max()) == pytest.approx((lo, hi))
    assert ax.get_xlabel() == "model_b - model_a"
    fig = plot.paired_difference_figure(tmp_path / "d.png", ("a", "b"), [0.5] * 10, 0.5,
                                        (0.5, 0.5))
    assert (tmp_path / "d.png").read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(UsageError):
        plot.paired_difference_figure(tmp_path / "e.png", ["a"], diffs, 0.0, (lo, hi))
    with pytest.raises(UsageError):
        plot.paired_difference_figure(tmp_path / "e.png", ["a", "b"], diffs, 0.0, (hi, lo))
    assert not (tmp_path / "e.png").exists()


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [(), ("-f", "csv"), ("-f", "json"), ("-r", "none")])
def test_compute_plot_writes_the_figure_and_leaves_stdout_as_it_was(invoke, tmp_path, fmt):
    without = invoke("compute", "scce", *DIGITS, *fmt)
    out = tmp_path / "report.png"
    with_plot = invoke("compute", "scce", *DIGITS, *fmt, "--plot", out)
    assert without.exit_code == with_plot.exit_code == 0, with_plot.stderr
    assert with_plot.stdout == without.stdout
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_compute_plot_of_a_calibration_error_from_the_cli(invoke, tmp_path):
    out = tmp_path / "cal.svg"
    r = invoke("compute", "expected_calibration_error", *DIGITS, "--plot", out)
    assert r.exit_code == 0, r.stderr
    assert _is_svg(out)
    assert "reliability" in out.read_text()


def test_compute_plot_with_a_bad_extension_is_a_usage_error(invoke, tmp_path):
    r = invoke("compute", "scce", *DIGITS, "--plot", tmp_path / "report.pdf")
    assert r.exit_code == 2
    assert "--plot" in r.stderr and ".png or .svg" in r.stderr
    assert not list(tmp_path.iterdir())


def test_compute_plot_is_never_written_over_an_input(invoke, tmp_path):
    probs = tmp_path / "probs.csv"
    probs.write_bytes(Path(DIGITS[1]).read_bytes())
    link = tmp_path / "probs.png"
    link.symlink_to(probs)  # a .png name for the input file itself
    before = probs.read_bytes()
    r = invoke("compute", "scce", DIGITS[0], link, "--plot", link)
    assert r.exit_code == 1
    assert "refusing to overwrite an input" in r.stderr and "--plot" in r.stderr
    assert probs.read_bytes() == before


def test_a_missing_matplotlib_fails_before_any_input_is_read(invoke, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails
    with pytest.raises(OutputError):
        plot.check_plot(tmp_path / "r.png")
    missing = tmp_path / "not_there.csv"  # were it read, the error would be about this file
    r = invoke("compute", "scce", missing, DIGITS[1], "--plot", tmp_path / "r.png")
    assert r.exit_code == 1
    assert r.stderr.strip() == ("lossctl: error: --plot needs matplotlib, which is not "
                                "installed: install it with pip install 'lossctl[plot]'")
    assert not list(tmp_path.iterdir())
    r = invoke("compute", "scce", *DIGITS)  # without --plot nothing needs it
    assert r.exit_code == 0, r.stderr


def test_the_readme_shows_a_small_committed_figure():
    readme = (ROOT / "README.md").read_text()
    assert "## Plots" in readme and "(samples/report.png)" in readme
    image = SAMPLES / "report.png"
    assert image.read_bytes()[:8] == PNG_MAGIC
    assert os.path.getsize(image) < 150_000
