"""Reader for NBIA ``.tcia`` manifests.

A manifest, as the TCIA portal writes it, has six ``key=value`` header
lines (``downloadServerUrl``, ``includeAnnotation``, ``noOfrRetry``,
``databasketId``, ``manifestVersion``, ``ListOfSeriesToDownload=``) followed
by one SeriesInstanceUID per line. Real files come with and without a
trailing newline, with extra blank lines, and occasionally with CRLF line
endings; all of that is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .exceptions import ManifestError

# DICOM UID: dot-separated numeric components, no leading zero in a
# multi-digit component, at most 64 characters (PS3.5 9.1)
_UID = re.compile(r'^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$')
UID_MAX_LENGTH = 64

_LIST_KEY = 'ListOfSeriesToDownload'


def is_uid(text: str) -> bool:
    """Whether ``text`` is a syntactically valid DICOM UID.

    >>> is_uid('1.2.840.10008.1.2.1'), is_uid('1.2.03'), is_uid('abc')
    (True, False, False)
    """
    return len(text) <= UID_MAX_LENGTH and _UID.match(text) is not None


@dataclass(frozen=True)
class Manifest:
    """A parsed ``.tcia`` manifest.

    Attributes
    ----------
    path: str
      The file read.
    series_uids: list of str
      SeriesInstanceUIDs in file order, duplicates removed.
    header: dict
      The ``key=value`` header lines.
    """

    path: str
    series_uids: list[str]
    header: dict[str, str] = field(default_factory=dict)


def read_manifest(path: str | Path) -> Manifest:
    """Read a ``.tcia`` manifest.

    Parameters
    ----------
    path: str or Path
      The manifest file.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
      If the file cannot be read, is not a manifest (no
      ``ListOfSeriesToDownload=`` header line), holds a line that is not a
      DICOM UID, or lists no series. The error names the file and line.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ManifestError(str(path), f'cannot read manifest: {e.strerror}') from e
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        raise ManifestError(str(path), 'not a .tcia manifest (not a text file)') from e

    header: dict[str, str] = {}
    uids: list[str] = []
    in_list = False
    for lineno, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        if not in_list:
            key, sep, value = line.partition('=')
            if not sep:
                raise ManifestError(
                    str(path),
                    f'not a .tcia manifest: expected a "key=value" header line, '
                    f'found {_show(line)}',
                    lineno,
                )
            header[key.strip()] = value.strip()
            in_list = key.strip() == _LIST_KEY
            continue
        if not is_uid(line):
            raise ManifestError(
                str(path),
                f'malformed SeriesInstanceUID {_show(line)} (a DICOM UID is '
                f'digits and dots, at most {UID_MAX_LENGTH} characters)',
                lineno,
            )
        uids.append(line)
    if not in_list:
        raise ManifestError(str(path), f'not a .tcia manifest: no "{_LIST_KEY}=" line')
    if not uids:
        raise ManifestError(str(path), 'the manifest lists no series')
    return Manifest(
        path=str(path), series_uids=list(dict.fromkeys(uids)), header=header
    )


def _show(line: str, limit: int = 60) -> str:
    shown = line if len(line) <= limit else line[:limit] + '...'
    return repr(shown)
