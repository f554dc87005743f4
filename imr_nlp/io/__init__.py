"""Reading letters from files: plain text and PDF (pypdfium2, permissive licence)."""

from __future__ import annotations

from pathlib import Path

from imr_nlp.errors import InputError

TEXT_SUFFIXES = {".txt", ".text"}
PDF_SUFFIXES = {".pdf"}


def read_text_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_pdf(path: Path) -> str:
    """Text of a PDF, pages joined with form feeds; line breaks and reading order kept.

    The public IMR PDFs are AES-encrypted with an empty user password: pdfium opens them as is.
    """
    return _pdf_text(str(path), Path(path))


def read_pdf_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Text of a PDF given as bytes (a Spark ``binaryFile`` row, an upload); ``name`` is used
    in the InputError when it cannot be read."""
    return _pdf_text(bytes(data), Path(name))


def _pdf_text(source: str | bytes, path: Path) -> str:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise InputError(path, "encrypted PDF that needs a password") from exc
        raise InputError(path, f"not a readable PDF ({reason})") from exc
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        pages = []
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    except pdfium.PdfiumError as exc:
        raise InputError(path, f"corrupt PDF ({exc})") from exc
    finally:
        pdf.close()
    text = "\f".join(pages)
    if not text.strip():
        raise InputError(path, "no text layer (an image-only PDF needs OCR first)")
    return text.replace("\r\n", "\n")


def read_letter(path) -> str:
    """The text of a letter file (.txt or .pdf), or InputError naming the file and the reason
    (missing, a folder, unreadable, not a PDF, corrupt, encrypted, no text layer)."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"a letter path must be a str or pathlib.Path, not {type(path).__name__}")
    path = Path(path)
    try:
        if not path.exists():
            raise InputError(path, "no such file")
        if path.is_dir():
            raise InputError(path, "is a directory, not a file")
        suffix = path.suffix.lower()
        if suffix in PDF_SUFFIXES:
            return read_pdf(path)
        if suffix in TEXT_SUFFIXES or suffix == "":
            return read_text_file(path)
        with path.open("rb") as handle:
            head = handle.read(5)
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if head.startswith(b"%PDF"):
        return read_pdf(path)
    return read_text_file(path)
