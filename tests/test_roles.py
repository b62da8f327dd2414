"""Inputs by role (``var``, ``input2``, ``negative``, ``linear_weight``): from files, from standard
input, from Y_TRUE's file by columns, and from Python; row-count mismatches, missing and
unneeded roles; streaming in blocks; the whole-batch kind within the memory limit."""
from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import lossctl
from lossctl.cli import app
from lossctl.errors import ShapeError, UsageError

runner = CliRunner()
RNG = np.random.default_rng(7)
X = RNG.normal(size=(40, 3))
Y = RNG.normal(size=(40, 3))
V = RNG.uniform(0.1, 2.0, size=(40, 3))
T = np.where(RNG.uniform(size=40) < 0.5, 1.0, -1.0)


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def value(r) -> float:
    assert r.exit_code == 0, r.stderr
    return float(r.stdout.strip())


def save(path, a, header=None):
    a = np.asarray(a)
    a = a.reshape(a.shape[0], -1)
    lines = [header] if header else []
    lines += [",".join(repr(float(v)) for v in row) for row in a]
    path.write_text("\n".join(lines) + "\n")
    return path


def gnll(y, x, v):
    v = np.maximum(v, 1e-6)
    return float(np.mean(0.5 * (np.log(v) + (x - y) ** 2 / v)))


# ----------------------------------------------------------------------------------- Python API
def test_api_arrays_and_scalar():
    assert lossctl.evaluate("gaussian_nll", Y, X, var=V).value == pytest.approx(gnll(Y, X, V))
    homo = lossctl.evaluate("gaussian_nll_loss", Y, X, var=V[:, 0]).value
    assert homo == pytest.approx(gnll(Y, X, V[:, :1]))
    assert lossctl.evaluate("GaussianNLLLoss", Y, X, var=0.5).value == pytest.approx(
        gnll(Y, X, np.full_like(X, 0.5)))


def test_api_sources(tmp_path):
    y, x, v = save(tmp_path / "y.csv", Y), save(tmp_path / "x.csv", X), save(tmp_path / "v.csv", V)
    np.savez(tmp_path / "a.npz", var=V)
    want = gnll(Y, X, V)
    assert lossctl.evaluate("gaussian_nll", str(y), str(x), var=str(v)).value == pytest.approx(want)
    assert lossctl.evaluate("gaussian_nll", str(y), str(x), var=f"{tmp_path}/a.npz:var"
                            ).value == pytest.approx(want)


def test_missing_and_unneeded_roles():
    with pytest.raises(UsageError, match="gaussian_nll needs var: give var SOURCE"):
        lossctl.evaluate("gaussian_nll", Y, X)
    with pytest.raises(UsageError, match="var does not apply to mean_squared_error"):
        lossctl.evaluate("mse", Y, X, var=V)
    with pytest.raises(UsageError, match="negative does not apply to gaussian_nll"):
        lossctl.evaluate("gaussian_nll", Y, X, var=V, negative=V)
    with pytest.raises(UsageError, match="needs negative"):
        lossctl.evaluate("triplet_margin_loss", X, Y)


def test_row_count_mismatch_names_the_option_and_file(tmp_path):
    y, x = save(tmp_path / "y.csv", Y), save(tmp_path / "x.csv", X)
    v = save(tmp_path / "short.csv", V[:30])
    with pytest.raises(ShapeError) as err:
        lossctl.evaluate("gaussian_nll", str(y), str(x), var=str(v))
    assert "var" in str(err.value) and "short.csv" in str(err.value)
    r = run("compute", "gaussian_nll", y, x, "--var", v)
    assert r.exit_code != 0 and "--var" in r.stderr and "short.csv" in r.stderr
    with pytest.raises(ShapeError):
        lossctl.evaluate("gaussian_nll", Y, X, var=V[:30])


def test_role_values_must_be_numbers_and_finite():
    bad = V.copy()
    bad[3, 1] = np.nan
    with pytest.raises(lossctl.LossctlError, match="var value"):
        lossctl.evaluate("gaussian_nll", Y, X, var=bad)
    with pytest.raises(lossctl.LossctlError, match="negative entry"):
        lossctl.evaluate("gaussian_nll", Y, X, var=-V)


# -------------------------------------------------------------------------------------- the CLI
def test_cli_role_from_a_file_and_from_stdin(tmp_path):
    y, x, v = save(tmp_path / "y.csv", Y), save(tmp_path / "x.csv", X), save(tmp_path / "v.csv", V)
    want = gnll(Y, X, V)
    assert value(run("compute", "gaussian_nll", y, x, "--var", v)) == pytest.approx(want)
    assert value(run("compute", "gaussian_nll", y, x, "--var", "-", input=v.read_text())
                 ) == pytest.approx(want)
    assert value(run("compute", "gaussian_nll", y, x, "--var", "0.5")) == pytest.approx(
        gnll(Y, X, np.full_like(X, 0.5)))
    r = run("compute", "gaussian_nll", "-", x, "--var", "-", input=y.read_text())
    assert r.exit_code != 0 and "standard input" in r.stderr


def test_cli_roles_as_columns_of_one_file_on_stdin():
    a = np.column_stack([T, X[:, 0], Y[:, 0]])
    text = "y,a,b\n" + "\n".join(",".join(map(repr, r)) for r in a.tolist()) + "\n"
    want = lossctl.evaluate("margin_ranking", T, X[:, 0], input2=Y[:, 0], margin=0.1).value
    got = value(run("compute", "margin_ranking_loss", "-", "--true-cols", "y", "--pred-cols", "a",
                    "--input2-cols", "b", "--margin", "0.1", input=text))
    assert got == pytest.approx(want, rel=1e-12)


def test_cli_missing_role_and_help():
    r = run("compute", "gaussian_nll", "samples/regression_true.csv", "samples/regression_pred.csv")
    assert r.exit_code != 0 and "gaussian_nll needs var: give --var SOURCE" in r.stderr
    r = run("compute", "--help")
    assert "--var" in r.stdout and "--negative" in r.stdout and "--input2" in r.stdout


def test_cli_inline_weight_matrix(tmp_path):
    h = RNG.normal(size=(10, 2))
    y = RNG.integers(0, 3, size=10)
    W = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    want = lossctl.evaluate("cross_entropy", y, h @ W.T).value
    got = value(run("compute", "linear_cross_entropy", save(tmp_path / "y.csv", y),
                    save(tmp_path / "h.csv", h), "--linear-weight", "1,0;0,1;0.5,0.5"))
    assert got == pytest.approx(want, rel=1e-12)
    w = save(tmp_path / "w.csv", W)
    assert value(run("compute", "linear_cross_entropy", tmp_path / "y.csv", tmp_path / "h.csv",
                     "--linear-weight", w)) == pytest.approx(want, rel=1e-12)


def test_compare_with_a_role():
    res = lossctl.evaluate("gaussian_nll", Y, X, var=V, compare=["torch"])
    assert res.compare[0].value == pytest.approx(gnll(Y, X, V))


# ------------------------------------------------------------------------------------ streaming
@pytest.mark.parametrize(("loss", "kw"), [
    ("gaussian_nll", {"var": V}),
    ("cosine_embedding", {"input2": Y}),
    ("triplet_margin", {"negative": V, "swap": True}),
])
def test_blocks_give_the_values_of_one_block(loss, kw, tmp_path, monkeypatch):
    import lossctl.budget as budget

    true = T if loss == "cosine_embedding" else Y
    one = lossctl.evaluate(loss, true, X, reduction="none", **kw).per_sample
    paths = {k: str(save(tmp_path / f"{k}.csv", v)) for k, v in kw.items()
             if isinstance(v, np.ndarray)}
    opts = {k: v for k, v in kw.items() if not isinstance(v, np.ndarray)}
    monkeypatch.setattr(budget, "block_rows", lambda *a, **k: 7)  # blocks of 7 rows
    got = lossctl.evaluate(loss, str(save(tmp_path / "t.csv", true)),
                           str(save(tmp_path / "x.csv", X)), reduction="none", **paths, **opts)
    np.testing.assert_array_equal(got.per_sample, one)


# ---------------------------------------------------------------------------------- whole batch
def test_whole_batch_losses_over_every_row(tmp_path, monkeypatch):
    import lossctl.budget as budget

    lab = RNG.integers(0, 4, size=40)
    e = X / np.linalg.norm(X, axis=1, keepdims=True)
    one = lossctl.evaluate("circle", lab, e, reduction="none").per_sample
    monkeypatch.setattr(budget, "block_rows", lambda *a, **k: 7)
    got = lossctl.evaluate("keras.Circle", str(save(tmp_path / "l.csv", lab)),
                           str(save(tmp_path / "e.csv", e)), reduction="none").per_sample
    np.testing.assert_allclose(got, one, rtol=1e-12)


def test_whole_batch_beyond_the_memory_limit():
    lab = np.arange(3000) % 7
    e = RNG.normal(size=(3000, 200))
    with pytest.raises(UsageError, match="memory_limit"):
        lossctl.evaluate("ntxent", lab, e, memory_limit="16M")


# ------------------------------------------------------------------------------- list / explain
def test_list_and_explain_show_the_roles():
    import json

    rows = json.loads(run("list", "-f", "json").stdout)
    trip = next(r for r in rows if r["name"] == "triplet_margin")
    assert trip["y_true"].startswith("anchor") and trip["y_pred"].startswith("positive")
    assert "--negative" in trip["inputs"]
    info = json.loads(run("explain", "gaussian_nll", "-f", "json").stdout)
    assert "--var" in info["inputs"]
