"""Datasets, exports and catalog of a collection shaped like a real one.

A synthetic metadata records with the shape of a real TCIA collection
(patients, studies, series and files per series; LIDC-IDRI by default, the
row of ``shared/reference/idc-sources.md``: 1,010 patients, 1,308 studies,
1,308 series, 244,527 files) is written into a fresh store with the
library's own metadata writer (synthetic MD5s and DICOM headers, no
network, no archives). Then, timed separately, the pipeline's dataset
stage (every patient dataset and its export, then the collection
superdataset and its export) and the catalog are run on it, and the
figures printed: seconds per patient, files per second.

``--patients N ...`` takes the first N patients of the shape (files per
patient as in the full collection), so the cost per patient can be
compared across sizes; N beyond the shape's patients (``--patients 5000``)
grows the shape in proportion.

Run: ``python benchmarks/bench_collection.py [--shape lidc-idri|P,ST,SE,F]
[--patients 8 32] [--files-per-patient K] [--no-catalog]``
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from legacy import create_with_special_remotes

from datalad_tcia.archive import ArchiveIndex, MemberRecord
from datalad_tcia.datacite import CitationLookup, DataCiteClient
from datalad_tcia.dataset import (
    DEFAULT_PATH_TEMPLATE,
    plan_patient,
    update_dataset,
)
from datalad_tcia.export import deposit_url, store_base_url
from datalad_tcia.http import RetryPolicy
from datalad_tcia.metadata import SeriesRecord, read_collection
from datalad_tcia.nbia import NbiaClient, SeriesInfo
from datalad_tcia.pipeline import (
    RunSettings,
    archive_info,
    build_datasets,
    record_archive,
)
from datalad_tcia.pipeline.outcomes import CollectionOutcome
from datalad_tcia.pipeline.write_catalog import write_catalog
from datalad_tcia.store import StoreLayout
from datalad_tcia.store.git import git

API = 'https://nbia.cancerimagingarchive.net/nbia-api/services/v4'
COLLECTION = 'BENCH-Collection'

#: (patients, studies, series, files) of real collections (IDC v25)
SHAPES = {
    'lidc-idri': (1010, 1308, 1308, 244_527),
    'pseudo-phi': (42, 44, 52, 52 * 20),
}


@dataclass(frozen=True)
class Shape:
    """How many studies, series and files each patient has."""

    patients: int
    studies: int
    series: int
    files: int

    def scaled(self, n: int) -> Shape:
        """This shape, grown to ``n`` patients if it has fewer."""
        return _scaled_shape(self, n)

    def patient(self, i: int) -> list[list[int]]:
        """Files per series, grouped by study, of patient ``i`` (0-based):
        the totals spread as evenly as integers allow."""
        studies = _share(self.studies, self.patients, i)
        first_study = sum(_share(self.studies, self.patients, j) for j in range(i))
        out = []
        for s in range(studies):
            k = first_study + s
            n_series = _share(self.series, self.studies, k)
            first_series = sum(_share(self.series, self.studies, j) for j in range(k))
            out.append(
                [
                    _share(self.files, self.series, first_series + r)
                    for r in range(n_series)
                ]
            )
        return out


def _settings(store: Path, jobs: int) -> RunSettings:
    """The dataset stage's and the catalog's settings: no server is asked
    (NBIA's synthetic records have no DOI: DataCite is not asked)."""
    return RunSettings(
        store,
        NbiaClient(),
        CitationLookup(
            DataCiteClient('http://127.0.0.1:9', retry=RetryPolicy(max_attempts=1))
        ),
        base_url=store_base_url(store),
        jobs=jobs,
    )


def _scaled_shape(shape: Shape, n: int) -> Shape:
    """``shape`` with ``n`` patients if it has fewer: studies, series and
    files grow in proportion (e.g. LIDC-IDRI's make-up at 5,000 patients)."""
    if n <= shape.patients:
        return shape
    return Shape(
        n,
        shape.studies * n // shape.patients,
        shape.series * n // shape.patients,
        shape.files * n // shape.patients,
    )


def _share(total: int, parts: int, i: int) -> int:
    """Part ``i`` of ``total`` split into ``parts`` near-equal integers."""
    return total // parts + (1 if i < total % parts else 0)


def _uid(*parts: int) -> str:
    return '1.2.826.0.1.3680043.8.498.' + '.'.join(str(p + 1) for p in parts)


def write_records(
    store: Path,
    shape: Shape,
    n_patients: int,
    *,
    collection: str = COLLECTION,
    api: str = API,
    file_facts: Callable[[str, int], Mapping[str, Any]] | None = None,
) -> Iterator[int]:
    """Write the metadata records of the first ``n_patients``; yields the
    number of files of each series written. ``file_facts(series_uid, i)``
    gives a file's own ``size``, ``md5`` and further fields (e.g. its
    ``idc_url``) in place of the synthetic ones."""
    layout = StoreLayout(store, collection)
    for p in range(n_patients):
        pid = f'BENCH-{p + 1:04d}'
        for s, series in enumerate(shape.patient(p)):
            study_uid = _uid(p, s)
            for r, n_files in enumerate(series):
                series_uid = _uid(p, s, r)
                members = []
                for f in range(n_files):
                    md5 = hashlib.md5(f'{series_uid}/{f}'.encode()).hexdigest()
                    facts = file_facts(series_uid, f) if file_facts else {}
                    members.append(
                        {
                            'path': f'1-{f + 1:03d}.dcm',
                            'size': 525_000 + f,
                            'md5': md5,
                            'dicom': True,
                            'SOPInstanceUID': f'{series_uid}.{f + 1}',
                            'SeriesInstanceUID': series_uid,
                            'StudyInstanceUID': study_uid,
                            'PatientID': pid,
                            'Modality': 'CT',
                            'SeriesDescription': f'series {r + 1}',
                            'SeriesNumber': r + 1,
                            'InstanceNumber': f + 1,
                            'StudyDate': '20000101',
                            'BodyPartExamined': 'CHEST',
                            **facts,
                        }
                    )
                nbia = {
                    'Collection': collection,
                    'PatientID': pid,
                    'StudyInstanceUID': study_uid,
                    'SeriesInstanceUID': series_uid,
                    'Modality': 'CT',
                    'StudyDate': '01-01-2000',
                    'StudyDesc': 'CT CHEST',
                    'SeriesNumber': r + 1,
                    'SeriesDescription': f'series {r + 1}',
                    'BodyPartExamined': 'CHEST',
                    'ImageCount': n_files,
                    'FileSize': n_files * 525_000,
                }
                index = ArchiveIndex(
                    [MemberRecord.from_json(m) for m in members],
                    'zip',
                    'synthetic licence\n',
                    'md5s',
                )
                record_archive(
                    layout,
                    SeriesRecord(
                        collection=collection,
                        collection_id=layout.cid,
                        series=SeriesInfo.from_json(nbia),
                        image_count=n_files,
                        api_url=api,
                        archive=archive_info(
                            index,
                            n_files * 520_000,
                            hashlib.md5(series_uid.encode()).hexdigest(),
                            url=f'{api}/getImage?SeriesInstanceUID={series_uid}'
                            '&NewFileNames=Yes&IncludeMD5=Yes',
                        ),
                    ),
                    index,
                )
                yield n_files


def open_in_chromium(catalog: Path, n_patients: int) -> float:
    """Seconds from navigating to the catalog's home page (served over
    HTTP on loopback) in headless Chromium until every patient is listed
    in its Patients tab."""
    from playwright.sync_api import sync_playwright

    handler = partial(_QuietHandler, directory=str(catalog))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{httpd.server_address[1]}/'
    last = f'BENCH-{n_patients:04d}'
    chromium = next(
        filter(None, map(shutil.which, ('chromium', 'chromium-browser'))), None
    )
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=['--no-sandbox']
            )
            page = browser.new_page(viewport={'width': 1280, 'height': 1600})
            start = time.perf_counter()
            page.goto(url)
            # the row of the last patient in the (default) Patients tab
            page.locator(f'[id="patients_{last}"]').wait_for(timeout=60_000)
            elapsed = time.perf_counter() - start
            body = page.inner_text('body')
            listed = sum(f'BENCH-{i + 1:04d}' in body for i in range(n_patients))
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    if listed != n_patients:
        raise SystemExit(f'the collection page lists {listed} of {n_patients} patients')
    return elapsed


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that keeps connections open, as web servers
    do (http.server's default, HTTP/1.0, opens one per request)."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args: object) -> None:
        pass


def legacy_patients(store: Path, n: int) -> float:
    """Seconds per patient of the per-dataset path this project used until
    issue 12, on the first ``n`` patients recorded in ``store``:
    ``datalad create``, two ``git annex initremote``, the files registered
    by the same ``git fast-import``, and the deposit written by a ``git
    push`` through datalad-next's ``datalad-annex::`` remote helper."""
    stored = read_collection(store, COLLECTION)
    base = Path(tempfile.mkdtemp(prefix='legacy-', dir=store))
    (base / 'repos').mkdir()
    start = time.perf_counter()
    for pid in sorted(stored.patients)[:n]:
        path = base / 'repos' / pid
        files, sources = plan_patient(
            stored.patients[pid], DEFAULT_PATH_TEMPLATE, COLLECTION
        )
        create_with_special_remotes(path, f'TCIA {COLLECTION} patient {pid}')
        update_dataset(path, files, sources, {}, f'Register {len(files)} files')
        url = deposit_url(base.as_uri(), f'datasets/{pid}')
        git(path, 'remote', 'add', 'deposit', url)
        git(path, 'push', '--quiet', 'deposit', 'main', 'git-annex')
    elapsed = time.perf_counter() - start
    shutil.rmtree(base)
    return elapsed / n


def run(
    shape: Shape,
    n_patients: int,
    catalog: bool,
    jobs: int,
    legacy: int,
    browser: bool,
) -> None:
    with tempfile.TemporaryDirectory(prefix='bench-collection-') as tmp:
        store = Path(tmp) / 'store'
        start = time.perf_counter()
        files = sum(write_records(store, shape, n_patients))
        records_s = time.perf_counter() - start
        start = last_patient = time.perf_counter()
        patients_s = None
        for o in build_datasets(_settings(store, jobs), COLLECTION):
            if o.status not in ('ok', 'notneeded'):
                raise SystemExit(f'dataset stage failed: {o.message}')
            if isinstance(o, CollectionOutcome):
                patients_s = last_patient - start
            else:
                last_patient = time.perf_counter()
        datasets_s = time.perf_counter() - start
        assert patients_s is not None
        superds_s = datasets_s - patients_s
        catalog_s = None
        if catalog:
            # DataCite is not asked: NBIA's synthetic record has no DOI
            start = time.perf_counter()
            for o in write_catalog(_settings(store, jobs), COLLECTION):
                if o.status != 'ok':
                    raise SystemExit(f'catalog failed: {o.message}')
                print(f'    catalog: {o.message}', flush=True)
            catalog_s = time.perf_counter() - start
            if browser:
                page_s = open_in_chromium(
                    StoreLayout(store, COLLECTION).catalog, n_patients
                )
                print(
                    f'    collection page in headless Chromium: all {n_patients} '
                    f'patients listed after {page_s:.2f} s',
                    flush=True,
                )
        per_patient = patients_s / n_patients
        total = datasets_s + (catalog_s or 0)
        print(
            f'{n_patients:6d} patients {files:8d} files: metadata {records_s:6.1f} s | '
            f'patients {patients_s:7.1f} s = {per_patient:5.3f} s/patient, '
            f'{files / patients_s:7.0f} files/s | superdataset {superds_s:5.1f} s'
            + (f' | catalog {catalog_s:6.1f} s' if catalog_s is not None else '')
            + f' | total {total:6.1f} s',
            flush=True,
        )
        if legacy:
            n = min(legacy, n_patients)
            old = legacy_patients(store, n)
            print(
                f'       per-dataset path (until issue 12), first {n} patients: '
                f'{old:5.3f} s/patient -> this path is {old / per_patient:5.1f}x '
                'faster per patient',
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--shape',
        default='lidc-idri',
        help='a named shape (' + ', '.join(SHAPES) + ') or PATIENTS,STUDIES,'
        'SERIES,FILES',
    )
    parser.add_argument('--patients', type=int, nargs='+', default=[100, 1010])
    parser.add_argument(
        '--files-per-patient',
        type=int,
        help='one study, one series of K files per patient instead of the shape',
    )
    parser.add_argument('--no-catalog', action='store_true')
    parser.add_argument('-J', '--jobs', type=int, default=1)
    parser.add_argument(
        '--browser',
        action='store_true',
        help='time the collection page in headless Chromium (playwright)',
    )
    parser.add_argument(
        '--legacy',
        type=int,
        default=10,
        metavar='N',
        help='time the per-dataset path of before issue 12 on the first N '
        'patients of each size, for the ratio (0: skip)',
    )
    args = parser.parse_args()
    if args.shape in SHAPES:
        counts = SHAPES[args.shape]
    else:
        counts = tuple(int(x) for x in args.shape.split(','))  # type: ignore[assignment]
    shape = Shape(*counts)
    if args.files_per_patient:
        n = max(args.patients)
        shape = Shape(n, n, n, n * args.files_per_patient)
    for key in ('GIT_AUTHOR', 'GIT_COMMITTER'):
        os.environ.setdefault(f'{key}_NAME', 'bench')
        os.environ.setdefault(f'{key}_EMAIL', 'bench@example.org')
    print(
        f'shape: {shape.patients} patients, {shape.studies} studies, '
        f'{shape.series} series, {shape.files} files (grown in proportion for '
        f'more patients); -J {args.jobs}',
        flush=True,
    )
    for n in args.patients:
        run(
            shape.scaled(n),
            n,
            not args.no_catalog,
            args.jobs,
            args.legacy,
            args.browser,
        )
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
