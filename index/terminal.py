"""Text on a terminal: what a document, a file name, a model or a server sent is printed with
its control characters shown as `\\u001b`-style escapes, so none of it can move the cursor,
clear the screen, retitle the window or write the clipboard (OSC 52). Line feeds, tabs and
carriage returns (progress bars) pass. The escape is valid inside JSON strings, so `--json`
output stays parseable; JSON already escapes the C0 controls itself."""
from __future__ import annotations

import re
import sys
from typing import TextIO

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class _SafeStream:
    """A text stream that writes everything through `terminal_safe`."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(terminal_safe(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Route stdout and stderr through `terminal_safe` for the rest of the process (the CLIs'
    entry points call it first)."""
    sys.stdout, sys.stderr = _SafeStream(sys.stdout), _SafeStream(sys.stderr)
