"""The MIME type a file's name or declared type claims, from a fixed table.

The table is ours, not the system's ``mimetypes`` database, which reads
``/etc/mime.types`` and so answers differently from one machine to the next.
It holds the types a meeting shares, plus the executables, scripts and
active documents a name may claim, so that ``report.pdf.exe`` is refused for
what its name says (``name_forbidden``) rather than only for being unknown.
An extension the table does not hold claims nothing a server can check, so
the sniffer treats it as a mismatch: the OWASP File Upload Cheat Sheet asks
for an allow-list of extensions ("List allowed extensions").
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from .filenames import sanitize_filename

__all__ = [
    "EXTENSION_TYPES",
    "claim_is_satisfied",
    "normalize_declared_type",
    "type_for_name",
]

_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

_SHARED: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "json": "application/json",
    "docx": _OOXML + "wordprocessingml.document",
    "xlsx": _OOXML + "spreadsheetml.sheet",
    "pptx": _OOXML + "presentationml.presentation",
    "odt": _ODF + "text",
    "ods": _ODF + "spreadsheet",
    "odp": _ODF + "presentation",
    "zip": "application/zip",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
}

# Every value here is in meetwarden.policies.filetypes.FORBIDDEN_TYPES (a test checks it).
_NEVER_SHARED: dict[str, str] = {
    **dict.fromkeys(("exe", "dll", "com", "scr", "cpl", "pif"), "application/x-msdownload"),
    "msi": "application/x-msi",
    "lnk": "application/x-ms-shortcut",
    **dict.fromkeys(("bat", "cmd"), "application/x-bat"),
    **dict.fromkeys(("ps1", "psm1"), "application/x-powershell"),
    **dict.fromkeys(("sh", "bash", "zsh", "ksh", "command"), "application/x-sh"),
    **dict.fromkeys(("py", "pyw"), "text/x-python"),
    "pyc": "application/x-python-code",
    **dict.fromkeys(
        ("php", "php3", "php4", "php5", "php7", "php8", "phtml", "phar"), "application/x-httpd-php"
    ),
    "pl": "text/x-perl",
    "rb": "text/x-ruby",
    **dict.fromkeys(("js", "mjs", "cjs"), "text/javascript"),
    **dict.fromkeys(("vbs", "vbe"), "text/vbscript"),
    "hta": "application/hta",
    **dict.fromkeys(("wsf", "wsh"), "application/x-wsh"),
    "jar": "application/java-archive",
    "class": "application/x-java-applet",
    "apk": "application/vnd.android.package-archive",
    "dmg": "application/x-apple-diskimage",
    "so": "application/x-sharedlib",
    **dict.fromkeys(("html", "htm", "shtml"), "text/html"),
    **dict.fromkeys(("xhtml", "xht"), "application/xhtml+xml"),
    **dict.fromkeys(("svg", "svgz"), "image/svg+xml"),
}

EXTENSION_TYPES: Final = MappingProxyType({**_SHARED, **_NEVER_SHARED})

# Sniffed types that also satisfy a claimed type: libmagic calls short CSV or
# Markdown "text/plain", and names an OOXML or ODF file "application/zip" when
# its parts are not in the usual order.
_ALSO_SATISFIES: Final = MappingProxyType(
    {
        "text/plain": frozenset({"text/csv"}),
        "text/csv": frozenset({"text/plain"}),
        "text/markdown": frozenset({"text/plain"}),
        "application/json": frozenset({"text/plain"}),
        **{
            mime: frozenset({"application/zip"})
            for mime in _SHARED.values()
            if mime.startswith((_OOXML, _ODF))
        },
    }
)

# What browsers send for the same thing (Windows sends "application/vnd.ms-excel"
# for any .csv and "application/x-zip-compressed" for .zip).
_DECLARED_ALIASES: Final = MappingProxyType(
    {
        "image/jpg": "image/jpeg",
        "image/pjpeg": "image/jpeg",
        "application/x-pdf": "application/pdf",
        "text/x-markdown": "text/markdown",
        "application/x-zip-compressed": "application/zip",
        "application/vnd.ms-excel": "text/csv",
        "application/csv": "text/csv",
        "text/comma-separated-values": "text/csv",
        "audio/mp3": "audio/mpeg",
    }
)

# A sniffed type that disagrees with no claim: an empty file holds nothing.
_EMPTY = "inode/x-empty"


def type_for_name(declared_name: str) -> str | None:
    """The MIME type the name's last extension claims, or None if the table lacks it.

    The name is first sanitised (``filenames.sanitize_filename``), so trailing
    dots and spaces, bidi overrides and path parts cannot hide the extension
    Windows would act on; the extension is compared case-insensitively
    (``X.PhP`` is PHP). Only the last extension counts, as it is the one an
    operating system opens the file with (``report.pdf.exe`` is an ``.exe``).
    """
    name = sanitize_filename(declared_name, fallback="")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return None
    return EXTENSION_TYPES.get(extension.casefold())


def normalize_declared_type(declared_mime: str | None) -> str | None:
    """The declared Content-Type as a bare lower-case ``type/subtype``, or None.

    Parameters (``; charset=...``) are dropped and browser aliases mapped.
    ``application/octet-stream`` and an empty value mean the sender did not
    know, so they claim nothing (None).
    """
    if declared_mime is None:
        return None
    mime = declared_mime.split(";", 1)[0].strip().lower()
    if mime in {"", "application/octet-stream"}:
        return None
    return _DECLARED_ALIASES.get(mime, mime)


def claim_is_satisfied(sniffed: str, claimed: str) -> bool:
    """True when content sniffed as ``sniffed`` is what ``claimed`` says it is."""
    return sniffed in {claimed, _EMPTY} or sniffed in _ALSO_SATISFIES.get(claimed, frozenset())
