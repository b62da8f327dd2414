"""Shards on worker processes (``jobs``) and on a Dask cluster (``scheduler``): the value, the
bootstrap replicates and the per-sample rows are the same bits as one process's, for any number
of jobs and any sharding; errors are the same errors (lossctl.distribute)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import lossctl
from lossctl.errors import DataError, LossctlError, ShapeError, UsageError

N = 6000
R = 50  # bootstrap replicates: few, so the tests stay fast


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The same rows as one NPY pair, 16 NPY shards (uneven sizes), 16 CSV shards holding
    labels and predictions together."""
    root = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(7)
    y = rng.integers(0, 4, N)
    p = rng.dirichlet([0.7] * 4, N)
    np.save(root / "y.npy", y)
    np.save(root / "p.npy", p)
    cuts = np.sort(rng.choice(np.arange(1, N), 15, replace=False))
    for d in ("ys", "ps", "csv"):
        (root / d).mkdir()
    for i, (a, b) in enumerate(zip(np.split(y, cuts), np.split(p, cuts))):
        np.save(root / "ys" / f"part-{i}.npy", a)
        np.save(root / "ps" / f"part-{i}.npy", b)
        lines = ["label,p0,p1,p2,p3"] + [f"{int(t)}," + ",".join(repr(float(v)) for v in row)
                                          for t, row in zip(a, b)]
        (root / "csv" / f"part-{i}.csv").write_text("\n".join(lines) + "\n")
    return root


def _same(a, b):
    assert a.value == b.value
    assert a.samples == b.samples
    if a.ci is not None:
        assert np.array_equal(a.ci["values"], b.ci["values"])
        assert (a.ci["low"], a.ci["high"]) == (b.ci["low"], b.ci["high"])


def test_one_file_16_shards_and_any_jobs_give_the_same_bits(data):
    one = lossctl.evaluate("scce", data / "y.npy", data / "p.npy", ci=95, replicates=R)
    for jobs in (1, 2):
        shards = lossctl.evaluate("scce", str(data / "ys"), str(data / "ps" / "*.npy"),
                                  ci=95, replicates=R, jobs=jobs)
        _same(one, shards)
        assert np.array_equal(one.per_sample, shards.per_sample)  # keep=True: in shard order
        assert np.array_equal(one.pred_class, shards.pred_class)


def test_text_shards_holding_both_are_counted_first_for_the_replicates(data):
    one = lossctl.evaluate("scce", data / "y.npy", data / "p.npy", ci=95, replicates=R,
                           keep=False)
    text = lossctl.evaluate("scce", str(data / "csv"), true_cols="label", pred_cols="p*",
                            ci=95, replicates=R, jobs=2, keep=False)
    _same(one, text)


def test_several_conventions_and_a_sample_weight_merge_alike(data):
    kw = dict(compare=["keras", "torch"], keep=False)
    one = lossctl.evaluate("scce", data / "y.npy", data / "p.npy", sample_weight=data / "p.npy",
                           weight_cols="1", **kw)
    two = lossctl.evaluate("scce", str(data / "ys"), str(data / "ps"),
                           sample_weight=str(data / "ps"), weight_cols="1", jobs=2, **kw)
    assert [r.value for r in one.compare] == [r.value for r in two.compare]


def test_a_shard_that_decides_otherwise_is_run_again_with_the_first_decision(tmp_path):
    """Keras converts 0/1 hinge labels to -1/+1 only when the first block's labels are all
    0/1: a later shard of 0/1 labels must not convert on its own."""
    (tmp_path / "y").mkdir()
    (tmp_path / "p").mkdir()
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.choice([-1.0, 1.0], 300), rng.choice([-1.0, 1.0], 300),
                        rng.choice([0.0, 1.0], 300)])
    p = rng.normal(size=900)
    for i in range(3):
        np.save(tmp_path / "y" / f"{i}.npy", y[300 * i:300 * (i + 1)])
        np.save(tmp_path / "p" / f"{i}.npy", p[300 * i:300 * (i + 1)])
    one = lossctl.evaluate("hinge", y, p, keep=False)
    two = lossctl.evaluate("hinge", str(tmp_path / "y"), str(tmp_path / "p"), jobs=2,
                           keep=False)
    assert one.value == two.value


def test_an_error_in_a_worker_is_the_one_process_error_with_the_global_row(data, tmp_path):
    bad = tmp_path / "csv"
    bad.mkdir()
    for f in sorted((data / "csv").iterdir()):
        (bad / f.name).write_text(f.read_text())
    lines = (bad / "part-5.csv").read_text().splitlines()
    lines[3] = "9," + lines[3].split(",", 1)[1]  # label 9 of 4 classes, the shard's 3rd row
    (bad / "part-5.csv").write_text("\n".join(lines) + "\n")
    errors = []
    for jobs in (1, 2):
        with pytest.raises(DataError) as info:
            lossctl.evaluate("scce", str(bad), true_cols="label", pred_cols="p*", jobs=jobs,
                             keep=False)
        errors.append(info.value)
    assert (errors[0].row, errors[0].location, str(errors[0])) == (
        errors[1].row, errors[1].location, str(errors[1]))
    assert "part-5.csv" in errors[1].location


def test_unequal_shard_sets_and_groups_are_refused_by_name(data, tmp_path):
    (tmp_path / "two").mkdir()
    for i in range(2):
        np.save(tmp_path / "two" / f"{i}.npy", np.zeros((3, 4)))
    with pytest.raises(ShapeError, match=r"part-2\.npy \(in .*ys\) has no matching shard"
                       r".*\(16 shards against 2\)"):
        lossctl.evaluate("scce", str(data / "ys"), str(tmp_path / "two"), jobs=2)
    with pytest.raises(UsageError, match="group_by"):
        lossctl.evaluate("scce", str(data / "csv"), true_cols="label", pred_cols="p*",
                         group_by="label", jobs=2)
    with pytest.raises(UsageError, match="jobs"):
        lossctl.evaluate("scce", str(data / "ys"), str(data / "ps"), jobs=0)


def test_parts_pickle_with_their_loss_by_name(data):
    from lossctl.pipeline import Evaluation, request

    ev = Evaluation(request("CrossEntropyLoss", data / "y.npy", data / "p.npy", keep=False,
                            ci=90, replicates=R))
    with pytest.warns(Warning):
        ev.run()
    comp = pickle.loads(pickle.dumps(ev.computations[0]))
    assert comp.spec is ev.computations[0].spec and comp.alias.name == "CrossEntropyLoss"


# ------------------------------------------------------------------------------- CLI
def test_cli_jobs_gives_the_same_value_rows_and_report(data, invoke):
    from lossctl.cli.env import Environment

    base = ("compute", "scce", data / "ys", data / "ps")
    assert invoke(*base, "--jobs", "2").stdout == invoke(*base).stdout
    rows = [invoke(*base, "-f", "csv", *j).stdout for j in ((), ("--jobs", "2"))]
    assert rows[0] == rows[1] and rows[0].count("\n") == N + 1
    ci = [invoke(*base, "--ci", "95", "--replicates", str(R), *j).stdout
          for j in ((), ("-j", "2"))]
    assert ci[0] == ci[1]
    # the report a terminal gets (worst samples, per class) is built from the merged blocks
    from typer.testing import CliRunner

    from lossctl.cli import app

    def table(*extra):
        env = Environment(stdout_isatty=True, stderr_isatty=False, stdin_isatty=True)
        res = CliRunner().invoke(app, [str(a) for a in (*base, *extra)], obj=env)
        assert res.exit_code == 0, res.output
        return res.stdout

    assert table("--jobs", "2") == table()


def test_cli_error_exits_1_naming_the_shard(data, tmp_path, invoke):
    bad = tmp_path / "ys"
    bad.mkdir()
    for f in sorted((data / "ys").iterdir()):
        np.save(bad / f.name, np.load(f))
    np.save(bad / "part-9.npy", np.full(np.load(data / "ys" / "part-9.npy").shape, 7))
    res = invoke("compute", "scce", bad, data / "ps", "--jobs", "2")
    assert res.exit_code == 1
    assert "part-9.npy" in res.stderr and "--jobs" not in res.stderr


def test_cli_scheduler_without_dask_names_the_extra(monkeypatch, data, invoke):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    res = invoke("compute", "scce", data / "ys", data / "ps", "--scheduler", "tcp://x:1")
    assert res.exit_code != 0 and "lossctl[dask]" in res.stderr


# ----------------------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=40) as lc:
        yield lc.scheduler_address


def test_a_local_dask_cluster_gives_the_single_process_bits(data, cluster, invoke,
                                                           monkeypatch):
    one = lossctl.evaluate("scce", data / "y.npy", data / "p.npy", ci=95, replicates=R,
                           keep=False)
    on = lossctl.evaluate("scce", str(data / "ys"), str(data / "ps"), ci=95, replicates=R,
                          scheduler=cluster, keep=False)
    _same(one, on)
    text = lossctl.evaluate("scce", str(data / "csv"), true_cols="label", pred_cols="p*",
                            scheduler=cluster, keep=False)
    assert text.value == one.value
    monkeypatch.setenv("LOSSCTL_SCHEDULER", cluster)
    res = invoke("compute", "scce", data / "ys", data / "ps")
    assert float(res.stdout) == one.value


def test_an_error_on_the_cluster_is_a_lossctl_error(data, cluster, tmp_path):
    (tmp_path / "p").mkdir()
    for f in sorted((data / "ps").iterdir()):
        np.save(tmp_path / "p" / f.name, np.load(f)[:, :3])  # 3 columns: labels up to 3
    with pytest.raises(LossctlError) as info:
        lossctl.evaluate("scce", str(data / "ys"), str(tmp_path / "p"), scheduler=cluster)
    assert info.value.source == str(data / "ys") or info.value.source == str(tmp_path / "p")


@pytest.mark.parametrize("jobs", [("--jobs", "2"), ()])
def test_progress_counts_shards_and_rows_on_a_terminal(data, monkeypatch, jobs):
    """The bar on a terminal's stderr names the shard count beside the rows, with --jobs (rows
    counted as shards come back) and in one process (as shards are read); stdout is the value."""
    import io

    from typer.testing import CliRunner

    from lossctl.cli import app, progress
    from lossctl.cli.env import Environment

    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws into the StringIO as on a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    err, out = io.StringIO(), io.StringIO()
    env = Environment(stdout_isatty=False, stderr_isatty=True, stdin_isatty=True, stderr=err,
                      stdout=out)
    res = CliRunner().invoke(app, ["compute", "scce", str(data / "ys"), str(data / "ps"),
                                   *jobs], obj=env)
    assert res.exit_code == 0, res.output
    assert float(out.getvalue()) == lossctl.evaluate("scce", str(data / "y.npy"),
                                                 str(data / "p.npy")).value
    drawn = err.getvalue()
    assert "shard 16/16" in drawn, drawn[-500:]
    assert f"{N}/{N}" in drawn or f"{N:,}/{N:,}" in drawn
