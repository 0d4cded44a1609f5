"""Page images (.png, .jpg/.jpeg, .tif/.tiff; each frame of a multi-page TIFF is a page),
decoded by Pillow (HPND license) and read by OCR (`formats.ocr`). The pixel count comes from
the file's header and is checked before any pixel is decoded; a phone photo's EXIF rotation
is applied."""
from __future__ import annotations

import io
import re
import warnings

from ..errors import CorruptDocument, EmptyDocument, TooLarge
from .extracted import Extracted, Limits
from .ocr import Ocr, assemble, page_keys


def extract(data: bytes, limits: Limits, ocr: Ocr, name: str) -> Extracted:
    from PIL import Image, ImageOps, UnidentifiedImageError

    cap = ocr.settings.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own cap decides
            image = Image.open(io.BytesIO(data))
            sizes = []
            for frame in range(getattr(image, "n_frames", 1)):
                image.seek(frame)
                sizes.append(image.size)
    except Image.DecompressionBombError as exc:  # Pillow's hard stop, far above our cap
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        what = f"{int(pixels.group(1)) / 1e6:.0f} megapixels" if pixels else "too many pixels"
        raise TooLarge(f"image of {what}, over the {cap / 1e6:.0f}-megapixel limit; not decoded") from exc
    except UnidentifiedImageError as exc:  # its message names an in-memory object: say it plainly
        raise CorruptDocument("damaged image, cannot be read (no image data Pillow can decode)") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptDocument(f"damaged image, cannot be read ({exc})") from exc
    for number, (width, height) in enumerate(sizes, start=1):
        if width * height > cap:
            where = f"page {number} is" if len(sizes) > 1 else "image of"
            raise TooLarge(f"{where} {width}×{height} pixels, over the {cap / 1e6:.0f}-megapixel limit; not decoded")

    def render(frame: int):
        def decode():
            try:
                image.seek(frame)
                return ImageOps.exif_transpose(image).convert("RGB")
            except (OSError, ValueError, EOFError) as exc:
                where = f" (page {frame + 1})" if len(sizes) > 1 else ""
                raise CorruptDocument(f"damaged image{where}, cannot be decoded ({exc})") from exc

        return decode

    key = page_keys(data)
    pages, seconds = [], 0.0
    for frame in range(len(sizes)):
        lines, took = ocr.page(render(frame), key(frame + 1), name, frame + 1, len(sizes))
        pages.append(lines)
        seconds += took
    text, page_starts, notes = assemble(pages, range(len(pages)), ocr.settings, seconds)
    if not text.strip():
        raise EmptyDocument("no text found by OCR (an image without text?)")
    return Extracted(text=text, encoding="ocr", page_starts=page_starts, ocr=notes)
