"""Metadata records with the make-up of real collections, for
``bench_scale.py``: the patients, studies and series of a collection as
the installed IDC index (idc-index-data, v25) lists them -- their real
PatientIDs, UIDs, modalities and descriptions -- with files per series
reduced (the per-file costs are measured by ``bench_collection.py`` and
``bench_get.py``).

Each series record is written with the library's own metadata writer, as
``tcia-download`` writes it, by a pool of processes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from datalad_tcia.archive import ArchiveIndex, MemberRecord
from datalad_tcia.idc import IdcIndex
from datalad_tcia.metadata import SeriesRecord
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.pipeline import archive_info, record_archive
from datalad_tcia.store import StoreLayout

API = 'https://nbia.cancerimagingarchive.net/nbia-api/services/v4'


def collection_series(
    index: IdcIndex, collection_id: str, patients: int | None = None
) -> list[SeriesInfo]:
    """The series of the first ``patients`` patients (by PatientID) of a
    collection in the index (all, without ``patients``)."""
    every = index.get_series(collection=collection_id)
    chosen = set(patients_of(every)[: patients or None])
    return [s for s in every if s.patient_id in chosen]


def collection_sizes(index: IdcIndex) -> list[tuple[str, int, int]]:
    """(collection_id, patients, series) of every collection in the index."""
    rows = index._query(  # noqa: SLF001 - a benchmark reads the index raw
        'SELECT collection_id, count(DISTINCT PatientID), count(*) FROM tcia '
        'GROUP BY 1 ORDER BY 2'
    )
    return [(str(c), int(p), int(s)) for c, p, s in rows]


def _write(store: str, series: Sequence[SeriesInfo], files: int) -> int:
    layout = StoreLayout(Path(store), series[0].collection or 'unknown')
    for info in series:
        uid = info.series_uid
        members = [
            {
                'path': f'1-{f + 1:03d}.dcm',
                'size': 520_000 + f,
                'md5': hashlib.md5(f'{uid}/{f}'.encode()).hexdigest(),  # noqa: S324
                'dicom': True,
                'SOPInstanceUID': f'{uid}.{f + 1}',
                'SeriesInstanceUID': uid,
                'StudyInstanceUID': info.study_uid,
                'PatientID': info.patient_id,
                'Modality': info.modality,
                'InstanceNumber': f + 1,
            }
            for f in range(files)
        ]
        index = ArchiveIndex(
            [MemberRecord.from_json(m) for m in members],
            'zip',
            'synthetic licence\n',
            'md5s',
        )
        record_archive(
            layout,
            SeriesRecord(
                collection=layout.collection,
                collection_id=layout.cid,
                series=info,
                image_count=files,
                api_url=API,
                archive=archive_info(
                    index,
                    files * 520_000,
                    hashlib.md5(uid.encode()).hexdigest(),  # noqa: S324
                    url=f'{API}/getImage?SeriesInstanceUID={uid}',
                ),
            ),
            index,
        )
    return len(series)


def write_series(
    store: Path, series: Sequence[SeriesInfo], files: int = 1, jobs: int | None = None
) -> int:
    """Write the metadata records of ``series`` (``files`` files each)."""
    jobs = jobs or os.cpu_count() or 1
    chunks = [series[i : i + 2000] for i in range(0, len(series), 2000)]
    with ProcessPoolExecutor(jobs) as pool:
        n = len(chunks)
        return sum(pool.map(_write, [str(store)] * n, chunks, [files] * n))


def collection_shape(
    series: Sequence[SeriesInfo], files: int = 1
) -> list[list[list[int]]]:
    """A collection's make-up as the look-alike builds it
    (:func:`~tcia_lookalike.holdings.build_shaped_collection`): per
    patient its studies, per study ``files`` for each of its series."""
    patients: dict[str, dict[str, int]] = {}
    for s in series:
        studies = patients.setdefault(s.patient_id or '', {})
        studies[s.study_uid or ''] = studies.get(s.study_uid or '', 0) + 1
    return [
        [[files] * n for _, n in sorted(studies.items())]
        for _, studies in sorted(patients.items())
    ]


def spread(
    sizes: Sequence[tuple[str, int, int]], k: int, most_patients: int, most_series: int
) -> list[str]:
    """``k`` collection ids spread evenly over the collections of at most
    ``most_patients`` patients and ``most_series`` series."""
    small = [c for c, p, n in sizes if p <= most_patients and n <= most_series]
    step = max(1, len(small) // k)
    return small[::step][:k]


def patients_of(series: Iterable[SeriesInfo]) -> list[str]:
    return sorted({s.patient_id or '' for s in series})
