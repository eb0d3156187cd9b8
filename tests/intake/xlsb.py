"""Write a small Excel binary workbook (.xlsb) for tests: no Python library writes the format,
so its records (MS-XLSB: a zip of BIFF12 record streams) are written here, as few as Excel's
readers need - a workbook listing one sheet, and the sheet's rows of text and number cells."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path


def _varint(value: int, limit: int) -> bytes:
    """A record type (2 bytes at most) or size (4 at most): 7 bits a byte, low bits first."""
    out = bytearray()
    for _ in range(limit):
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            break
    return bytes(out)


def _record(kind: int, body: bytes = b"") -> bytes:
    return _varint(kind, 2) + _varint(len(body), 4) + body


def _wide(text: str) -> bytes:
    encoded = text.encode("utf-16-le")
    return struct.pack("<I", len(encoded) // 2) + encoded


def write_xlsb(path: Path, rows: list[list[str | float | int | None]],
               sheet: str = "Sheet1") -> Path:
    """A workbook with one sheet holding ``rows`` (text, numbers, or None for an empty cell)."""
    workbook = b"".join([
        _record(0x0083),  # BrtBeginBook
        _record(0x008F),  # BrtBeginBundleShs
        _record(0x009C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide(sheet)),  # BrtBundleSh
        _record(0x0090),  # BrtEndBundleShs
        _record(0x0084),  # BrtEndBook
    ])
    width = max((len(row) for row in rows), default=1)
    cells = [_record(0x0081),  # BrtBeginSheet
             _record(0x0094, struct.pack("<IIII", 0, max(len(rows) - 1, 0), 0, width - 1)),
             _record(0x0091)]  # BrtBeginSheetData
    for number, row in enumerate(rows):
        cells.append(_record(0x0000, struct.pack("<IIHHBBB", number, 0, 300, 0, 0, 0, 0)
                             + struct.pack("<I", 0)))  # BrtRowHdr
        for column, value in enumerate(row):
            if value is None:
                continue
            where = struct.pack("<II", column, 0)  # column, style
            if isinstance(value, str):
                cells.append(_record(0x0006, where + _wide(value)))  # BrtCellSt
            else:
                cells.append(_record(0x0005, where + struct.pack("<d", float(value))))  # Real
    cells += [_record(0x0092), _record(0x0082)]  # BrtEndSheetData, BrtEndSheet
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.bin" '
        'ContentType="application/vnd.ms-excel.worksheet"/></Types>')
    relationships = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.bin"/></Relationships>')
    package = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", package)
        archive.writestr("xl/workbook.bin", workbook)
        archive.writestr("xl/_rels/workbook.bin.rels", relationships)
        archive.writestr("xl/worksheets/sheet1.bin", b"".join(cells))
    return path
