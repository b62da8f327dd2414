"""Regenerate the sample files in this folder (see README.md beside this script).

Run with any Python that has scikit-learn and numpy (lossctl itself never imports scikit-learn):

    python samples/make_samples.py

Everything comes from the small data sets that scikit-learn ships inside the package (digits,
iris, diabetes, breast_cancer: no download), split and fitted with fixed seeds, so a given
scikit-learn version reproduces the files byte for byte. Floats are written with ``repr`` (full
round-trip precision), integers as integers, ``\\n`` line ends.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

SEED = 0
HERE = Path(__file__).resolve().parent
MAX_BYTES = 60_000


def _cell(v) -> str:
    if isinstance(v, (str, np.str_)):
        return str(v)
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("write booleans as 0/1 integers")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def write_csv(name: str, rows, header: list[str] | None) -> None:
    """Write rows (a 1-D or 2-D array, or a list of lists) as CSV, with an optional header."""
    lines = []
    if header is not None:
        lines.append(",".join(header))
    for row in rows:
        row = row if isinstance(row, (list, tuple, np.ndarray)) else [row]
        lines.append(",".join(_cell(v) for v in row))
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def write_npy(name: str, array: np.ndarray) -> None:
    np.save(HERE / name, array, allow_pickle=False)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def digits() -> dict:
    """10-class softmax classifier on the 8x8 digits; 270 held-out rows (the CSVs stay < 60 KB)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=270, random_state=SEED, stratify=y
    )
    # C=0.05 keeps the probabilities away from exactly 0/1 so the losses are interesting.
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=5000))
    model.fit(X_train, y_train)
    probs = model.predict_proba(X_test)
    logits = model.decision_function(X_test)
    # For the multinomial model the decision function is the logit vector: softmax(logits) = probs.
    assert np.allclose(softmax(logits), probs, rtol=0, atol=1e-12)
    assert list(model.classes_) == list(range(10))
    labels = y_test.astype(np.int64)
    onehot = np.eye(10, dtype=np.int64)[labels]

    write_csv("digits_labels.csv", labels, ["label"])
    write_csv("digits_labels_1based.csv", labels + 1, ["label"])
    write_csv("digits_onehot.csv", onehot, None)
    write_csv("digits_probs.csv", probs, [f"p{k}" for k in range(10)])
    write_csv("digits_logits.csv", logits, [f"z{k}" for k in range(10)])
    # log_softmax of the logits, for losses that take log-probabilities (nll, kl_div)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logprobs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    write_csv("digits_logprobs.csv", logprobs, [f"lp{k}" for k in range(10)])
    write_csv(
        "digits_results.csv",
        [[int(t), *p] for t, p in zip(labels, probs)],
        ["label", *[f"p{k}" for k in range(10)]],
    )
    write_npy("digits_probs.npy", probs.astype(np.float64))
    write_npy("digits_labels.npy", labels)
    # a second model of the same rows for `lossctl compare`: ten times the regularisation
    small = make_pipeline(StandardScaler(), LogisticRegression(C=0.005, max_iter=5000))
    small.fit(X_train, y_train)
    write_csv("digits_probs_small.csv", small.predict_proba(X_test), [f"p{k}" for k in range(10)])
    p_true = probs[np.arange(len(labels)), labels]
    return {
        "rows": len(labels),
        "accuracy": float((probs.argmax(axis=1) == labels).mean()),
        "mean_ce": float(-np.log(p_true).mean()),
    }


def animals() -> dict:
    """String labels: iris (3 classes) renamed setosa->cat, versicolor->dog, virginica->bird."""
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=20, random_state=SEED, stratify=y
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))
    model.fit(X_train, y_train)
    probs = model.predict_proba(X_test)
    names = np.array(["cat", "dog", "bird"])  # iris class 0, 1, 2
    labels = names[y_test]
    order = np.argsort(names)  # columns in sorted class order: bird, cat, dog
    write_csv("animals_labels.csv", labels, ["label"])
    write_csv("animals_probs.csv", probs[:, order], list(names[order]))
    return {"rows": len(labels), "accuracy": float((probs.argmax(axis=1) == y_test).mean())}


def multilabel() -> dict:
    """The 5x3 multi-label example of the loss-engine issue, verbatim."""
    labels = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 0]]
    logits = [[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]]
    write_csv("multilabel_labels.csv", labels, None)
    write_csv("multilabel_logits.csv", [[float(v) for v in row] for row in logits], None)
    # sigmoid of the logits: independent probabilities, for dice/tversky/bce on probabilities
    sig = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
    write_csv("multilabel_probs.csv", sig, None)
    return {"rows": 5}


def regression() -> dict:
    """Linear regression on the diabetes data; 100 held-out rows."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=100, random_state=SEED)
    pred = LinearRegression().fit(X_train, y_train).predict(X_test)
    write_csv("regression_true.csv", y_test, ["target"])
    write_csv("regression_pred.csv", pred, ["prediction"])
    return {"rows": len(y_test), "mse": float(((pred - y_test) ** 2).mean())}


def binary() -> dict:
    """Breast cancer (1 = benign, the positive class); 150 held-out rows.

    Logistic regression gives probabilities; a linear SVM on the same rows gives margins for the
    +-1 (hinge-style) labels.
    """
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=150, random_state=SEED, stratify=y
    )
    logreg = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=5000))
    logreg.fit(X_train, y_train)
    assert list(logreg.classes_) == [0, 1]
    prob = logreg.predict_proba(X_test)[:, 1]
    svm = make_pipeline(StandardScaler(), LinearSVC(C=0.01, random_state=SEED, max_iter=20000))
    svm.fit(X_train, y_train)
    scores = svm.decision_function(X_test)
    labels = y_test.astype(np.int64)
    write_csv("binary_labels.csv", labels, ["label"])
    write_csv("binary_probs.csv", prob, ["prob"])
    write_csv("signed_labels.csv", 2 * labels - 1, ["label"])
    write_csv("margin_scores.csv", scores, ["score"])
    return {
        "rows": len(labels),
        "accuracy": float(((prob > 0.5) == labels).mean()),
        "svm_accuracy": float(((scores > 0) == labels).mean()),
    }


def sequences() -> dict:
    """CTC: 6 sequences of 12 frames over 5 classes (0 = blank), batch-first log-probabilities
    ``(N, T, C)``, right-padded labels (0 padding), their lengths. Synthetic: frames that spell
    each target (with blanks between) get most of the mass, plus noise."""
    rng = np.random.default_rng(SEED)
    n, t, c, s = 6, 12, 5, 4
    lengths = np.array([4, 2, 3, 1, 4, 0])
    frames = np.array([12, 9, 10, 6, 11, 5])
    labels = np.zeros((n, s), dtype=np.int64)
    z = rng.standard_normal((n, t, c))
    for i in range(n):
        labels[i, :lengths[i]] = rng.integers(1, c, lengths[i])
        path = [0] + [v for lab in labels[i, :lengths[i]] for v in (int(lab), 0)]
        for f in range(frames[i]):
            z[i, f, path[min(f * len(path) // frames[i], len(path) - 1)]] += 3.0
    z = z - z.max(axis=2, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    write_csv("ctc_targets.csv", labels, [f"l{k}" for k in range(s)])
    write_npy("ctc_log_probs.npy", log_probs)
    write_csv("ctc_input_lengths.csv", frames, ["input_length"])
    write_csv("ctc_target_lengths.csv", lengths, ["target_length"])
    return {"sequences": n, "frames": t, "classes": c}


def main() -> int:
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, seed {SEED}")
    for make in (digits, animals, multilabel, regression, binary, sequences):
        print(f"{make.__name__}: {make()}")
    too_big = []
    for path in sorted(HERE.iterdir()):
        if path.suffix in (".csv", ".npy"):
            size = path.stat().st_size
            print(f"  {path.name:28s} {size:7d} bytes")
            if size >= MAX_BYTES:
                too_big.append(path.name)
    if too_big:
        print(f"files over {MAX_BYTES} bytes: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
