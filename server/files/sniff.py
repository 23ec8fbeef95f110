"""What a file is, judged by its content, and whether its name or type lie.

The OWASP File Upload Cheat Sheet: "Do not trust the Content-Type header as
it can be spoofed" and validate the file type by its content; the security
bar's tests 50 and 51 list the lies to catch.

Why python-magic over libmagic: libmagic (the ``file`` command's library,
maintained upstream and patched by Debian's security team) recognises both
binary formats and text kinds: HTML, SVG, XML, shell, Python, PHP and batch
scripts, Office documents, ELF and PE executables. The python-magic binding
is a thin, stable ctypes layer over it (thread-safe: it locks each handle).
Signature-only libraries (puremagic, filetype) cannot tell an HTML page or a
shell script from text; magika (a neural model) is accurate but pulls in
onnxruntime. Because libmagic's answers vary a little between versions, the
checks that matter most do not rely on them alone: executable headers and
shebangs are matched here, and markup is looked for directly.

The rules (each finding is a stable code, listed in ``FINDINGS``):

- ``executable_or_script``: a native executable (``MZ``, ELF, Mach-O, a
  Windows shortcut) or a script (a ``#!`` line, or a type libmagic reports
  that is in ``FORBIDDEN_TYPES``). The sniffed type is then always one of
  ``FORBIDDEN_TYPES``, whatever libmagic said.
- ``active_content``: HTML or XHTML; SVG or XML that holds script, event
  handlers, an XHTML namespace or a stylesheet instruction (a browser runs
  them). The whole file is searched, since these are text.
- ``forbidden_type``: the sniffed type is in ``FORBIDDEN_TYPES`` (which also
  lists SVG, script or not).
- ``polyglot``: a type that should hold no markup (images, PDF, audio, video)
  has HTML or script markers in its first or last ``WINDOW`` bytes, or a ZIP
  (or JAR) archive appended at its end. The payload of a polyglot has to sit
  where a second parser finds it: at the start (a GIF or JPEG comment, a
  PNG text chunk) or at the end (an appended archive or page), so both ends
  are read; markup hidden in the middle of a large image is left to serving
  downloads with ``Content-Disposition: attachment`` and
  ``X-Content-Type-Options: nosniff``, which is the real guard (OWASP).
  Short markers are not searched in binary data: a 4-byte pattern would
  turn up by chance in about one JPEG in a few thousand.
- ``name_forbidden``: the name's last extension claims an executable, script
  or active type (``report.pdf.exe``, ``x.PhP``, ``invoice.exe.``).
- ``name_unknown``: the name's extension is not in our table.
- ``name_mismatch`` / ``declared_mismatch``: the content is not what the name
  or the declared Content-Type claims (a PDF name on an ELF file).

``sniff_file`` blocks (libmagic, file reads): call it in a thread from async code.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from os import PathLike
from types import MappingProxyType
from typing import Final

import magic

from meetwarden.policies.filetypes import is_forbidden_type, is_mime_type

from .nametypes import claim_is_satisfied, normalize_declared_type, type_for_name

__all__ = ["FINDINGS", "WINDOW", "SniffResult", "sniff_file"]

FINDINGS: Final = (
    "executable_or_script",
    "active_content",
    "forbidden_type",
    "polyglot",
    "name_forbidden",
    "name_unknown",
    "name_mismatch",
    "declared_mismatch",
)
WINDOW: Final = 64 * 1024

_MACH_O = "application/x-mach-binary"
# Headers an operating system executes, whatever libmagic's database says.
_EXECUTABLE_HEADERS: Final = (
    (b"MZ", "application/x-dosexec"),  # the Windows loader runs any file starting "MZ"
    (b"\x7fELF", "application/x-executable"),
    (b"\xfe\xed\xfa\xce", _MACH_O),
    (b"\xce\xfa\xed\xfe", _MACH_O),
    (b"\xfe\xed\xfa\xcf", _MACH_O),
    (b"\xcf\xfa\xed\xfe", _MACH_O),
    (b"\xca\xfe\xba\xbe", _MACH_O),  # a universal Mach-O, or a Java class: both run
    (bytes.fromhex("4c0000000114020000000000c000000000000046"), "application/x-ms-shortcut"),
)
_SHEBANG_TYPE: Final = "text/x-shellscript"

_ACTIVE_DOCUMENTS: Final = frozenset({"text/html", "application/xhtml+xml"})
_MARKUP_TYPES: Final = frozenset({"image/svg+xml", "text/xml", "application/xml"})
_INERT_TYPES: Final = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
    | {"audio/mpeg", "video/mp4"}
)
_ZIP_TYPES: Final = frozenset({"application/zip", "application/java-archive"})

# In binary data: tags and schemes at least 5 bytes long, so chance matches are rare.
_POLYGLOT_MARKERS: Final = re.compile(
    rb"<(?:script|html|body|iframe|object|embed|frameset|svg)[\s/>]"
    rb"|<!doctype\s+html|javascript:|vbscript:|<\?php|\son(?:load|error)\s*=",
    re.IGNORECASE,
)
# In SVG and XML text: anything a browser would run or fetch code through.
_ACTIVE_MARKUP: Final = re.compile(
    rb"<(?:[\w.-]+:)?(?:script|iframe|object|embed|foreignobject|handler)[\s/>]"
    rb"|javascript:|vbscript:|\son[a-z]+\s*=|attributename\s*=\s*[\"']?\s*on"
    rb"|http://www\.w3\.org/1999/xhtml|<\?xml-stylesheet",
    re.IGNORECASE,
)
_LONGEST_MARKER = 64  # overlap kept between chunks when searching a whole file
# GIF/JS and JPEG/JS polyglots open a JavaScript comment in the header's size
# bytes, so the image parses as script ("GIF89a/*...*/=alert(1)"; PortSwigger,
# "Bypassing CSP using polyglot JPEGs", 2016). No real image has those sizes.
_SCRIPT_COMMENT_OFFSET: Final = MappingProxyType({"image/gif": 6, "image/jpeg": 4})
_NEVER_SHARED_FINDINGS: Final = frozenset(
    {"executable_or_script", "active_content", "forbidden_type", "name_forbidden"}
)


@dataclass(frozen=True, slots=True)
class SniffResult:
    """What the content is, what the name and declared type claim, and what is wrong.

    ``mime`` is the sniffed type (bare, lower case); ``description`` is
    libmagic's text, for logs. ``name_mime`` and ``declared_mime`` are the
    claims (None when absent or, for the name, not in our table).
    ``findings`` holds the codes of ``FINDINGS`` that apply, in that order;
    each is a reason to refuse the file.
    """

    mime: str
    description: str
    executable_or_script: bool
    active_content: bool
    polyglot: bool
    name_mime: str | None
    declared_mime: str | None
    name_mismatch: bool
    declared_mismatch: bool
    findings: tuple[str, ...]

    @property
    def forbidden(self) -> bool:
        """Never shared: the content or the name is an executable, a script or active."""
        return not _NEVER_SHARED_FINDINGS.isdisjoint(self.findings)

    @property
    def mismatch(self) -> bool:
        """The content is not what the name or the declared type says."""
        return self.name_mismatch or self.declared_mismatch


def _libmagic(path: str) -> tuple[str, str]:
    try:
        reported = magic.from_file(path, mime=True)
        description = magic.from_file(path)
    except magic.MagicException as error:
        return "application/octet-stream", f"libmagic could not read it: {error}"
    # libmagic sometimes appends text ("application/x-executable, no program header").
    mime = re.split(r"[,;\s]", reported.strip().lower(), maxsplit=1)[0]
    return (mime if is_mime_type(mime) else "application/octet-stream"), description


def _ends(path: str) -> tuple[bytes, bytes]:
    with open(path, "rb") as file:
        head = file.read(WINDOW)
        size = file.seek(0, 2)
        if size <= WINDOW:
            return head, head
        file.seek(max(WINDOW, size - WINDOW))
        return head, file.read(WINDOW)


def _executable_type(head: bytes, libmagic_mime: str) -> str | None:
    """A FORBIDDEN_TYPES name when the content runs as a program, else None."""
    for header, mime in _EXECUTABLE_HEADERS:
        if head.startswith(header):
            return libmagic_mime if is_forbidden_type(libmagic_mime) else mime
    if head.startswith(b"#!"):  # a kernel runs it with the named interpreter
        return libmagic_mime if is_forbidden_type(libmagic_mime) else _SHEBANG_TYPE
    if is_forbidden_type(libmagic_mime) and libmagic_mime not in _ACTIVE_DOCUMENTS | _MARKUP_TYPES:
        return libmagic_mime
    return None


def _archive_type(path: str, mime: str) -> str:
    """Tell a JAR or an APK from a plain ZIP by its member names (none is extracted)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return mime
    if "AndroidManifest.xml" in names and "classes.dex" in names:
        return "application/vnd.android.package-archive"
    if "META-INF/MANIFEST.MF" in names or any(name.endswith(".class") for name in names):
        return "application/java-archive"
    return mime


def _is_polyglot(path: str, mime: str, head: bytes, tail: bytes) -> bool:
    offset = _SCRIPT_COMMENT_OFFSET.get(mime)
    if offset is not None and head[offset : offset + 2] == b"/*":
        return True
    if _POLYGLOT_MARKERS.search(head) or _POLYGLOT_MARKERS.search(tail):
        return True
    return zipfile.is_zipfile(path)  # reads only the end: the ZIP directory's record


def _search_whole_file(path: str, pattern: re.Pattern[bytes]) -> bool:
    with open(path, "rb") as file:
        carry = b""
        while chunk := file.read(WINDOW):
            if pattern.search(carry + chunk):
                return True
            carry = chunk[-_LONGEST_MARKER:]
    return False


def sniff_file(
    path: str | PathLike[str],
    declared_name: str | None = None,
    declared_mime: str | None = None,
) -> SniffResult:
    """Identify the file at ``path`` by its content and compare it with its claims.

    ``declared_name`` and ``declared_mime`` are what the uploader sent (the
    name and the part's Content-Type); either may be None when not sent,
    and then it claims nothing. See the module docstring for the rules.
    """
    file_path = str(path)
    mime, description = _libmagic(file_path)
    head, tail = _ends(file_path)

    executable = _executable_type(head, mime)
    if executable is None and mime in _ZIP_TYPES:
        mime = _archive_type(file_path, mime)
        executable = mime if is_forbidden_type(mime) else None
    if executable is not None:
        mime = executable

    active = mime in _ACTIVE_DOCUMENTS or (
        mime in _MARKUP_TYPES and _search_whole_file(file_path, _ACTIVE_MARKUP)
    )
    polyglot = mime in _INERT_TYPES and _is_polyglot(file_path, mime, head, tail)

    name_mime = type_for_name(declared_name) if declared_name is not None else None
    name_unknown = declared_name is not None and name_mime is None
    name_mismatch = name_unknown or (
        name_mime is not None and not claim_is_satisfied(mime, name_mime)
    )
    claimed = normalize_declared_type(declared_mime)
    declared_mismatch = claimed is not None and not claim_is_satisfied(mime, claimed)

    flags = {
        "executable_or_script": executable is not None,
        "active_content": active,
        "forbidden_type": is_forbidden_type(mime),
        "polyglot": polyglot,
        "name_forbidden": name_mime is not None and is_forbidden_type(name_mime),
        "name_unknown": name_unknown,
        "name_mismatch": name_mismatch,
        "declared_mismatch": declared_mismatch,
    }
    return SniffResult(
        mime=mime,
        description=description,
        executable_or_script=executable is not None,
        active_content=active,
        polyglot=polyglot,
        name_mime=name_mime,
        declared_mime=claimed,
        name_mismatch=name_mismatch,
        declared_mismatch=declared_mismatch,
        findings=tuple(code for code in FINDINGS if flags[code]),
    )
