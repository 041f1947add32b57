"""Reader for ``.s5cmd`` manifests, as IDC's portal, TCIA's portal and
idc-index write them (``idc-sources.md``).

Such a manifest is a script for ``s5cmd run``: ``#`` comment lines (the
time it was made, ``# IDC Data Version(s): ...``, how to run it), then
one line per series::

    cp s3://idc-open-data/<crdc_series_uuid>/* .

with any amount of space, ``./``, a folder or a quoted folder as target,
or per file ``cp s3://<bucket>/<crdc_series_uuid>/<instance>.dcm dir/``;
a lone ``s3://...`` token counts too, and a bare word (a CSV header such
as ``study_manifest_cp_command``) is skipped. GCS manifests keep
``s3://`` but name GCS buckets (``public-datasets-idc``, ...): the
series is found by its UUID whichever bucket a line names. Each line's
UUID is the path component after the bucket; what maps it to a series
is the IDC index (:meth:`~.index.IdcIndex.series_of_uuids`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from datalad_tcia.nbia import ManifestError

#: GCS bucket -> the AWS bucket of the same objects (IDC's
#: ``prior_versions_index.sql``)
GCS_BUCKETS = {
    'public-datasets-idc': 'idc-open-data',
    'idc-open-idc1': 'idc-open-data-two',
    'idc-open-cr': 'idc-open-data-cr',
}

_UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
_VERSIONS = re.compile(r'#\s*IDC Data Version\(s\):\s*(.+)', re.IGNORECASE)


@dataclass(frozen=True)
class S5cmdLine:
    """One line of a manifest that names IDC objects.

    Attributes
    ----------
    number: int
      Its line number (from 1).
    text: str
      The line as written.
    bucket: str
      The bucket it names (AWS name; a GCS name is mapped).
    series_uuid: str or None
      The ``crdc_series_uuid`` it names, if the path has one.
    """

    number: int
    text: str
    bucket: str
    series_uuid: str | None


@dataclass(frozen=True)
class S5cmdManifest:
    """A parsed ``.s5cmd`` manifest.

    Attributes
    ----------
    path: str
      The file read.
    lines: list of S5cmdLine
      The lines naming objects, in file order.
    idc_versions: str or None
      What ``# IDC Data Version(s):`` says, if there is such a line.
    """

    path: str
    lines: list[S5cmdLine] = field(default_factory=list)
    idc_versions: str | None = None

    @property
    def series_uuids(self) -> list[str]:
        """The series UUIDs named, in file order, each once."""
        return list(dict.fromkeys(x.series_uuid for x in self.lines if x.series_uuid))


def is_s5cmd(path: str | Path) -> bool:
    """Whether ``path`` is an ``.s5cmd`` manifest (by its name, or by a
    line naming ``s3://`` objects); unreadable files are not."""
    if str(path).lower().endswith('.s5cmd'):
        return True
    try:
        with Path(path).open(encoding='utf-8', errors='replace') as fp:
            head = fp.read(65536)
    except OSError:
        return False
    return any(
        line.split('#', 1)[0].strip().startswith(('cp ', 'sync ', 's3://'))
        for line in head.splitlines()
    )


def _url(line: str) -> str | None:
    """The ``s3://`` source of a line, or ``None``."""
    try:
        words = shlex.split(line, comments=False)
    except ValueError:
        words = line.split()
    if not words:
        return None
    if words[0] in ('cp', 'sync'):
        sources = [w for w in words[1:] if w.startswith('s3://')]
        return sources[0] if sources else None
    if len(words) == 1 and words[0].startswith('s3://'):
        return words[0]
    return None


def read_s5cmd_manifest(path: str | Path) -> S5cmdManifest:
    """Read an ``.s5cmd`` manifest.

    Raises
    ------
    ManifestError
      If the file cannot be read or names no ``s3://`` object at all.
    """
    try:
        text = Path(path).read_text(encoding='utf-8', errors='replace')
    except OSError as e:
        raise ManifestError(str(path), f'cannot read it: {e.strerror or e}') from e
    found: list[S5cmdLine] = []
    versions = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip('\ufeff')
        if not line:
            continue
        if line.startswith('#'):
            match = _VERSIONS.match(line)
            if match:
                versions = match[1].strip()
            continue
        url = _url(line)
        if url is None:
            continue  # a CSV header word, a command s5cmd would reject
        bucket, _, key = url[len('s3://') :].partition('/')
        first = key.split('/', 1)[0].lower()
        found.append(
            S5cmdLine(
                number,
                raw.rstrip('\r\n'),
                GCS_BUCKETS.get(bucket, bucket),
                first if _UUID.fullmatch(first) else None,
            )
        )
    if not found:
        msg = (
            'it names no s3:// object: an .s5cmd manifest has lines '
            '"cp s3://<bucket>/<crdc_series_uuid>/* <folder>"'
        )
        raise ManifestError(str(path), msg)
    return S5cmdManifest(str(path), found, versions)
