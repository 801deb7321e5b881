"""Progress bars (tqdm) that write to a job's log: one plain line per update, never carriage-return redraws.

A job's log is a file that is read after the fact (or followed with ``tail -f``), so a bar here is tqdm's
meter written as a whole line through the job's ``log`` function at most once every ``seconds``
(``runtime.progress_seconds``; 0: no bar): ``ascii=True``, no terminal width, the first line only once the
work has run that long, so quick jobs log no bar at all, and a last line when it ends. Bars only read the
clock: nothing they do reaches a result file, whose bits never depend on them.
"""

from __future__ import annotations

from collections.abc import Callable

from tqdm import tqdm


class LogLines:
    """A write-only text stream for tqdm that hands each complete meter to ``log`` as one line: tqdm writes
    ``'\\r' + meter + padding`` per refresh and a bare ``'\\n'`` at the end, which this strips."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log

    def write(self, text: str) -> int:
        line = text.replace("\r", "").strip()
        if line:
            try:
                self.log(line)
            except ValueError:  # the log is closed: the job failed and its bar is collected later, nothing to add
                pass
        return len(text)

    def flush(self) -> None:
        """Every line is flushed by ``log`` itself."""


class LogProgress(tqdm):
    """tqdm without its monitor thread (the refresh rate is fixed, ``miniters=1``: nothing to retune)."""

    monitor_interval = 0

    def set_postfix_str(self, s: str = "", refresh: bool = False) -> None:
        """The text after the meter, shown with the next line (tqdm's default would write a line at once)."""
        super().set_postfix_str(s, refresh=refresh)

    def close(self) -> None:
        """The last line, unless the last update already wrote it (then tqdm's ``leave=False`` path writes nothing)."""
        if not self.disable and self.n == getattr(self, "last_print_n", None):
            self.leave = False
        super().close()


def progress(
    log: Callable[[str], None], seconds: float, total: int, desc: str, *, unit: str = "it", initial: int = 0
) -> tqdm:
    """A bar over ``total`` units of work, written to ``log`` at most once every ``seconds`` (0: disabled, a bar
    that prints nothing); use it as a context manager and call ``update(n)`` / ``set_postfix_str(text)``."""
    return LogProgress(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=LogLines(log),
        ascii=True,
        ncols=None,
        mininterval=seconds,
        maxinterval=max(seconds, 1.0),
        miniters=1,
        delay=seconds,
        leave=True,
        dynamic_ncols=False,
        disable=seconds <= 0,
    )
