"""Named ingest errors; the CLI turns them into one line per file (`skipped` or `error`)."""


class IngestError(Exception):
    """A file could not be ingested; the message says why, in words for the user."""


class UnsupportedFile(IngestError):
    """Not a format we read (reported as `skipped`, not as an error)."""


class UndecodableText(IngestError):
    pass


class EmptyDocument(IngestError):
    pass


class TooLarge(IngestError):
    """Over a documented size cap (file size, a DOCX/EPUB's uncompressed size, PDF pages)."""


class WrongContent(IngestError):
    """The content does not match the extension (a PNG named .txt, text named .pdf)."""


class CorruptDocument(IngestError):
    pass


class EncryptedDocument(IngestError):
    pass


class NoTextLayer(IngestError):
    """A PDF whose pages are images only (a scan)."""



class OcrUnavailable(IngestError):
    """The OCR model files are not installed."""


class NoSpace(IngestError):
    """Saving the file would leave the disk (nearly) full."""
