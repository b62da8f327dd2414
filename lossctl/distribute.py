"""Shards on several processes (``jobs``) or on a Dask cluster (``scheduler``).

An input that is a set of shards (a glob or a directory, :mod:`lossctl.io.shards`) is cut into
one task per shard: labels and predictions either both shard sets, paired by name
(:func:`lossctl.io.shards.pair_shards`), or one shard set holding both (``true_cols`` and
``pred_cols``). Each task evaluates its shard(s) with the same request in a worker process
(:class:`ShardEvaluation`) and returns the computations' partial state (pickled
:class:`~lossctl.engine.Computation` parts, :mod:`lossctl.parts`); the parent merges them in
shard order. Every sum is exact, so the value, and the bootstrap replicates, are bit-for-bit
those of one process for any ``jobs`` and any sharding.

Global rows: a task is fed with its shard's first global row (the bootstrap weights of a sample
are keyed by it). Binary shards (NPY, Parquet, Feather) know their rows from their metadata;
text shards do not, and with ``ci`` a counting pass over them (on the same workers) comes first.
Without ``ci`` a text shard is fed from its own row 0 and the parent shifts what it reports
(rows of errors, ``BlockResult.start``) once the shards before it are merged.

Decisions made on the first block (the layout, the class count, Keras's hinge conversion) are
each task's own; a shard that decided otherwise than the shards before it is run again with
their decisions, so it fails (or computes) exactly as one process would.

Per-sample values (``keep``, a report, ``on_block``) come back from the tasks and are passed on
in shard order. Not split: ``group_by``, a loss over the whole batch, further inputs from
files of their own; a single file, arrays, standard input, hive datasets and fsspec's memory
file system run in this process (one large file is one task). Remote shard sets (``s3://``, ...)
are split like local ones; worker processes get the parent's environment (its credentials)
with each task.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from lossctl.errors import LossctlError, UsageError, note, opt
from lossctl.record import field, record, replace

__all__ = ["Task", "plan", "run", "run_task", "shard_evaluation"]

#: what a part decides on its first block, and a later part must agree with
DECISIONS = ("layout", "width", "num_classes", "_hinge_convert")


@record
class Task:
    """One shard's work: the request with the shard's paths, its first global row (None: not
    known, fed from 0), decisions to keep, and whether per-sample blocks come back."""

    index: int
    request: Any
    names: dict[str, str]  # role -> the shard set's name (what messages call the input)
    paths: dict[str, str]  # role -> this shard's path
    base: int | None = None
    presets: list[dict[str, Any]] | None = None
    blocks: bool = False
    count_only: bool = False
    #: the parent's environment (credentials of remote file systems), for worker processes
    #: started before it changed; None on a cluster, whose workers have their own
    environ: dict[str, str] | None = None
    #: the file this shard's per-sample rows are written to (``shard_output``)
    write_to: str | None = None


@record
class Outcome:
    """What a task returns: the parts, or the error (and the warnings it raised)."""

    index: int
    rows: int = 0
    parts: list[Any] | None = None
    blocks: list[Any] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)
    error: Any = None
    layout: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------- plan
def _check_jobs(req: Any) -> None:
    jobs = req.jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UsageError(f"{opt('jobs')} is a number of worker processes, at least 1 (got "
                         f"{jobs!r})", hint=f"for example {opt('jobs', 2)}", option="jobs")


def _shard_set(value: Any) -> list[str] | None:
    """The shard paths of a local glob or directory, else None."""
    from lossctl.io.shards import is_glob, shard_paths

    if not isinstance(value, (str, os.PathLike)):
        return None
    spec = os.fspath(value)
    if "://" in spec:
        from lossctl.io.remote import shard_urls

        return shard_urls(spec)
    if spec == "-" or not (is_glob(spec) or os.path.isdir(spec)):
        return None
    return shard_paths(spec)


def _is_hive(spec: str, paths: list[str]) -> bool:
    from lossctl.io.hive import hive_files

    return os.path.isdir(spec) and hive_files(paths, spec, None) is not None


def _refuse(ev: Any, what: str, hint: str, option: str = "jobs") -> None:
    how = opt("scheduler") if ev.request.scheduler else opt("jobs", ev.request.jobs)
    raise UsageError(f"{how} runs shards in separate processes, and {what}", hint=hint,
                     option=option)


def plan(ev: Any) -> list[Task] | None:
    """The tasks of an evaluation, or None when it runs in this process as it is."""
    req = ev.request
    _check_jobs(req)
    if req.jobs == 1 and not req.scheduler and req.shard_output is None:
        return None
    sets = {role: _shard_set(getattr(req, role)) for role in ("y_true", "y_pred",
                                                              "sample_weight")}
    if sets["y_true"] is None and req.shard_output is not None:
        raise UsageError(f"{opt('shard_output')} {req.shard_output} writes a file per shard "
                         f"of {opt('y_true')}, and {opt('y_true')} is not a set of shards (a "
                         "glob or a directory; a hive dataset is read whole)",
                         hint=f"give {opt('shard_output')} a file name instead",
                         option="shard_output")
    if sets["y_true"] is None:
        if req.scheduler and isinstance(req.y_true, (str, os.PathLike)) and req.y_true != "-" \
                and not os.fspath(req.y_true).startswith("memory://"):
            sets["y_true"] = [os.fspath(req.y_true)]  # one file: one task on the cluster
            for role in ("y_pred", "sample_weight"):
                value = getattr(req, role)
                if value is not None:
                    sets[role] = [os.fspath(value)] if isinstance(value, (str, os.PathLike)) \
                        else None
        else:
            return None  # arrays, standard input, one file: this process
    elif _is_hive(os.fspath(req.y_true), sets["y_true"]):
        note("a hive-partitioned dataset is read in this process (its keys are columns of "
             f"the whole); {opt('jobs')} splits shard sets")
        return None
    _check_splittable(ev, sets)
    n = len(sets["y_true"])
    names = {role: os.fspath(getattr(req, role)) for role in sets if sets[role] is not None}
    budget = ev.budget if req.scheduler else max(ev.budget // req.jobs, 1 << 20)
    sub = replace(req, keep=False, report=False, jobs=1, scheduler=None, memory_limit=budget,
                  threads=req.threads or 1)
    writes: list[str | None] = [None] * n
    if req.shard_output is not None:
        from lossctl.out.shards import targets

        writes = list(targets(req.shard_output, sets["y_true"], req.shard_format,
                              [p for s in sets.values() if s is not None for p in s]))
    tasks = []
    for i in range(n):
        paths = {role: s[i] for role, s in sets.items() if s is not None}
        tasks.append(Task(i, replace(sub, **paths, shard_output=None), names, paths,
                          write_to=writes[i]))
    return tasks


def _check_splittable(ev: Any, sets: dict[str, list[str] | None]) -> None:
    req = ev.request
    for role in ("y_pred", "sample_weight"):
        value = getattr(req, role)
        if value is None:
            continue
        if sets[role] is None:
            _refuse(ev, f"{opt(role)} is not a set of shards like {opt('y_true')}",
                    f"give {opt(role)} as matching shards (a glob or a directory), or drop "
                    f"{opt('jobs')}", option=role)
        from lossctl.io.shards import pair_shards

        sets[role] = pair_shards(sets["y_true"], sets[role], (os.fspath(req.y_true),
                                                              os.fspath(value)))
    if req.group_by is not None:
        _refuse(ev, f"{opt('group_by')} gathers rows across them",
                f"drop {opt('jobs')} to compute per group", option="group_by")
    if ev.computations[0].spec.kind == "batch":
        _refuse(ev, f"{ev.computations[0].spec.name} pairs rows across the whole batch",
                f"drop {opt('jobs')}")
    own = [name for name, value in req.roles.items() if ev.roles.get(name) is None
           and value is not None]
    if own:
        _refuse(ev, f"{opt(own[0])} is read from a source of its own",
                f"give it as columns of Y_TRUE's file ({opt(own[0] + '_cols')}), or drop "
                f"{opt('jobs')}", option=own[0])


# -------------------------------------------------------------------------- the worker
def _evaluation_class() -> type:
    from lossctl.pipeline import Evaluation

    return Evaluation


class _Shifted:
    """A shard's row locator in the terms of the whole: global row -> "shard PATH, line N"."""

    def __init__(self, path: str, locate: Callable[[int], str] | None, base: int) -> None:
        self.path, self.locate, self.base = path, locate, base

    def __call__(self, row: int) -> str:
        local = int(row) - self.base
        return f"shard {self.path}, {self.locate(local) if self.locate else f'row {local}'}"


def shard_evaluation(task: Task, stdin: Any = None) -> Any:
    """The evaluation of one task's shard(s): :class:`lossctl.pipeline.Evaluation` fed from the
    shard's first global row, with messages naming the shard set and the shard."""
    base_cls = _evaluation_class()

    class ShardEvaluation(base_cls):  # type: ignore[misc, valid-type]
        def _open(self, stack: Any) -> Iterator:
            from lossctl.validation import Input

            blocks = super()._open(stack)
            base = task.base or 0

            def shifted(inp: Any) -> Any:
                if inp is None or inp.role not in task.paths:
                    return inp
                return Input(inp.role, task.names[inp.role],
                             _Shifted(task.paths[inp.role], inp.locate, base))

            self._inputs = tuple(shifted(i) for i in self._inputs)
            for comp in self.computations:
                comp.role_inputs = {k: Input(v.role, task.names["y_true"],
                                             _Shifted(task.paths["y_true"], v.locate, base))
                                    for k, v in comp.role_inputs.items()}
            return blocks

        def _feed(self, start: int, yt: Any, yp: Any, *rest: Any, **kw: Any) -> Any:
            self.seen = max(getattr(self, "seen", 0), start + yp.shape[0])
            return super()._feed(start + (task.base or 0), yt, yp, *rest, **kw)

        def _result(self, kept: list, builder: Any) -> Any:
            return kept  # the parent merges and finishes

    ev = ShardEvaluation(task.request, stdin=stdin)
    for comp, preset in zip(ev.computations, task.presets or ()):
        for name, value in preset.items():
            setattr(comp, name, value)
    return ev


def _count(task: Task) -> int:
    from lossctl import inputs
    from lossctl.io import open_source

    req = task.request
    ro = inputs.read_options(req.header, req.delimiter, 1 << 26)
    if req.classes is not None:
        ro = replace(ro, known_labels=tuple(req.classes))
    with open_source(task.paths["y_true"], ro) as src:
        if src.nrows is not None:
            return int(src.nrows)
        return sum(chunk.data.shape[0] for chunk in src.blocks([0] if src.columns else None))


def run_task(task: Task) -> Outcome:
    """Evaluate one task (in a worker process); errors come back as values."""
    from lossctl.validation import Input

    out = Outcome(task.index)
    if task.environ is not None:
        os.environ.update(task.environ)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if task.count_only:
                out.rows = _count(task)
                return out
            ev = shard_evaluation(task)
            kept: list = []
            if task.write_to is not None:
                _write_shard(ev, task, kept)
            else:
                ev.run(kept.append if task.blocks else None)
            out.rows = getattr(ev, "seen", 0)
            out.parts = ev.computations
            out.blocks = kept
            out.layout = {"rows": ev.rows, "width": ev.width, "shape": ev.shape,
                          "inputs": tuple(None if i is None else Input(i.role, i.name) for i in ev._inputs),
                          "classes": ev.computations[0].classes}
        except LossctlError as err:
            out.error = err
        finally:
            out.warnings = [w.message for w in caught if isinstance(w.message, Warning)]
    for part in out.parts or ():
        part.role_blocks = {}
    return out


def _write_shard(ev: Any, task: Task, kept: list) -> None:
    """Run ``ev``, its per-sample rows written to ``task.write_to`` (and kept, if asked)."""
    from lossctl.out.shards import ShardWriter

    req = ev.request
    with ShardWriter(task.write_to, req.shard_format, req.shard_precision) as writer:
        writer.ev = ev

        def on_block(block: Any) -> None:
            writer(block)
            if task.blocks:
                kept.append(block)

        ev.run(on_block)


def _quiet_worker() -> None:
    """Workers leave Ctrl-C to the parent, which stops the pool."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ------------------------------------------------------------------------ the parent
class _Processes:
    """A pool of worker processes (forkserver where there is one, else spawn: a process that
    holds pyarrow's threads is never forked)."""

    def __init__(self, jobs: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        self.pool = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_quiet_worker)
        self.window = 2 * jobs  # tasks in flight: the outcomes held are bounded

    def submit(self, task: Task) -> Any:
        return self.pool.submit(run_task, replace(task, environ=dict(os.environ)))

    def result(self, future: Any) -> Outcome:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            raise LossctlError("a worker process stopped before its shard was done (killed, "
                               "or out of memory)", hint=f"lower {opt('memory_limit')} or "
                               f"{opt('jobs')}", option="jobs") from None

    def close(self, *, abort: bool = False) -> None:
        processes = list(getattr(self.pool, "_processes", {}).values() or ())
        self.pool.shutdown(wait=not abort, cancel_futures=True)
        if abort:
            for proc in processes:
                proc.terminate()


class _Cluster:
    """Tasks on a Dask distributed cluster (the ``lossctl[dask]`` extra)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError(f"{opt('scheduler')} needs Dask distributed",
                             hint="pip install 'lossctl[dask]'", option="scheduler") from None
        try:
            self.client = Client(address, timeout=30)
        except (OSError, TimeoutError, ValueError) as err:
            raise UsageError(f"cannot reach the Dask scheduler at {address!r}: {err}",
                             hint="check the address (tcp://HOST:8786) and that the scheduler "
                             "runs", option="scheduler") from None
        self.window = 2 * max(sum(self.client.nthreads().values()), 1)
        self.futures: list = []

    def submit(self, task: Task) -> Any:
        fut = self.client.submit(run_task, task, pure=False)
        self.futures.append(fut)
        return fut

    def result(self, future: Any) -> Outcome:
        return future.result()

    def close(self, *, abort: bool = False) -> None:
        if abort and self.futures:
            self.client.cancel(self.futures)
        self.client.close()


class _InProcess:
    """The tasks run here, one after another (``jobs=1`` with ``shard_output``)."""

    window = 1

    def submit(self, task: Task) -> Any:
        return run_task(task)

    def result(self, future: Any) -> Outcome:
        return future

    def close(self, *, abort: bool = False) -> None:
        pass


def _executor(req: Any) -> Any:
    if req.scheduler:
        return _Cluster(req.scheduler)
    return _Processes(req.jobs) if req.jobs > 1 else _InProcess()


def _bases(tasks: list[Task], executor: Any, need: bool) -> None:
    """Each task's first global row: from the shards' metadata, or (``need``: replicates are
    keyed by it) a counting pass over the workers."""
    from lossctl import inputs
    from lossctl.io import open_source
    from lossctl.io.spec import KIND_BY_EXT  # binary formats: their metadata holds the rows

    counts: list[int | None] = []
    for task in tasks:
        ro = inputs.read_options(task.request.header, task.request.delimiter, 1 << 20)
        found = None
        for role in ("y_true", "y_pred"):
            if role in task.paths and found is None and os.path.splitext(
                    task.paths[role])[1].lower() in KIND_BY_EXT:
                with open_source(task.paths[role], ro) as src:
                    found = src.nrows
        counts.append(found)
    if any(c is None for c in counts) and need:
        futures = [executor.submit(replace(t, count_only=True)) if c is None else None
                   for t, c in zip(tasks, counts)]
        for i, fut in enumerate(futures):
            if fut is not None:
                out = executor.result(fut)
                if out.error is not None:
                    raise out.error
                counts[i] = out.rows
    if all(c is not None for c in counts):
        base = 0
        for task, c in zip(tasks, counts):
            task.base = base
            base += c


def _conflict(comps: list[Any], parts: list[Any]) -> bool:
    return any(getattr(c, name) is not None and getattr(p, name) is not None
               and getattr(c, name) != getattr(p, name)
               for c, p in zip(comps, parts) for name in DECISIONS)


def _outcomes(tasks: list[Task], executor: Any, ev: Any) -> Iterator[tuple[int, Outcome]]:
    """Each task's outcome in shard order with its first global row; a shard that decided
    otherwise than those before it is run again with their decisions."""
    from collections import deque

    pending: deque = deque()
    queued = iter(tasks)
    base = 0
    for task in tasks:
        while len(pending) < executor.window:
            nxt = next(queued, None)
            if nxt is None:
                break
            pending.append(executor.submit(nxt))
        out = executor.result(pending.popleft())
        if out.error is None and _conflict(ev.computations, out.parts):
            presets = [{n: getattr(c, n) for n in DECISIONS if getattr(c, n) is not None}
                       for c in ev.computations]
            out = executor.result(executor.submit(replace(task, presets=presets)))
        if out.error is not None:
            err = out.error
            if err.row is not None and task.base is None:
                err.row += base  # a text shard fed from its own row 0
            raise err
        yield base, out
        base += out.rows


def _reemit(seen: set, caught: list[Warning]) -> None:
    for w in caught:
        key = (type(w), str(w))
        if key not in seen:
            seen.add(key)
            warnings.warn(w, stacklevel=3)


def run(ev: Any, tasks: list[Task], on_block: Callable | None,
        on_shard: Callable[[int], None] | None = None) -> Any:
    """Run the tasks, merge their parts into ``ev``'s computations in shard order, pass their
    per-sample blocks on in that order (and each shard's rows to ``on_shard``), and return the
    result (:meth:`Evaluation.run`); ``ev.shard_progress`` counts the shards merged."""
    req = ev.request
    need_blocks = req.keep or req.report or on_block is not None
    builder = None
    if req.report:
        from lossctl.report import ReportBuilder

        builder = ReportBuilder.of(req, ev.computations[0])
    kept: list = []
    seen: set = set()
    executor = _executor(req)
    abort = True
    ev.shard_progress = (0, len(tasks))
    try:
        _bases(tasks, executor, need=any(c.replicates for c in ev.computations)
               or req.shard_output is not None)  # (files carry each row's global index)
        for task in tasks:
            task.blocks = need_blocks
        for base, out in _outcomes(tasks, executor, ev):
            _reemit(seen, out.warnings)
            if out.index == 0:
                _adopt(ev, out.layout, builder)
            for comp, part in zip(ev.computations, out.parts):
                comp.merge(part)
            shift = base - (tasks[out.index].base or 0)
            for block in out.blocks:
                block.start += shift
                if builder is not None:
                    builder.feed(block)
                if req.keep:
                    kept.append(block)
                if on_block is not None:
                    on_block(block)
            ev.total = base + out.rows
            ev.shard_progress = (out.index + 1, len(tasks))
            if on_shard is not None:
                on_shard(out.rows)
        abort = False
    finally:
        executor.close(abort=abort)
    if req.shard_output is not None:
        note(f"per-sample rows of {len(tasks)} shards written to {req.shard_output} "
             f"({req.shard_format}, one file per shard of {opt('y_true')})")
    return ev._result(kept, builder)


def _adopt(ev: Any, layout: dict[str, Any], builder: Any) -> None:
    """What the first shard's opening found: the per-sample rows' layout, the columns."""
    ev.rows, ev.width, ev.shape = layout["rows"], layout["width"], layout["shape"]
    ev._inputs = layout["inputs"]
    for comp in ev.computations:
        if comp.classes is None:
            comp.classes = layout["classes"]
    if builder is not None and ev.rows is not None and ev.rows.class_names:
        builder.class_names = ev.rows.class_names
