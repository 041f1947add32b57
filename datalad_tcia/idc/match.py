"""Match the files of a series (MD5 and size from the metadata records)
to the objects of IDC's listing of the same series, without downloading
anything where the listing gives an MD5."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .s3 import S3Object


@dataclass
class SeriesMatch:
    """The outcome of matching one series.

    Attributes
    ----------
    objects: dict
      File (member path) -> the IDC object with the same MD5 and size.
    files: int
      Files of the series.
    downloaded: int
      Objects downloaded to learn their MD5 (multipart ETags).
    """

    objects: dict[str, S3Object] = field(default_factory=dict)
    files: int = 0
    downloaded: int = 0

    @property
    def matched(self) -> int:
        return len(self.objects)


def match_series(
    files: Sequence[tuple[str, str, int]],
    objects: Sequence[S3Object],
    md5_of: Callable[[S3Object], str],
) -> SeriesMatch:
    """Pair ``files`` (path, MD5, size) with ``objects`` of equal content.

    An object uploaded in one part has its MD5 as ETag; one uploaded in
    parts has not: such an object is downloaded (``md5_of``) only if its
    size is that of a file still unmatched. A file whose content IDC does
    not have (IDC may have corrected a file) stays unmatched.

    >>> a = S3Object('u/a.dcm', 3, '900150983cd24fb0d6963f7d28e17f72')
    >>> m = match_series([('1-1.dcm', '900150983cd24fb0d6963f7d28e17f72', 3),
    ...                   ('1-2.dcm', 'e2fc714c4727ee9395f324cd2e7f331f', 4)],
    ...                  [a], md5_of=lambda o: '')
    >>> m.matched, m.files, m.objects['1-1.dcm'].key
    (1, 2, 'u/a.dcm')
    """
    result = SeriesMatch(files=len(files))
    by_content = {(o.md5, o.size): o for o in objects if o.md5}
    unmatched = []
    for path, md5, size in files:
        obj = by_content.get((md5.lower(), size))
        if obj is not None:
            result.objects[path] = obj
        else:
            unmatched.append((path, md5.lower(), size))
    if not unmatched:
        return result
    sizes = {size for _, _, size in unmatched}
    learned: dict[tuple[str, int], S3Object] = {}
    for obj in objects:
        if obj.md5 is None and obj.size in sizes:
            learned[(md5_of(obj).lower(), obj.size)] = obj
            result.downloaded += 1
    for path, md5, size in unmatched:
        obj = learned.get((md5, size))
        if obj is not None:
            result.objects[path] = obj
    return result
