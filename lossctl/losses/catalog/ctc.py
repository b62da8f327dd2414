"""Registry entries: CTC (Connectionist Temporal Classification) over label sequences.

One :class:`~lossctl.losses.spec.LossSpec`; its function is :func:`lossctl.losses.ctc.ctc`.
Y_PRED is ``(N, T, C)``, one sample per sequence: ``kind="samples"`` gives the function the
blocks as read, so the N-D path of segmentation maps (elements as rows) never applies.
"""
from __future__ import annotations

from lossctl.errors import opt
from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_TORCH = {"convention": "torch"}
_OPTAX = {"log_epsilon": -1e5}

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="ctc",
        func="ctc:ctc",
        family="sequence",
        task="sequence",
        target="sequences",
        prediction="frame-scores",
        kind="samples",
        inputs=("targets", "log_probs", "input_lengths", "target_lengths"),
        optional_inputs=("input_lengths", "target_lengths"),
        mean_divisor="each",
        summary="CTC: the negative log-likelihood of each label sequence over all its "
        "alignments to the frames.",
        formula="l_n = -log sum_{alignments a of y_n to the T_n frames} prod_t p_t(a_t)   "
        "(blanks between labels; a repeated label needs a blank in between)",
        when="Sequence models without frame-level labels: speech and handwriting recognition, "
        "OCR (CTC heads).",
        siblings=("nll", "sparse_categorical_crossentropy"),
        example="lossctl compute ctc_loss samples/ctc_targets.csv samples/ctc_log_probs.npy "
        "--input-lengths samples/ctc_input_lengths.csv --target-lengths "
        "samples/ctc_target_lengths.csv",
        # two sequences: labels from standard input, int8 logits (2, 3, 3) as an NPY
        inline_example="printf '1,2\\n2,0\\n' | lossctl compute ctc - <(printf "
        "\"\\x93NUMPY\\x01\\x00\\x36\\x00{'descr':'|i1','fortran_order':False,"
        "'shape':(2,3,3)}\\n\\x00\\x03\\x00\\x03\\x00\\x00\\x00\\x00\\x03"
        "\\x00\\x00\\x03\\x03\\x00\\x00\\x03\\x00\\x00\")",
        aliases=(
            _a("ctc_loss", "torch", **_TORCH),
            _a("CTCLoss", "torch", **_TORCH),
            _a("CTC", "keras"),
            _a("ctc_loss", "tf.nn", prefix_only=True),
            _a("ctc_loss", "optax", prefix_only=True, **_OPTAX),
            _a("ctc_loss_with_forward_probs", "optax", **_OPTAX),
        ),
        options={"blank": 0, "zero_infinity": False, "log_epsilon": None},
        nonfinite_cause="a sequence has too few frames for its target (no alignment exists: "
        f"PyTorch's inf); {opt('zero_infinity', True)} counts such sequences as 0, as PyTorch "
        "does with it",
        conventions=("keras", "torch"),
        default_convention="keras",
        divergences="PyTorch takes log-probabilities as they are and its mean divides each "
        "loss by its target length before averaging; Keras, tf.nn and optax take logits "
        "(log_softmax inside) and average the losses themselves (Keras: sum over the batch "
        "size; tf.nn and optax return them unreduced). Keras's CTC has no lengths (all T "
        "frames; a target's length is its non-zero labels, 0 being blank and padding). A "
        "sequence too short for its target: PyTorch inf (0 with "
        f"{opt('zero_infinity', True)}), TensorFlow about 706.9 more than the best path "
        "(log(1e-307) in float32), optax about 1e5 per missing frame (log_epsilon). "
        "optax.ctc_loss_with_forward_probs gives the same loss; its forward probabilities "
        "(alpha) are not a loss and are not returned.",
    ),
)
