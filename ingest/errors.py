"""Named ingest errors; the CLI turns them into one line per file."""


class IngestError(Exception):
    """A file could not be ingested; the message says why, in words for the user."""


class UndecodableText(IngestError):
    pass


class UnsupportedFile(IngestError):
    pass
