"""Live progress in the terminal: a redrawn line on a TTY, one printed line per change otherwise."""

import sys

BAR_WIDTH = 30


def bar(done: int, total: int) -> str:
    """`[#####.........] 42/100`"""
    filled = round(min(done / total, 1.0) * BAR_WIDTH) if total > 0 else 0
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"


class LiveLine:
    """Shows the latest state of something that is running; `end()` before printing anything else."""

    def __init__(self) -> None:
        self._out = sys.stdout
        self._last = ""

    def show(self, line: str) -> None:
        if self._out.isatty():
            self._out.write(f"\r\x1b[2K{line}")
            self._out.flush()
        elif line != self._last:
            print(line, file=self._out)
        self._last = line

    def end(self) -> None:
        if self._out.isatty() and self._last:
            self._out.write("\n")
