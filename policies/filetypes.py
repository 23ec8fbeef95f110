"""MIME types that are never shared, whatever a policy lists.

Executables and scripts run code on the machine of whoever opens them; the
OWASP File Upload Cheat Sheet and every meeting product's defaults refuse them.
The server's content sniffer maps what it finds to these names, so the list
is the single place that says what "an executable or a script" is.
"""

from __future__ import annotations

import re

__all__ = ["FORBIDDEN_TYPES", "is_forbidden_type", "is_mime_type"]

FORBIDDEN_TYPES: frozenset[str] = frozenset(
    {
        # native executables and libraries
        "application/x-dosexec",
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/vnd.microsoft.portable-executable",
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-elf",
        "application/x-mach-binary",
        "application/x-mach-o-executable",
        "application/x-msi",
        "application/x-ms-installer",
        "application/x-ms-shortcut",
        "application/java-archive",
        "application/x-java-applet",
        "application/vnd.android.package-archive",
        "application/x-apple-diskimage",
        # scripts
        "application/javascript",
        "text/javascript",
        "application/ecmascript",
        "application/x-sh",
        "text/x-shellscript",
        "application/x-shellscript",
        "text/x-python",
        "text/x-script.python",
        "application/x-python-code",
        "text/x-perl",
        "application/x-perl",
        "text/x-php",
        "application/x-php",
        "application/x-httpd-php",
        "text/x-ruby",
        "application/x-ruby",
        "application/x-bat",
        "application/x-msdos-batch",
        "text/x-msdos-batch",
        "application/x-powershell",
        "text/x-powershell",
        "application/hta",
        "text/vbscript",
        "application/x-vbscript",
        "application/x-wsh",
        # active documents that run script when opened in a browser
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
    }
)

_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def is_mime_type(value: str) -> bool:
    """True for a plain ``type/subtype`` (no parameters), as RFC 6838 writes them."""
    return bool(_MIME.fullmatch(value.lower()))


def is_forbidden_type(mime: str) -> bool:
    """True for executables and scripts, which are never shared."""
    return mime.lower() in FORBIDDEN_TYPES
