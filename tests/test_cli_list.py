"""`lossctl list --framework`: the losses under each framework's own names, and the
``framework.NAME`` prefixes that pick that framework's meaning and convention."""
from __future__ import annotations

import csv
import io
import json
import math

import pytest

from lossctl.errors import UsageError
from lossctl.losses import registry


def test_list_framework_csv_rows_resolve_to_their_loss(invoke):
    res = invoke("list", "--framework", "torch")
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert rows and {r["framework"] for r in rows} == {"torch"}
    for r in rows:
        for name in r["name"].split():
            spec, alias = registry.lookup(f"torch.{name}")
            assert spec.name == r["loss"]
            assert alias.defaults.get("convention") == "torch"
    bce = [r for r in rows if r["loss"] == "binary_crossentropy"]
    # the names that take logits are a row of their own, saying so
    assert [r["implies"] for r in bce] == ["", "--from-logits"]


def test_list_framework_all_json_groups_every_framework(invoke):
    res = invoke("list", "-F", "all", "-f", "json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    order = [r["framework"] for r in rows]
    assert sorted(set(order), key=order.index) == [
        f for f in registry.FRAMEWORKS if f in order]
    assert {"keras", "torch", "optax", "tf.nn"} <= set(order)
    assert order == sorted(order, key=registry.FRAMEWORKS.index)  # grouped, in order


def test_list_framework_table_has_one_table_per_framework(runner):
    from lossctl.cli import app

    res = runner.invoke(app, ["list", "-F", "all", "--no-color"], obj={"stdout_isatty": True})
    assert res.exit_code == 0, res.stderr
    for fw in ("keras", "torch", "optax", "tf.nn"):
        assert f"{fw} losses (" in res.stdout
    assert "lossctl compute torch.NAME" in res.stdout


def test_list_framework_unknown_is_a_usage_error(invoke):
    res = invoke("list", "--framework", "caffe")
    assert res.exit_code == 2
    assert "unknown framework 'caffe'" in res.stderr and "torch" in res.stderr


@pytest.mark.parametrize(("name", "loss", "convention"), [
    ("torch.mse", "mean_squared_error", "torch"),
    ("keras.MSE", "mean_squared_error", "keras"),
    ("torch.MSELoss", "mean_squared_error", "torch"),
    ("tf.nn.softmax_cross_entropy_with_logits", "categorical_crossentropy", "keras"),
])
def test_framework_prefixes(name, loss, convention):
    spec, alias = registry.lookup(name)
    assert spec.name == loss
    assert alias.defaults.get("convention") == convention


def test_a_prefix_keeps_the_name_s_defaults():
    spec, alias = registry.lookup("tf.nn.sigmoid_cross_entropy_with_logits")
    assert alias.defaults["from_logits"] is True


def test_a_prefix_of_a_framework_without_that_loss_says_so():
    with pytest.raises(UsageError, match="not a torch loss") as e:
        registry.lookup("torch.hinge")
    assert "keras" in e.value.hint


def test_prefixed_values_follow_the_framework(invoke, write_text):
    """keras.scce clips at 1e-7 as Keras does; torch.scce is the PyTorch convention's
    number, the same as --convention torch."""
    y = write_text("y.csv", "0\n1\n")
    p = write_text("p.csv", "1,0\n0.6,0.4\n")
    keras = invoke("compute", "keras.scce", y, p)
    torch = invoke("compute", "torch.scce", y, p)
    flag = invoke("compute", "scce", y, p, "--convention", "torch")
    assert keras.exit_code == torch.exit_code == flag.exit_code == 0, keras.stderr
    assert float(torch.stdout) == float(flag.stdout) == pytest.approx(-0.5 * math.log(0.4),
                                                                      rel=1e-15)
    assert float(keras.stdout) != float(torch.stdout)
    assert float(keras.stdout) == pytest.approx(-0.5 * (math.log(1 - 1e-7) + math.log(0.4)),
                                                rel=1e-7)


def test_explain_lists_the_further_inputs_with_their_flags(invoke):
    text = invoke("explain", "triplet_margin_loss")
    assert text.exit_code == 0, text.stderr
    assert "- --negative: The negative embeddings" in text.stdout
    doc = json.loads(invoke("explain", "gaussian_nll", "-f", "json").stdout)
    assert doc["inputs"]["--var"].endswith("(--var 0.5) (required)")
    assert not any("\ue000" <= ch <= "\ue002" for ch in json.dumps(doc, ensure_ascii=False))  # no unrendered refs
