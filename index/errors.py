"""The index's named errors. Each message says what is wrong and what to do; only the edges
(CLI, app, HTTP) turn them into output."""


class IndexUnavailable(Exception):
    """Base for index problems the user can fix; the message says how."""


class IndexMissing(IndexUnavailable):
    pass


class IndexMismatch(IndexUnavailable):
    pass


class IndexBusy(IndexUnavailable):
    pass


class IndexDamaged(IndexUnavailable):
    """A file of the index is missing, truncated, altered or unreadable; `what` names it."""

    def __init__(self, dest, what: str):
        super().__init__(f"index at {dest} is damaged: {what}; rebuild it with `python -m ingest corpus --index {dest}`")
        self.what = what
