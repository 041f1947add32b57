"""Parse ``md5hashes.csv`` as NBIA writes it into ``getImage`` archives."""

from __future__ import annotations

MD5_MANIFEST = 'md5hashes.csv'
LICENSE = 'LICENSE'


class Md5ManifestError(ValueError):
    """``md5hashes.csv`` is malformed."""


def parse_md5_manifest(text: str) -> dict[str, str]:
    """Member name -> lower-case MD5 hex digest.

    The file is ``Filename,MD5Hash`` followed by unquoted rows in no
    particular order.

    >>> parse_md5_manifest('Filename,MD5Hash\\n1-1.dcm,' + 'AB' * 16)
    {'1-1.dcm': 'abababababababababababababababab'}
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0].replace(' ', '').lower() != 'filename,md5hash':
        msg = 'md5hashes.csv does not start with "Filename,MD5Hash"'
        raise Md5ManifestError(msg)
    out: dict[str, str] = {}
    for line in lines[1:]:
        # the name may contain commas; the hash never does
        name, sep, digest = line.rpartition(',')
        digest = digest.strip().lower()
        if (
            not sep
            or len(digest) != 32
            or any(c not in '0123456789abcdef' for c in digest)
        ):
            msg = f'md5hashes.csv has a malformed row: {line[:80]!r}'
            raise Md5ManifestError(msg)
        out[name.strip()] = digest
    return out
