"""Reading ahead in a worker thread: :func:`prefetch`.

The text reader parses the next chunk while the caller converts this one, and ``compute`` reads
the next block while it computes this one (file reads, pyarrow and numpy release the GIL).

No worker outlives the work it was started for: closing the iterator :func:`prefetch` returned
stops its thread and waits for it, :meth:`Worker.stop` does the same from any thread (a
:class:`~lossctl.io.source.Source` stops the workers reading it before it closes its files),
and at interpreter exit the workers still running are stopped and joined before Python tears
itself down (a thread inside pyarrow at that moment used to abort the process).
"""
from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Iterator

__all__ = ["Worker", "prefetch"]

_POLL = 0.05  # seconds between checks of the stop flag while waiting on the queue
_EXIT_JOIN = 10.0  # at interpreter exit, wait at most this long for one worker

_live: weakref.WeakSet = weakref.WeakSet()
_atexit_registered = False
_ITEM, _END, _ERROR = 0, 1, 2


def prefetch(it: Iterator, depth: int = 1) -> Iterator:
    """Run an iterator in a worker thread, ``depth`` items ahead; exceptions arrive in order.

    Closing the returned generator (or an exception in the consumer) stops the worker and waits
    for it, so the caller may close the file the worker reads once this generator is closed.
    The thread starts on the first ``next()``.
    """
    return Worker(it, depth).items()


class Worker:
    """``it`` iterated in a daemon thread, ``depth`` items ahead of the consumer of :meth:`items`.

    :meth:`stop` (from any thread) ends it: the worker finishes the item it is computing, then
    exits; a consumer still waiting gets ``ValueError``.
    """

    def __init__(self, it: Iterator, depth: int = 1) -> None:
        self._it = it
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def items(self) -> Iterator:
        """The items of ``it``, computed ahead; closing this generator stops the worker."""
        self._start()
        try:
            while True:
                try:
                    tag, item = self._q.get(timeout=_POLL)
                except queue.Empty:
                    if self._stop.is_set():
                        raise ValueError("read from a source that was closed") from None
                    continue
                if tag == _ITEM:
                    yield item
                elif tag == _END:
                    return
                else:
                    raise item
        finally:
            self.stop()

    def stop(self, timeout: float | None = None) -> None:
        """Tell the worker to stop and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        if t is None or not t.is_alive():
            _live.discard(self)

    def _start(self) -> None:
        global _atexit_registered
        if not _atexit_registered:
            import atexit

            atexit.register(_stop_all)
            _atexit_registered = True
        self._thread = threading.Thread(target=self._work, name="lossctl-reader", daemon=True)
        _live.add(self)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            for item in self._it:
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as e:  # handed to the consumer, raised there
            self._put((_ERROR, e))
        finally:
            close = getattr(self._it, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # nobody is listening any more
                    pass


def _stop_all() -> None:
    """atexit: stop the workers whose iterators were never closed, before Python finalises
    (atexit runs after the non-daemon threads are joined, while daemon threads still run)."""
    for worker in list(_live):
        worker.stop(_EXIT_JOIN)
