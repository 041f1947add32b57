"""Verify an indexed archive against what NBIA promised."""

from __future__ import annotations

from .md5manifest import Md5ManifestError, parse_md5_manifest
from .members import ArchiveIndex


def verification_problems(index: ArchiveIndex, image_count: int | None) -> list[str]:
    """Everything wrong with an archive, as readable sentences.

    Checks: safe and unique member names; the number of image members
    equals NBIA's ``ImageCount`` (NBIA can end a stream "successfully" with
    files missing); every image member's MD5 equals its ``md5hashes.csv``
    row, and every row has its member, when the server sent the file.
    An empty list means the archive is good.
    """
    problems = list(index.problems)
    images = index.image_members
    if image_count is not None and len(images) != image_count:
        problems.append(
            f'the archive holds {len(images)} DICOM file(s), NBIA says '
            f'ImageCount is {image_count}'
        )
    if index.md5_manifest is None:
        return problems
    try:
        listed = parse_md5_manifest(index.md5_manifest)
    except Md5ManifestError as e:
        problems.append(str(e))
        return problems
    for member in images:
        want = listed.get(member.path)
        if want is None:
            problems.append(f'{member.path!r} is not listed in md5hashes.csv')
        elif want != member.md5:
            problems.append(
                f'MD5 of {member.path!r} is {member.md5}, md5hashes.csv says {want}'
            )
    missing = sorted(set(listed) - {m.path for m in images})
    if missing:
        shown = ', '.join(repr(m) for m in missing[:5])
        more = f' and {len(missing) - 5} more' if len(missing) > 5 else ''
        problems.append(f'md5hashes.csv lists missing member(s) {shown}{more}')
    return problems
