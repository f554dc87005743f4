"""Hostile and extreme PDFs built in memory for the tests: decompression bombs of each shape
(nested filters, odd stream keywords, encrypted streams the inflation check cannot see into),
overlapping streams, and long letters. Bombs are written bit by bit, never by compressing
gigabytes, so each costs milliseconds to build."""

from __future__ import annotations

import io
import zlib


def _deflate_bits(fields: list[tuple[int, int, bool]]) -> bytes:
    """Pack (value, width, is_huffman_code) fields in deflate's bit order: plain fields least
    significant bit first, Huffman codes most significant first; the total must be whole bytes."""
    bits = []
    for value, width, huffman in fields:
        order = range(width - 1, -1, -1) if huffman else range(width)
        bits.extend((value >> i) & 1 for i in order)
    assert len(bits) % 8 == 0
    return bytes(sum(bits[i + j] << j for j in range(8)) for i in range(0, len(bits), 8))


_COPY = [(0xC5, 8, True), (0, 5, True)]  # length code 285 (258 bytes), distance code 0 (1 byte back)


def zlib_zeros(inflated_bytes: int) -> bytes:
    """A zlib stream that inflates to at least ``inflated_bytes`` zero bytes (1 + 258 * (1 + 8k)).

    One fixed-Huffman block: a literal zero, then copies of 258 bytes at distance 1, 13 bits each.
    Header, literal and one copy make 24 bits; eight copies make 13 bytes, repeated as bytes."""
    rounds = max(0, -(-(inflated_bytes - 259) // (258 * 8)))
    start = _deflate_bits([(1, 1, False), (1, 2, False), (0x30, 8, True), *_COPY])
    eight_copies = _deflate_bits(_COPY * 8)
    size = 1 + 258 * (1 + 8 * rounds)
    adler = ((size % 65521) << 16) | 1  # zeros: a stays 1, b adds 1 a byte
    return b"\x78\x01" + start + eight_copies * rounds + b"\x00" + adler.to_bytes(4, "big")


def nested(data: bytes, levels: int) -> bytes:
    """``data`` compressed again ``levels`` times (a /Filter of that many /FlateDecode more)."""
    for _ in range(levels):
        data = zlib.compress(data, 9)
    return data


def one_page_pdf(content: bytes, filters: int = 0, keyword: bytes = b"stream\n") -> bytes:
    """A valid one-page PDF whose page content stream is ``content`` (already compressed
    ``filters`` times), its data after ``keyword``; Helvetica as font F1; a correct xref."""
    filter_entry = b""
    if filters:
        filter_entry = b" /Filter [" + b" ".join([b"/FlateDecode"] * filters) + b"]"
    return pdf_of_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(content)).encode() + filter_entry + b" >>\n" + keyword + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with one page per list of lines (plain ASCII), each line its own text line."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", None, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        body = b"BT /F1 8 Tf 9 TL 20 780 Td " + b" ".join(b"(" + line.encode() + b") Tj T*" for line in lines) + b" ET"
        objects.append(b"<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream")
        content_ref = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >> >> >>" % content_ref
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(pages)
    return pdf_of_objects(objects)


def pdf_of_objects(objects: list[bytes]) -> bytes:
    """Objects numbered from 1, with an xref table and trailer (object 1 the catalog)."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def encrypted(pdf: bytes) -> bytes:
    """The same PDF encrypted (RC4, empty user password) by pypdf: its streams no longer inflate
    for anyone without the key, as the public letters' do not."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
