"""The one path from inputs to a loss value: :func:`lossctl.evaluate`, used by the CLI and Python.

::

    import lossctl
    res = lossctl.evaluate("scce", "samples/digits_labels.csv", "samples/digits_probs.csv")
    res.value                      # 0.23187772564346193, what `lossctl compute` prints
    lossctl.evaluate("scce", [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]).per_sample
    lossctl.evaluate("scce", "results.csv", true_cols="label", pred_cols="p*")
    lossctl.evaluate("bce", y, p, compare=["keras", "torch"]).compare

Each input is an array, a list, or any source the CLI reads (a path, ``file.npz:key``, ``-``).
The pipeline (:class:`Evaluation`) opens and selects the sources, aligns their rows, sizes the
blocks from the memory budget, reads ahead in a thread while a block is computed, feeds every
computation (one per convention for ``compare``) in one pass, builds the report data, and
returns a :class:`~lossctl.result.Result`. ``on_block`` receives each block's per-sample values
as they are computed, so a caller can stream them out in bounded memory.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from lossctl.record import field, record, replace
from lossctl.record import fields as record_fields
from typing import IO, Any

import numpy as np

from lossctl import budget, diagnostics, inputs
from lossctl.compare import Run, reasons
from lossctl.computations import _given_roles, losses, make_computations
from lossctl.engine import BlockResult, Computation
from lossctl.errors import UsageError, opt
from lossctl.losses import registry
from lossctl.result import CompareRow, Result, SampleRows
from lossctl.validation import Input

__all__ = ["Evaluation", "Request", "evaluate", "losses", "make_computations", "request"]


@record
class Request:
    """Everything one evaluation needs; see :func:`evaluate` for the fields."""

    loss: str
    y_true: Any
    y_pred: Any = None
    sample_weight: Any = None
    true_cols: str | None = None
    pred_cols: str | None = None
    weight_cols: str | None = None
    class_weight: Any = None
    classes: Sequence[str] | None = None
    convention: str | None = None
    reduction: str | None = None
    dtype: str = "float64"
    offset: int | None = None
    ignore_class: int | None = None
    elementwise: bool | None = None
    class_axis: int | None = None
    compare: Sequence[str] | None = None
    header: bool | None = None
    delimiter: str | None = None
    memory_limit: str | int = budget.DEFAULT
    #: threads computing blocks (None: one per core); the value is the same for any number
    threads: int | None = None
    #: worker processes running the shards of a shard set (lossctl.distribute); or the
    #: address of a Dask scheduler running them
    jobs: int = 1
    scheduler: str | None = None
    #: a folder: each shard's per-sample rows written to a file of its own there, by the
    #: process that computed it (lossctl.out.shards), in ``shard_format`` (csv, tsv, jsonl,
    #: npy, parquet; floats with ``shard_precision`` digits in text)
    shard_output: str | None = None
    shard_format: str | None = None
    shard_precision: int = 6
    keep: bool = True
    details: bool = True
    report: bool = False
    top: int = 10
    fail_above: float | None = None
    fail_below: float | None = None
    #: the bootstrap confidence level in percent (95): ``Result.ci``
    ci: float | None = None
    #: bootstrap (and sign-flip) replicates, and the seed of their weights
    replicates: int = 1000
    seed: int = 0
    #: kinds of replicates kept (``("poisson",)`` for ``ci``; ``compare`` adds ``"signs"``)
    resample: Sequence[str] | None = None
    #: slices: the column SPEC of each row's group (of ``groups``, or of Y_TRUE's file)
    group_by: str | None = None
    groups: Any = None
    #: identifier columns of Y_TRUE's file carried into the per-sample rows
    id_cols: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: further inputs by role (``var``, ``input2``, ...): arrays, sources or numbers
    roles: dict[str, Any] = field(default_factory=dict)
    #: their column SPECs (``var_cols``); a role with columns and no source is read from
    #: Y_TRUE's file
    role_cols: dict[str, str] = field(default_factory=dict)


_FIELDS = {f.name for f in record_fields(Request)} - {"options", "roles", "role_cols"}


def request(loss: str, y_true: Any = None, y_pred: Any = None, **kwargs: Any) -> Request:
    """A :class:`Request`: keywords naming a further input (``var``, ``var_cols``) are its
    roles; the others that are not fields of it are the loss's own options."""
    names = registry.roles()
    fields = {k: v for k, v in kwargs.items() if k in _FIELDS}
    roles = {k: v for k, v in kwargs.items() if k in names and v is not None}
    cols = {k[:-5]: v for k, v in kwargs.items()
            if k.endswith("_cols") and k[:-5] in names and v is not None}
    options = {k: v for k, v in kwargs.items() if k not in _FIELDS and k not in names
               and not (k.endswith("_cols") and k[:-5] in names)}
    return Request(loss, y_true, y_pred, options=options, roles=roles, role_cols=cols,
                   **fields)


#: The name of the identifier columns among a block's further inputs (``id_cols``).
IDS = "__ids__"

OnBlock = Callable[[BlockResult], None]


class Evaluation:
    """One run of the pipeline. See the module docstring.

    Attributes (after :meth:`run` has opened the inputs):
        rows: the :class:`~lossctl.result.SampleRows` layout of the per-sample rows.
        total: the number of rows, when the sources know it up front (binary formats).
        width: the number of prediction columns.
    """

    def __init__(self, req: Request, *, stdin: IO[bytes] | None = None) -> None:
        self.request = req
        self.stdin = stdin
        for name in losses(req):
            registry.lookup(name)  # an unknown name is the first thing to report
        self._check_inputs()
        self.budget = budget.parse_size(req.memory_limit)
        self.threads = budget.threads(req.threads)
        self.read_options = inputs.read_options(req.header, req.delimiter, self.budget)
        cw, self.class_weight_source = inputs.class_weights(req.class_weight, self.read_options,
                                                            stdin)
        make_computations(req, cw)  # (usage errors, before a role is read)
        self.roles = _given_roles(req)
        for name, value in req.roles.items():  # read whole, or one number
            self.roles[name] = inputs.role_constant(name, value, self.read_options, stdin)
        self.computations = make_computations(req, cw, self.roles)
        #: several losses in one pass (not conventions of one): ``Result.others``
        self.several = len(losses(req)) > 1
        kinds = tuple(req.resample or (("poisson",) if req.ci is not None else ()))
        for comp in self.computations:
            if kinds:
                comp.resample(replicates=req.replicates, seed=req.seed, kinds=kinds)
                comp.ci_level = req.ci
            comp.class_weight_source = self.class_weight_source
            comp.details = req.details
            comp.memory_limit = budget.usable(self.budget)  # values held for medians, maxima
        self.rows: SampleRows | None = None
        self.total: int | None = None
        self.width: int | None = None
        self.shape: tuple[int, ...] | None = None
        self.groups: Any = None  # lossctl.grouping.Groups, with group_by
        #: (shards done, shards) of a shard set, for progress (:meth:`shards`)
        self.shard_progress: tuple[int, int] | None = None
        self._shard_source: Any = None
        #: further inputs that are lossctl's own (group, identifiers), kept from the losses
        self._private: tuple[str, ...] = ()

    def _check_inputs(self) -> None:
        req = self.request
        for name in ("fail_above", "fail_below"):
            limit = getattr(req, name)
            if limit is not None and not (isinstance(limit, (int, float))
                                          and math.isfinite(limit)):
                raise UsageError(f"{opt(name)} must be a finite number (got {limit!r}): a gate "
                                 "at NaN or infinity can never fail", option=name)
        if req.ci is not None and not (isinstance(req.ci, (int, float)) and 0 < req.ci < 100):
            raise UsageError(f"{opt('ci')} is a confidence level in percent, above 0 and below "
                             f"100 (got {req.ci!r})", hint=f"for example {opt('ci', 95)}",
                             option="ci")
        if not (isinstance(req.replicates, int) and req.replicates >= 2):
            raise UsageError(f"{opt('replicates')} must be a whole number of at least 2 (got "
                             f"{req.replicates!r})", hint="1000 is usual for an interval",
                             option="replicates")
        if isinstance(req.y_true, str) and req.y_true == "-" and req.y_pred == "-":
            raise UsageError(f"{opt('y_true')} and {opt('y_pred')} cannot both be standard input")
        dashes = [k for k, v in (("y_true", req.y_true), ("y_pred", req.y_pred),
                                 ("sample_weight", req.sample_weight), *req.roles.items())
                  if isinstance(v, str) and v == "-"]
        if len(dashes) > 1:
            raise UsageError(f"{opt(dashes[0])} and {opt(dashes[1])} cannot both be standard "
                             "input", hint="give one of them as a file", option=dashes[1])
        if req.y_pred is None and not (req.true_cols and req.pred_cols):
            raise UsageError(
                f"{opt('y_pred')} is missing",
                hint=f"give the predictions, or select both from one file with "
                f"{opt('true_cols')} and {opt('pred_cols')}",
                option="y_pred",
            )

    # -------------------------------------------------------------------------- inputs
    def _open(self, stack: contextlib.ExitStack) -> Iterator[tuple[int, tuple]]:
        req = self.request
        ro = self.read_options
        # blocks of the labels and predictions may be column-major where that saves a copy,
        # if every loss gives the same bits on them
        pro = replace(ro, column_major=all(c.spec.layout_free for c in self.computations))
        # class names known up front are labels: a first line of them is data, not a header
        tro = pro if req.classes is None else replace(pro, known_labels=tuple(req.classes))
        t = stack.enter_context(inputs.open_input(req.y_true, "y_true", tro, self.stdin))
        same = req.y_pred is None
        p = t if same else stack.enter_context(inputs.open_input(req.y_pred, "y_pred", pro,
                                                                 self.stdin))
        w = None if req.sample_weight is None else stack.enter_context(
            inputs.open_input(req.sample_weight, "sample_weight", ro, self.stdin))
        self._shard_source = t if hasattr(t, "progress") else None  # a shard set
        if self._shard_source is not None:
            from lossctl.io.shards import align_shards

            for src in (p, w):
                align_shards(t, src)  # two shard sets: paired by name, or an error naming one
        tsel = inputs.select(t, req.true_cols, "true_cols")
        psel = inputs.select(p, req.pred_cols, "pred_cols")
        self.shape = getattr(p, "dims", None)  # N-D predictions: one sample's shape
        wsel = None if w is None else inputs.weight_column(
            w, req.weight_cols, maps=self.shape is not None)
        if req.classes is None and p.has_header and psel is not None:
            for comp in self.computations:  # string labels are matched to the header names
                comp.classes = [p.columns[i] for i in psel]
        self.total = t.nrows if t.nrows is not None else p.nrows
        self.width = None if psel is None else len(psel)
        extra = self._open_roles(stack, t, ro)
        if req.group_by is not None:
            tsel = self._open_groups(stack, t, tsel, ro, extra)
        self.id_names: list[str] = []
        if req.id_cols is not None:
            tsel = self._open_ids(t, tsel, extra)
        row_bytes = 8 * sum(_cells(src, sel) for src, sel in ((t, tsel), (p, psel), (w, wsel),
                                                             *((s, c) for _, s, c in extra))
                            if src is not None)
        self.row_bytes = row_bytes
        inputs.set_block_rows((t, p, w, *(s for _, s, _ in extra)),
                              budget.block_rows(self.budget // self.threads, row_bytes))
        comp = self.computations[0]
        self.rows = SampleRows(elementwise=comp.elementwise, class_names=req.classes,
                               offset=comp.offset)
        if self.several:
            self.rows.losses = [c.spec.name for c in self.computations]
        self.rows.ids = self.id_names
        self._inputs = (Input("y_true", t.name, t.location), Input("y_pred", p.name, p.location),
                        Input("sample_weight", w.name, w.location) if w is not None else None)
        self._names = tuple([] if sel is None else [src.columns[i] for i in sel]
                            for src, sel in ((t, tsel), (p, psel)))
        # arrays in memory have nothing to read ahead: a thread would only cost its start
        self._read_ahead = not all(isinstance(s, inputs.ArraySource)
                                   for s in (t, p, w, *(s for _, s, _ in extra)) if s is not None)
        return inputs.aligned_blocks(t, p, w, tsel, psel, wsel, same_file=same, extra=extra)

    def _open_groups(self, stack: contextlib.ExitStack, t: Any, tsel: Any, ro: Any,
                     extra: list) -> Any:
        """The group column, read beside the inputs as a further input (``extra``); the label
        columns of Y_TRUE's file, when not chosen, are the others."""
        from lossctl.grouping import GROUP, Groups

        req = self.request
        if self.computations[0].spec.kind == "batch":
            raise UsageError(f"{opt('group_by')} does not apply to "
                             f"{self.computations[0].spec.name}: it pairs rows across the batch",
                             option="group_by")
        src = t if req.groups is None else stack.enter_context(
            inputs.open_input(req.groups, "groups", ro, self.stdin))
        cols = inputs.select(src, req.group_by, "group_by")
        if cols is None or len(cols) != 1:
            raise UsageError(f"{opt('group_by')} names one column, not "
                             f"{'all' if cols is None else len(cols)}", option="group_by")
        if src is t and req.true_cols is None and tsel is not None:
            tsel = [i for i in tsel if i not in cols]  # the labels are the other columns
        extra.append((GROUP, src, cols))
        self._private += (GROUP,)
        self.groups = Groups(self.computations, str(req.group_by))
        return tsel

    def _open_ids(self, t: Any, tsel: Any, extra: list) -> Any:
        """Identifier columns of Y_TRUE's file, carried into the per-sample rows (``IDS``);
        the label columns, when not chosen, are the others."""
        req = self.request
        cols = inputs.select(t, req.id_cols, "id_cols")
        if cols is None or not t.columns:
            raise UsageError(f"{opt('id_cols')} names columns of Y_TRUE's file, which has none",
                             option="id_cols")
        if req.true_cols is None and tsel is not None:
            tsel = [i for i in tsel if i not in cols]
        self.id_names = [str(t.columns[i]) for i in cols]
        extra.append((IDS, t, list(cols)))
        self._private += (IDS,)
        return tsel

    def _open_roles(self, stack: contextlib.ExitStack, t: Any, ro: Any) -> list:
        """The per-row further inputs, opened as the sample weights are: ``(role, source,
        columns)``; a role given only by its columns is read from Y_TRUE's file."""
        req = self.request
        extra = []
        for name in sorted(self.roles):
            if self.roles[name] is not None:
                continue  # a constant (read whole, or one number)
            value = req.roles.get(name)
            src = t if value is None else stack.enter_context(
                inputs.open_input(value, name, ro, self.stdin))
            extra.append((name, src, inputs.select(src, req.role_cols.get(name),
                                                    f"{name}_cols")))
            for comp in self.computations:
                comp.role_inputs[name] = Input(name, src.name, src.location)
        return extra

    # ----------------------------------------------------------------------------- run
    def shards(self) -> tuple[int, int] | None:
        """(shards done, shards) of a shard-set input while it runs (the shard being read
        counts as done once its first block is), or None for one file."""
        if self.shard_progress is not None:
            return self.shard_progress
        return None if self._shard_source is None else self._shard_source.progress()

    def run(self, on_block: OnBlock | None = None,
            on_shard: Callable[[int], None] | None = None) -> Result:
        """Read every block, feed the computations, and return the result. ``on_shard``:
        called with the rows of each shard done on another process (``jobs``, ``scheduler``),
        where blocks do not come back unless ``on_block`` asks for them."""
        from lossctl.io import prefetch

        req = self.request
        if req.jobs != 1 or req.scheduler or req.shard_output is not None:
            from lossctl import distribute

            tasks = distribute.plan(self)
            if tasks is not None:
                return distribute.run(self, tasks, on_block, on_shard)
        builder = None
        kept: list[BlockResult] = []
        with contextlib.ExitStack() as stack:
            blocks = self._open(stack)
            if self._read_ahead:
                blocks = prefetch(blocks)  # read the next block while this one computes
            stack.callback(blocks.close)
            if req.report:
                from lossctl.report import ReportBuilder

                builder = ReportBuilder.of(req, self.computations[0])
            if self.computations[0].spec.kind == "batch":
                blocks = self._whole_batch(blocks)
            for start, (yt, yp, w, roles), first in self._computed(blocks):
                if start == 0 and req.classes is None and yt.dtype.kind in "US":
                    names = self.computations[0].classes  # string labels: shown by name
                    self.rows.class_names = names
                    if builder is not None:
                        builder.class_names = names
                if builder is not None:
                    builder.feed(first)
                if self.groups is not None:
                    self.groups.feed((yt, yp, w, roles), self._inputs)
                if IDS in roles:
                    first.ids = roles[IDS]
                if req.keep:
                    kept.append(first)
                if on_block is not None:
                    on_block(first)
        return self._result(kept, builder)

    def _check_index_columns(self, yt: np.ndarray, yp: np.ndarray) -> None:
        """A leading row-index column, in an input whose columns were not chosen."""
        req = self.request
        if req.y_pred is None:
            return  # one file, both column sets chosen by the user
        if yt.ndim > 2 or yp.ndim > 2:
            return  # an N-D array has no columns
        for role, block, names, cols, inp in (("y_true", yt, self._names[0], req.true_cols,
                                               self._inputs[0]),
                                              ("y_pred", yp, self._names[1], req.pred_cols,
                                               self._inputs[1])):
            if cols is None:
                diagnostics.index_column(block, names, role=role, source=inp.name)

    def _computed(self, blocks: Iterator) -> Iterator[tuple[int, tuple, BlockResult]]:
        """Each block with its result, in row order. The first block is computed here (it makes
        the decisions: layout, class count, conversions); the others, with more than one
        thread, by forks of the computations on a pool of threads (numpy releases the GIL),
        merged back in row order: the value is bit-for-bit the same (exact sums)."""
        from collections import deque

        pool = None
        pending: deque = deque()
        try:
            for start, block in blocks:
                if pool is None and (start == 0 or self.threads < 2):
                    if start == 0:
                        self._check_index_columns(block[0], block[1])
                    yield start, block, self._feed(start, *block)
                    continue
                if pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    pool = ThreadPoolExecutor(self.threads, thread_name_prefix="lossctl-block")
                forks = [comp.fork() for comp in self.computations]
                pending.append((start, block, forks,
                                pool.submit(self._feed, start, *block, comps=forks)))
                while len(pending) > self.threads:
                    yield self._merged(pending.popleft())
            while pending:
                yield self._merged(pending.popleft())
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _merged(self, item: tuple) -> tuple[int, tuple, BlockResult]:
        start, block, forks, future = item
        result = future.result()  # a block's error is raised in row order
        for comp, part in zip(self.computations, forks):
            comp.merge(part)
        return start, block, result

    def _feed(self, start: int, yt: np.ndarray, yp: np.ndarray, w: np.ndarray | None,
              roles: dict[str, np.ndarray], comps: Sequence[Computation] | None = None,
              ) -> BlockResult:
        weights = None if w is None else (w.reshape(-1) if w.ndim == 2 and w.shape[1] == 1
                                          else w)
        if self._private:  # the group and identifier columns are not the losses' inputs
            roles = {k: v for k, v in roles.items() if k not in self._private}
        first, *others = comps if comps is not None else self.computations
        result = first.feed(yt, yp, weights, start=start, inputs=self._inputs, roles=roles)
        several = self.several
        for comp in others:
            if comp.layout is None and first.layout is not None and comp.class_axis is None:
                comp.class_axis = first.layout.axis + 1  # compared on the same class axis
            mine = roles if not several else {k: v for k, v in roles.items()
                                              if k in comp.spec.inputs}
            other = comp.feed(yt, yp, weights, start=start, inputs=self._inputs, roles=mine)
            if several:
                result.others = [*(result.others or []), other.per_sample]
        return result

    def _whole_batch(self, blocks: Iterator) -> Iterator:
        """Kind ``batch`` (pairs across the batch): every row in one block, within the memory
        budget (the rows, about three copies of them, and the pair loss's temporaries)."""
        from lossctl.losses.embedding import PAIR_CHUNK

        parts: list[tuple] = []
        rows = 0
        for _, part in blocks:
            parts.append(part)
            rows += part[1].shape[0]
            need = 3 * rows * self.row_bytes + 16 * max(8 * PAIR_CHUNK, rows * self.row_bytes)
            if need > budget.usable(self.budget):
                spec = self.computations[0].spec
                raise UsageError(
                    f"{spec.name} compares every pair of rows, so it computes over all of them "
                    f"at once: {rows}+ rows need about {need / 2**20:.0f} MB, more than "
                    f"{opt('memory_limit', self.request.memory_limit)}",
                    hint=f"raise {opt('memory_limit')} or give fewer rows (a batch)",
                    option="memory_limit")
        if not parts:
            return

        def cat(k: int) -> Any:
            items = [p[k] for p in parts]
            return None if items[0] is None else (
                items[0] if len(items) == 1 else np.concatenate(items))

        roles = {name: np.concatenate([p[3][name] for p in parts]) if len(parts) > 1
                 else parts[0][3][name] for name in parts[0][3]}
        yield 0, (cat(0), cat(1), cat(2), roles)

    def _result(self, kept: list[BlockResult], builder: Any) -> Result:
        comps = self.computations
        for comp in comps:  # a metric's tables name the classes as the per-sample rows do
            if comp.aggregate is not None and self.rows is not None:
                comp.aggregate.class_names = self.rows.class_names
                comp.aggregate.offset = comp.offset
        results = [comp.finish() for comp in comps]
        res = results[0]
        res.thresholds = {"fail_above": self.request.fail_above,
                          "fail_below": self.request.fail_below}
        if self.request.keep:
            _attach(res, kept)
        if builder is not None:
            res.report = builder.build(res)
        if self.groups is not None:
            res.groups = self.groups.results()
        if self.several:
            res.others = results[1:]
            if self.request.keep:
                for i, other in enumerate(res.others):
                    other.per_sample = _cat([b.others[i] for b in kept]) if kept else (
                        np.empty(0))
        if self.request.compare:
            first = comps[0]
            runs = [Run(r.convention, r.reduction, r.value, r.options, r.counters)
                    for r in results]
            why = reasons(first.spec, runs, weighted=self.request.sample_weight is not None,
                          class_weighted=first.class_weight is not None)
            res.compare = [CompareRow(first.spec.name, r.convention, r.reduction, r.value, y)
                           for r, y in zip(runs, why)]
        return res


def _cells(src: Any, sel: list[int] | None) -> int:
    """Values per row of a source's selection (a sample of an N-D source is many)."""
    dims = getattr(src, "dims", None)
    if dims is not None:
        return math.prod(dims)
    return len(sel) if sel is not None else 1


def _cat(parts: list[np.ndarray | None]) -> np.ndarray | None:
    if not parts or any(p is None for p in parts):
        return None
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _attach(res: Result, kept: list[BlockResult]) -> None:
    res.per_sample = _cat([b.per_sample for b in kept])
    if res.per_sample is None:
        res.per_sample = np.empty(0)
    res.elementwise = _cat([b.elementwise for b in kept])
    res.true_class = _cat([b.true_class for b in kept])
    res.pred_class = _cat([b.pred_class for b in kept])
    res.confidence = _cat([b.confidence for b in kept])
    res.valid = _cat([b.valid for b in kept])


def evaluate(
    loss: str,
    y_true: Any,
    y_pred: Any = None,
    *,
    sample_weight: Any = None,
    true_cols: str | None = None,
    pred_cols: str | None = None,
    weight_cols: str | None = None,
    class_weight: Any = None,
    classes: Sequence[str] | None = None,
    convention: str | None = None,
    reduction: str | None = None,
    compare: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    on_block: OnBlock | None = None,
    **kwargs: Any,
) -> Result:
    """Compute a loss from arrays or sources, exactly as the CLI does.

    Args:
        loss: any loss name or alias (``lossctl list``); several, comma-separated or a list,
            are computed in one pass (``Result.others``).
        y_true, y_pred: arrays, lists, or sources (a path, ``file.npz:key``, ``-``).
            ``y_pred=None`` reads both from ``y_true``, selected with ``true_cols`` and
            ``pred_cols``.
        sample_weight: one weight per row (an array or a source; ``weight_cols`` selects
            its column).
        true_cols, pred_cols, weight_cols: column SPECs (names, 1-based numbers, ranges,
            globs such as ``"p*"``).
        class_weight: one weight per class (a list, or a source holding them).
        classes: class names in the order of the prediction columns (for string labels).
        convention: ``"keras"`` or ``"torch"`` (default: what the name implies).
        reduction: ``"mean"``, ``"sum"``, ``"none"``, ``"mean_with_sample_weight"``,
            ``"batchmean"``.
        compare: conventions to compute side by side (``["keras", "torch"]`` or ``["all"]``);
            ``Result.compare`` says why their values differ.
        stdin: the binary stream read for ``-`` (default: standard input).
        on_block: called with each block's :class:`~lossctl.engine.BlockResult` as it is
            computed.
        **kwargs: ``dtype``, ``offset``, ``ignore_class``, ``elementwise``, ``class_axis``
            (N-D inputs: the axis of the classes, default the convention's: PyTorch's 1,
            Keras's -1), ``header``,
            ``delimiter``, ``memory_limit``, ``threads`` (threads computing blocks, default one
            per core; the value is the same for any number), ``jobs`` (worker processes running the
            shards of a glob or directory input; ``scheduler``: a Dask scheduler's address
            running them; the value is the same bits), ``keep`` (keep the per-sample values, default
            True), ``details``, ``report``, ``top``, ``ci`` (a bootstrap interval at that level
            in percent: ``Result.ci``; ``replicates``, ``seed``), ``group_by`` (every value per
            group: the column of ``groups``, or of Y_TRUE's file: ``Result.groups``), and the
            loss's own options
            (``from_logits``, ``label_smoothing``, ``delta``, ...).

    Returns:
        A :class:`~lossctl.result.Result`.

    Raises:
        LossctlError: a usage error (unknown loss, option that does not apply) before any input
            is read, or an input error naming the file, the row and the fix.
    """
    req = request(loss, y_true, y_pred, sample_weight=sample_weight, true_cols=true_cols,
                  pred_cols=pred_cols, weight_cols=weight_cols, class_weight=class_weight,
                  classes=classes, convention=convention, reduction=reduction, compare=compare,
                  **kwargs)
    return Evaluation(req, stdin=stdin).run(on_block)
