"""``lossctl compare --group-by``: per-slice deltas. Each slice's values are exactly what
``lossctl compute --group-by`` gives for that model, the slice delta's interval is the paired
bootstrap of the slice alone, a difference planted in the slices only is seen there, and every
output form and error is compute's."""
from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest
from conftest import sharp_probs
from typer.testing import CliRunner

import lossctl
from lossctl.cli import app
from lossctl.comparison import compare_models
from lossctl.errors import UsageError
from lossctl.losses import bootstrap

runner = CliRunner()
R = 200  # replicates: enough for an interval, quick


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Labels and a city column in one file; three models of unequal quality per city."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    d = tmp_path_factory.mktemp("slices")
    rng = np.random.default_rng(0)
    n = 1500
    y = rng.integers(0, 3, n)
    city = rng.choice(["oslo", "lima", "pune"], n)
    pacsv.write_csv(pa.table({"label": y, "city": city}), d / "y.csv")
    a = sharp_probs(rng, y, 1.0)
    b = sharp_probs(rng, y, 1.3)
    c = np.where((city == "pune")[:, None], sharp_probs(rng, y, 0.5), a)  # worse on pune only
    for name, p in (("a", a), ("b", b), ("c", c)):
        np.savetxt(d / f"{name}.csv", p, delimiter=",")
    np.save(d / "g.npy", rng.integers(1, 12, n))
    return d, y, city, {"a": a, "b": b, "c": c}


def _compare(d, *args, tty=False):
    return runner.invoke(app, ["compare", str(d / "y.csv"), str(d / "a.csv"), str(d / "b.csv"),
                               str(d / "c.csv"), "-l", "scce", "--replicates", str(R),
                               "--group-by", "city", *args],
                         obj={"stdout_isatty": True} if tty else None)


def _computed(d, model):
    """``lossctl compute scce y.csv MODEL.csv --group-by city`` in a pipe: group -> value."""
    r = runner.invoke(app, ["compute", "scce", str(d / "y.csv"), str(d / f"{model}.csv"),
                            "--group-by", "city"])
    assert r.exit_code == 0, r.stderr
    return {row["group"]: (float(row["value"]), int(row["samples"]))
            for row in csv.DictReader(io.StringIO(r.stdout))}


@pytest.fixture(scope="module")
def doc(data):
    d, *_ = data
    r = _compare(d, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_each_slice_value_is_computes_bit_for_bit(data, doc):
    d, *_ = data
    want = {m: _computed(d, m) for m in "abc"}
    assert [x["candidate"] for x in doc["differences"]] == ["b", "c"]
    for diff in doc["differences"]:
        assert len(diff["per_slice"]) == 3
        for s in diff["per_slice"]:
            base, n = want["a"][s["group"]]
            cand, _ = want[diff["candidate"]][s["group"]]
            assert s["baseline"] == base and s["candidate"] == cand, s
            assert s["count"] == n and s["delta"] == cand - base


def test_the_pipes_csv_is_computes_values_too(data):
    d, *_ = data
    r = _compare(d)
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("baseline,candidate,group,count,baseline_value,candidate_value,delta,"
                        "delta_low,delta_high")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(row["baseline"], row["candidate"]) for row in rows] == [("a", "b")] * 3 + [
        ("a", "c")] * 3
    want = {m: _computed(d, m) for m in "abc"}
    for row in rows:
        assert float(row["baseline_value"]) == want["a"][row["group"]][0]
        assert float(row["candidate_value"]) == want[row["candidate"]][row["group"]][0]
        assert int(row["count"]) == want["a"][row["group"]][1]
        assert float(row["delta_low"]) <= float(row["delta"]) <= float(row["delta_high"])
    for cand in "bc":  # largest |delta| first, for each candidate
        deltas = [abs(float(row["delta"])) for row in rows if row["candidate"] == cand]
        assert deltas == sorted(deltas, reverse=True)


def test_the_python_api_in_small_blocks_and_threads_equals_compute(data, monkeypatch):
    """The slices of a comparison computed in blocks of 100 rows on two threads are those of
    compute's defaults: the sums are exact, whatever the split."""
    from lossctl import budget

    d, y, city, models = data
    want = {m: _computed(d, m) for m in "ab"}
    monkeypatch.setattr(budget, "MAX_BLOCK_ROWS", 100)
    c = compare_models("scce", str(d / "y.csv"), [str(d / "a.csv"), str(d / "b.csv")],
                       group_by="city", replicates=R, threads=2)
    assert c.group_by == "city"
    (diff,) = c.differences
    assert sorted(s["group"] for s in diff.per_slice) == ["lima", "oslo", "pune"]
    for s in diff.per_slice:
        assert (s["baseline"], s["count"]) == want["a"][s["group"]]
        assert s["candidate"] == want["b"][s["group"]][0]
    # the whole comparison is unchanged by the slices
    plain = compare_models("scce", str(d / "y.csv"), [str(d / "a.csv"), str(d / "b.csv")],
                           true_cols="label", replicates=R)
    assert plain.differences[0].per_slice is None and plain.group_by is None
    assert (plain.differences[0].delta, plain.differences[0].low, plain.differences[0].p_value) \
        == (diff.delta, diff.low, diff.p_value)


def test_a_slices_interval_is_the_paired_bootstrap_of_its_rows_alone(data):
    d, y, city, models = data
    c = compare_models("scce", str(d / "y.csv"), [str(d / "a.csv"), str(d / "b.csv")],
                       group_by="city", replicates=R, level=90)
    for s in c.differences[0].per_slice:
        m = city == s["group"]
        ra = lossctl.evaluate("scce", y[m], models["a"][m], ci=90, replicates=R)
        rb = lossctl.evaluate("scce", y[m], models["b"][m], ci=90, replicates=R)
        assert (s["low"], s["high"]) == bootstrap.interval(rb.ci["values"] - ra.ci["values"], 90)
        assert s["low"] < s["delta"] < s["high"]


def test_a_difference_planted_in_the_slices_only_is_seen_there():
    """B is better than A on slice x, worse on slice y and the same on slice z, by amounts that
    cancel over the whole input: the overall difference is nothing, the slices' are not."""
    rng = np.random.default_rng(5)
    n = 3000
    group = np.repeat(["x", "y", "z"], n // 3)
    y = rng.normal(size=n)
    e = rng.normal(size=n)
    x, w = group == "x", group == "y"
    # errors halved on x (squared: a quarter); on y grown so that the sums of squares cancel
    grow = np.sqrt(1 + 0.75 * np.sum(e[x] ** 2) / np.sum(e[w] ** 2))
    a = y + e
    b = y + e * np.where(x, 0.5, np.where(w, grow, 1.0))
    c = compare_models("mse", y, [a, b], group_by="1", groups=group.reshape(-1, 1),
                       replicates=R)
    (diff,) = c.differences
    assert abs(diff.delta) < 1e-9 and diff.verdict == "no significant difference"
    by = {s["group"]: s for s in diff.per_slice}
    assert by["x"]["high"] < 0 < by["y"]["low"]  # better on x, worse on y, both clearly
    assert by["x"]["delta"] == pytest.approx(-by["y"]["delta"])
    assert by["z"]["delta"] == 0 and by["z"]["low"] == by["z"]["high"] == 0
    assert [s["group"] for s in diff.per_slice][2] == "z"  # the unchanged slice last


def test_groups_from_a_source_of_their_own(data):
    d, y, city, models = data
    g = np.load(d / "g.npy")
    c = compare_models("scce", str(d / "y.csv"), [str(d / "a.csv"), str(d / "b.csv")],
                       group_by="1", groups=str(d / "g.npy"), true_cols="label",
                       replicates=R)
    slices = c.differences[0].per_slice
    assert sorted(int(s["group"]) for s in slices) == sorted(set(g.tolist()))
    for s in slices:
        m = g == int(s["group"])
        assert s["baseline"] == lossctl.evaluate("scce", y[m], models["a"][m]).value
        assert s["candidate"] == lossctl.evaluate("scce", y[m], models["b"][m]).value


def test_json_shape(doc):
    assert doc["group_by"] == "city" and doc["samples"] == 1500
    for diff in doc["differences"]:
        assert set(diff["per_slice"][0]) == {"group", "count", "baseline", "candidate", "delta",
                                             "low", "high"}
        assert sum(s["count"] for s in diff["per_slice"]) == 1500
    worse = {s["group"]: s for s in doc["differences"][1]["per_slice"]}  # c: worse on pune
    assert worse["pune"]["low"] > 0 and doc["differences"][1]["per_slice"][0]["group"] == "pune"
    assert worse["oslo"]["delta"] == 0 == worse["lima"]["delta"]


def test_without_group_by_nothing_changes(data):
    d, *_ = data
    r = runner.invoke(app, ["compare", str(d / "y.csv"), str(d / "a.csv"), str(d / "b.csv"),
                            "--true-cols", "label", "-l", "scce", "--replicates", str(R),
                            "-f", "json"])
    doc = json.loads(r.stdout)
    assert "group_by" not in doc and "per_slice" not in doc["differences"][0]
    r = runner.invoke(app, ["compare", str(d / "y.csv"), str(d / "a.csv"), str(d / "b.csv"),
                            "--true-cols", "label", "-l", "scce", "--replicates", str(R)])
    assert r.stdout.splitlines()[0].startswith("model,value,")


def test_the_terminal_table_has_the_slices(data):
    d, *_ = data
    r = _compare(d, "--top", "2", tty=True)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "by city: 3 slices, largest changes first (b - a)" in out
    assert "by city: 3 slices, largest changes first (c - a)" in out
    table = out.split("by city: 3 slices, largest changes first (c - a)")[1]
    table = table.split("samples that changed most")[0]
    assert "95% CI low" in table and "group" in table
    assert table.index("pune") < table.index("oslo") and "lima" in table
    # the other tables of the report are still there, in their order
    for before, after in (("per class: largest changes (b - a)", "by city: 3 slices"),
                          ("by city: 3 slices", "samples that changed most (b - a)")):
        assert out.index(before) < out.index(after)
    assert re.search(r"┃ +row ┃ label +┃", out) and re.search(r"┃ class +┃ samples +┃", out)


@pytest.mark.parametrize("command", ["compute", "compare"])
def test_the_errors_are_computes(data, command, monkeypatch):
    d, *_ = data
    head = (["compute", "scce", str(d / "y.csv"), str(d / "a.csv")] if command == "compute" else
            ["compare", str(d / "y.csv"), str(d / "a.csv"), str(d / "b.csv"), "-l", "scce",
             "--replicates", str(R)])
    r = runner.invoke(app, [*head, "--group-by", "town"])
    assert r.exit_code == 1 and "no column named 'town' (in --group-by town)" in r.stderr
    r = runner.invoke(app, [*head, "--group-by", "label,city"])
    assert r.exit_code == 2 and "--group-by names one column" in r.stderr
    import lossctl.grouping as grouping

    monkeypatch.setattr(grouping, "MAX_GROUPS", 2)
    r = runner.invoke(app, [*head, "--group-by", "city"])
    assert r.exit_code == 2 and "more than 2 groups" in r.stderr


def test_the_python_errors(data, monkeypatch):
    d, *_ = data
    args = ("scce", str(d / "y.csv"), [str(d / "a.csv"), str(d / "b.csv")])
    with pytest.raises(UsageError, match="names one column"):
        compare_models(*args, group_by="label,city", replicates=R)
    import lossctl.grouping as grouping

    monkeypatch.setattr(grouping, "MAX_GROUPS", 2)
    with pytest.raises(UsageError, match="more than 2 groups"):
        compare_models(*args, group_by="city", replicates=R)
