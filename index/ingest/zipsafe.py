"""Checks on a zip container (.docx, .pptx, .xlsx, .odt, .epub) before any library opens it.

Office files and books are zip archives of XML, and a hostile one can be a zip bomb (a few KB that
inflate to gigabytes), carry XML entity declarations (the "billion laughs", or an external entity
that reads /etc/passwd into the index), or be encrypted. `check` reads only the central directory and
the XML members, within bounds, and returns a one-line reason to skip the file, or None:

- bounds on what the directory declares: members, each member's size, the total, and the ratio of
  a big member's size to its compressed size. Python's zipfile never inflates past a member's
  declared size, so a lying header cannot get round them.
- every XML member parsed with defusedxml: entity declarations and external references refused.
  The libraries that read the file afterwards (python-docx, python-pptx, openpyxl, ebooklib, odfpy)
  do not expand entities either (lxml 5+ and expat defaults); this makes it one rule, tested here.
- encryption: an encrypted OOXML file is not a zip at all but an OLE container; an encrypted ODF
  file says so in its manifest; an EPUB with DRM lists its encrypted members in META-INF.

Macros need nothing: only text parts are read, `vbaProject.bin` and the like are never opened.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML_SUFFIXES = (".xml", ".rels", ".opf", ".ncx")


@dataclass(frozen=True)
class ZipLimits:
    members: int = 10_000
    member_bytes: int = 64 * 1024 * 1024
    total_bytes: int = 256 * 1024 * 1024
    ratio: int = 200  # uncompressed / compressed, for members over `ratio_from` bytes
    ratio_from: int = 1024 * 1024


def check(path: str, what: str, limits: ZipLimits = ZipLimits()) -> str | None:
    """Why the zip container at `path` (a `what`, e.g. "Word document") must be skipped, or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head == _OLE_MAGIC:
            return f"password-protected (encrypted) or old binary format, not a {what}; save it unprotected"
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            reason = _bounds(infos, limits)
            if reason:
                return reason
            if any(info.flag_bits & 0x1 for info in infos):
                return "password-protected (encrypted zip members); save it unprotected"
            names = {info.filename for info in infos}
            if "META-INF/encryption.xml" in names:
                return "encrypted or DRM-protected book (META-INF/encryption.xml); not readable"
            for info in infos:
                if info.filename.lower().endswith(_XML_SUFFIXES):
                    reason = _xml(archive.read(info), info.filename)
                    if reason:
                        return reason
            manifest = "META-INF/manifest.xml"
            if manifest in names and b"encryption-data" in archive.read(manifest):
                return "password-protected (encrypted) document; save it unprotected"
    except zipfile.BadZipFile:
        return f"broken {what} (not a valid zip container)"
    except (zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, ValueError,
            OSError) as exc:
        return f"broken {what} ({type(exc).__name__}: {exc})"
    return None


def _bounds(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> str | None:
    if len(infos) > limits.members:
        return f"zip with {len(infos):,} members (over {limits.members:,}); not read"
    total = 0
    for info in infos:
        if info.file_size > limits.member_bytes:
            return (f"zip member {info.filename!r} inflates to {info.file_size:,} bytes "
                    f"(over {limits.member_bytes:,}); not read")
        if info.file_size > limits.ratio_from and info.file_size > limits.ratio * max(info.compress_size, 1):
            return (f"zip member {info.filename!r} inflates {info.file_size // max(info.compress_size, 1):,} times "
                    f"(a zip bomb?); not read")
        total += info.file_size
    if total > limits.total_bytes:
        return f"zip inflates to {total:,} bytes in all (over {limits.total_bytes:,}); not read"
    return None


def _xml(data: bytes, name: str) -> str | None:
    """A reason to refuse an XML member: entity declarations, external references, or broken XML."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        return f"XML member {name!r} declares entities or external references ({type(exc).__name__}); refused"
    except ParseError as exc:
        return f"broken file: XML member {name!r} is not well-formed ({exc})"
    return None
