"""Registration speed of datasets from a metadata records, side by side.

For synthetic metadata records of N files (series of 200 files, one patient), times:

- ``datalad-tcia``: :func:`datalad_tcia.dataset.update_dataset` (one
  ``git fast-import`` for the main and the git-annex branch, with archive
  member, archive and single-file sources and per-file metadata);
- the naive recipe (INM-ICF style): ``datalad addurls`` with per-file
  metadata and ``et:MD5`` keys, then one ``git annex setpresentkey`` per key
  (run for ``--naive-files`` only: at ~12-16 files/s it takes minutes);

both after creating the dataset (shown separately: ours with
:func:`~datalad_tcia.dataset.init_repository`, whose first commits the
registering ``fast-import`` writes; the naive one with ``datalad create``
and two ``initremote``). Prints files/s and the ratio to the naive recipe's rate
(target >= 1,000 files/s at 20,000 files).

Run: ``python benchmarks/bench_register.py [--files 2000 20000] [--naive-files 2000]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from datalad.distribution.dataset import Dataset
from legacy import create_with_special_remotes, remote_uuid

from datalad_tcia.dataset import (
    DEFAULT_PATH_TEMPLATE,
    init_repository,
    plan_patient,
    update_dataset,
)
from datalad_tcia.metadata import SeriesRecords

API = 'https://nbia.cancerimagingarchive.net/nbia-api/services/v4'
PER_SERIES = 200


def patient_series(n: int) -> list[SeriesRecords]:
    """A synthetic metadata records of ``n`` files."""
    out = []
    for s in range((n + PER_SERIES - 1) // PER_SERIES):
        uid = f'1.2.826.0.1.3680043.8.498.{s + 1}'
        count = min(PER_SERIES, n - s * PER_SERIES)
        nbia = {
            'SeriesInstanceUID': uid,
            'StudyInstanceUID': '1.2.826.0.1.3680043.8.498.7',
            'StudyDate': '03-14-2019',
            'StudyDesc': 'CT CHEST',
            'SeriesNumber': s + 1,
            'SeriesDescription': f'series {s + 1}',
            'Modality': 'CT',
            'PatientID': 'BENCH-1',
        }
        archive = {
            'Collection': 'BENCH',
            'SeriesInstanceUID': uid,
            'api_url': API,
            'archive_url': f'{API}/getImage?SeriesInstanceUID={uid}',
            'nbia_series': nbia,
            'ImageCount': count,
        }
        dicoms = []
        for i in range(count):
            md5 = hashlib.md5(f'{uid}-{i}'.encode()).hexdigest()
            dicoms.append(
                {
                    'path': f'1-{i + 1:03d}.dcm',
                    'size': 500_000 + i,
                    'md5': md5,
                    'dicom': True,
                    'SOPInstanceUID': f'{uid}.{i + 1}',
                    'SeriesInstanceUID': uid,
                    'Modality': 'CT',
                    'SeriesDescription': f'series {s + 1}',
                    'InstanceNumber': i + 1,
                }
            )
        out.append(SeriesRecords.from_json(archive, dicoms))
    return out


def run_ours(path: Path, n: int) -> tuple[float, float]:
    start = time.perf_counter()
    new = init_repository(path, 'bench', DEFAULT_PATH_TEMPLATE)
    created = time.perf_counter() - start
    files, sources = plan_patient(patient_series(n), DEFAULT_PATH_TEMPLATE, 'BENCH')
    start = time.perf_counter()
    update_dataset(path, files, sources, {'LICENSE': b'license\n'}, 'bench', new=new)
    return created, time.perf_counter() - start


def run_naive(path: Path, n: int) -> tuple[float, float]:
    start = time.perf_counter()
    create_with_special_remotes(path, 'bench')
    ds = Dataset(path)
    created = time.perf_counter() - start
    files, _ = plan_patient(patient_series(n), DEFAULT_PATH_TEMPLATE, 'BENCH')
    records = []
    for f in files:
        size, rest = f.key.split('-s', 1)[1].split('--', 1)
        records.append(
            {
                'path': f.path,
                'url': f.urls[0],
                'size': size,
                'md5': rest.split('.')[0],
                'modality': f.metadata['modality'][0],
                'seriesdescription': f.metadata['seriesdescription'][0],
                'instancenumber': f.metadata['instancenumber'][0],
            }
        )
    listing = path.parent / f'{path.name}.json'
    listing.write_text(json.dumps(records))
    start = time.perf_counter()
    Dataset(path).addurls(
        str(listing),
        '{url}',
        '{path}',
        key='et:MD5-s{size}--{md5}',
        meta=[
            'modality={modality}',
            'seriesdescription={seriesdescription}',
            'instancenumber={instancenumber}',
        ],
        exclude_autometa='*',
        result_renderer='disabled',
    )
    uuid = remote_uuid(path, 'archivist')
    keys = subprocess.run(
        ['git', 'annex', 'find', '--include', '*', '--format', '${key}\\n'],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for key in keys:
        ds.repo.call_annex(['setpresentkey', key, uuid, '1'])
    return created, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--files', type=int, nargs='+', default=[2000, 20000])
    parser.add_argument('--naive-files', type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault('GIT_AUTHOR_NAME', 'bench')
    os.environ.setdefault('GIT_AUTHOR_EMAIL', 'bench@example.org')
    os.environ.setdefault('GIT_COMMITTER_NAME', 'bench')
    os.environ.setdefault('GIT_COMMITTER_EMAIL', 'bench@example.org')
    with tempfile.TemporaryDirectory() as tmp:
        naive_rate = None
        if args.naive_files:
            created, secs = run_naive(Path(tmp) / 'naive', args.naive_files)
            naive_rate = args.naive_files / secs
            print(
                f'naive addurls+meta+setpresentkey  {args.naive_files:6d} files  '
                f'{secs:8.1f} s  {naive_rate:8.1f} files/s  (dataset set-up '
                f'{created:.1f} s)'
            )
        for n in args.files:
            created, secs = run_ours(Path(tmp) / f'ours-{n}', n)
            rate = n / secs
            ratio = f'  {rate / naive_rate:6.0f}x naive' if naive_rate else ''
            print(
                f'datalad-tcia fast-import          {n:6d} files  {secs:8.1f} s  '
                f'{rate:8.1f} files/s{ratio}  (dataset set-up {created:.1f} s)'
            )
        if naive_rate:
            print(
                f'RESULT naive rate measured at {args.naive_files} files; ratios at '
                'other sizes compare with that rate (the naive rate falls with N)'
            )
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
