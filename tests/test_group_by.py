"""``--group-by``: every value per group of rows, in one pass, equal to a run on each group's
rows alone, in every output form."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import lossctl
from lossctl.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    d = tmp_path_factory.mktemp("groups")
    rng = np.random.default_rng(0)
    n = 900
    y = rng.integers(0, 3, n)
    p = rng.dirichlet(np.ones(3), n)
    city = rng.choice(["oslo", "lima", "pune", "kobe"], n)
    pacsv.write_csv(pa.table({"label": y, "city": city}), d / "y.csv")
    np.savetxt(d / "p.csv", p, delimiter=",")
    np.save(d / "g.npy", rng.integers(1, 12, n))
    return d, y, p, city


@pytest.fixture
def small_blocks(monkeypatch):
    from lossctl import budget

    monkeypatch.setattr(budget, "MAX_BLOCK_ROWS", 100)


@pytest.mark.parametrize("threads", [1, 2])
def test_each_group_equals_a_run_on_its_rows(data, small_blocks, threads):
    d, y, p, city = data
    res = lossctl.evaluate("scce,accuracy,expected_calibration_error", str(d / "y.csv"),
                           str(d / "p.csv"), group_by="city", threads=threads)
    assert [k for k, _ in res.groups] == sorted(set(city))
    for key, rs in res.groups:
        m = city == key
        for r, name in zip(rs, ("scce", "accuracy", "expected_calibration_error")):
            alone = lossctl.evaluate(name, y[m], p[m])
            assert r.value == alone.value and r.samples == int(m.sum()), (key, name)
    assert res.value == lossctl.evaluate("scce", y, p).value  # the whole is unchanged


def test_groups_from_a_source_of_their_own_in_natural_order(data):
    d, y, p, _ = data
    g = np.load(d / "g.npy")
    res = lossctl.evaluate("roc_auc", (y == 1).astype(int), p[:, 1], group_by="1",
                           groups=str(d / "g.npy"))
    assert [k for k, _ in res.groups] == [str(k) for k in sorted(set(g.tolist()))]
    for key, (r,) in res.groups:
        m = g == int(key)
        assert r.value == lossctl.evaluate("roc_auc", (y[m] == 1).astype(int), p[m, 1]).value


def test_each_groups_interval_is_its_own_runs(data):
    d, y, p, city = data
    res = lossctl.evaluate("scce", str(d / "y.csv"), str(d / "p.csv"), group_by="city", ci=90,
                           replicates=50)
    for key, (r,) in res.groups:
        m = city == key
        alone = lossctl.evaluate("scce", y[m], p[m], ci=90, replicates=50)
        np.testing.assert_array_equal(r.ci["values"], alone.ci["values"])


def test_a_pipe_gets_a_row_per_group(data):
    d, y, p, city = data
    r = runner.invoke(app, ["compute", "scce", str(d / "y.csv"), str(d / "p.csv"),
                            "--group-by", "city"])
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["group"] for row in rows] == sorted(set(city))
    for row in rows:
        m = city == row["group"]
        assert int(row["samples"]) == m.sum()
        assert float(row["value"]) == lossctl.evaluate("scce", y[m], p[m]).value


def test_json_and_terminal(data):
    d, *_ = data
    args = ["compute", "scce", str(d / "y.csv"), str(d / "p.csv"), "--group-by", "city"]
    doc = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    assert [g["group"] for g in doc["groups"]] == ["kobe", "lima", "oslo", "pune"]
    assert len(doc["per_sample"]) == 900
    out = runner.invoke(app, args, obj={"stdout_isatty": True}).stdout
    assert "by city: 4 groups" in out and "oslo" in out


def test_one_column_only_and_not_too_many_groups(data, monkeypatch):
    d, *_ = data
    r = runner.invoke(app, ["compute", "scce", str(d / "y.csv"), str(d / "p.csv"),
                            "--group-by", "label,city"])
    assert r.exit_code == 2 and "--group-by names one column" in r.stderr
    import lossctl.grouping as grouping

    monkeypatch.setattr(grouping, "MAX_GROUPS", 3)
    r = runner.invoke(app, ["compute", "scce", str(d / "y.csv"), str(d / "p.csv"),
                            "--group-by", "city"])
    assert r.exit_code == 2 and "more than 3 groups" in r.stderr


def test_a_hive_partition_key_is_a_group_column(data, tmp_path):
    import pyarrow as pa
    import pyarrow.dataset as ds

    _, y, p, city = data
    table = pa.table({"label": y, "city": city})
    ds.write_dataset(table, tmp_path / "y", format="parquet", partitioning=["city"],
                     partitioning_flavor="hive")
    order = np.concatenate([np.flatnonzero(city == c) for c in sorted(set(city))])
    res = lossctl.evaluate("scce", str(tmp_path / "y"), p[order], group_by="city")
    for key, (r,) in res.groups:
        m = city == key
        assert r.value == lossctl.evaluate("scce", y[m], p[m]).value


def test_id_cols_are_carried_into_the_per_sample_rows(data):
    d, y, p, city = data
    r = runner.invoke(app, ["compute", "scce", str(d / "y.csv"), str(d / "p.csv"), "--id-cols",
                            "city", "-f", "csv"])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["index", "city", "label", "predicted", "loss"]
    assert [row["city"] for row in rows] == city.tolist()
    want = lossctl.evaluate("scce", y, p).per_sample
    assert [float(row["loss"]) for row in rows] == want.tolist()
