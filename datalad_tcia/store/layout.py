"""Paths inside a store (SPEC section 3): every one of them, in one place.

::

    <store>/<collection-id>/
      archives/<SeriesInstanceUID>.zip
      metadata/<SeriesInstanceUID>_metadata_archive.json
      metadata/<SeriesInstanceUID>_metadata_dicoms.json
      metadata/patients.json                 PatientID -> slug
      metadata/grouping.json                 patients in group datasets?
      repos/<slug>/, repos/collection/       working copies of the datasets
      repos/.groups/<group>/                 ... of group datasets
      datasets/<slug>_XDLRA--{refs,repo-export}
      groups/<group>.git                     group datasets (big collections)
      collection_XDLRA--{refs,repo-export}
      built/<slug>.json, built.json          what each patient was built from
      catalog/
      .datalad-tcia.lock
    <store>/tcia.git, tcia_XDLRA--{refs,repo-export}
                                             the top-level dataset (every
                                             collection as a subdataset)
    <store>/.tcia/repo/, .tcia/lock          its working copy and lock
    <store>/catalog/                         the catalog's home

Temporary names (``.<name>.<pid>-<hex>.part``) and staging deposits
(``.<name>.staging_XDLRA--*``) live beside their final names.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .atomic import temp_path_for

_NON_ALNUM = re.compile(r'[^a-z0-9]+')

#: the two files of a ``datalad-annex::`` deposit, in publication order
DEPOSIT_SUFFIXES = ('_XDLRA--repo-export', '_XDLRA--refs')

#: name of the collection superdataset's working copy and export
COLLECTION = 'collection'

#: what a collection directory is named (an IDC ``collection_id``)
_COLLECTION_DIR = re.compile(r'[a-z0-9_]+')
#: directories of the store that are no collection
_NOT_COLLECTIONS = frozenset({'catalog', 'slurm'})


def collection_id(name: str) -> str:
    """The IDC ``collection_id`` of an NBIA collection name.

    Lower-case, each run of characters outside ``[a-z0-9]`` replaced by
    ``_``.

    >>> collection_id('RIDER Lung CT')
    'rider_lung_ct'
    >>> collection_id('Pseudo-PHI-DICOM-Data')
    'pseudo_phi_dicom_data'
    """
    return _NON_ALNUM.sub('_', name.lower())


def collection_dirs(store: Path) -> list[Path]:
    """The collection directories of a store (named as a collection id:
    not the top-level dataset's ``tcia.git`` and ``.tcia``, nor the
    catalog's home and the SLURM jobs' ``catalog`` and ``slurm``)."""
    if not store.is_dir():
        return []
    return sorted(
        p
        for p in store.iterdir()
        if _COLLECTION_DIR.fullmatch(p.name)
        and p.name not in _NOT_COLLECTIONS
        and p.is_dir()
    )


@dataclass(frozen=True)
class ExportPaths:
    """Where one ``datalad-annex::`` deposit lives.

    Attributes
    ----------
    prefix: Path
      The deposit's files are ``<prefix>_XDLRA--refs`` and
      ``<prefix>_XDLRA--repo-export``.
    relpath: str
      ``prefix`` relative to the store (for clone URLs).
    """

    prefix: Path
    relpath: str

    @property
    def staging(self) -> Path:
        """Prefix of the staging deposit a new version is written to."""
        return self.prefix.with_name(f'.{self.prefix.name}.staging')

    @property
    def refs(self) -> Path:
        return self.refs_of(self.prefix)

    @property
    def bare(self) -> Path:
        """The bare git repository beside the deposit (``<prefix>.git``),
        which plain ``git clone`` reads."""
        return self.prefix.with_name(self.prefix.name + '.git')

    @staticmethod
    def export_of(prefix: Path) -> Path:
        """The repository export of the deposit at ``prefix``."""
        return ExportPaths.file(prefix, '_XDLRA--repo-export')

    @staticmethod
    def refs_of(prefix: Path) -> Path:
        """The refs file of the deposit at ``prefix``."""
        return ExportPaths.file(prefix, '_XDLRA--refs')

    @staticmethod
    def file(prefix: Path, suffix: str) -> Path:
        """The file ``<prefix><suffix>``."""
        return prefix.with_name(prefix.name + suffix)


@dataclass(frozen=True)
class StoreLayout:
    """Paths of one collection in a store.

    Parameters
    ----------
    store: Path
      The store directory.
    collection: str
      NBIA collection name.
    """

    store: Path
    collection: str

    @property
    def cid(self) -> str:
        return collection_id(self.collection)

    @property
    def root(self) -> Path:
        return self.store / self.cid

    # -- downloads and metadata ------------------------------------------
    @property
    def archives(self) -> Path:
        return self.root / 'archives'

    @property
    def metadata(self) -> Path:
        return self.root / 'metadata'

    @property
    def analysis_record(self) -> Path:
        """An analysis result's record: what it is, and what each of its
        series describes (absent for a collection)."""
        return self.metadata / 'analysis_result.json'

    def archive(self, series_uid: str) -> Path:
        return self.archives / f'{series_uid}.zip'

    def archive_metadata(self, series_uid: str) -> Path:
        return self.metadata / f'{series_uid}_metadata_archive.json'

    def dicoms_metadata(self, series_uid: str) -> Path:
        return self.metadata / f'{series_uid}_metadata_dicoms.json'

    def superseded(self, series_uid: str, stamp: str) -> tuple[Path, Path]:
        """Where the records of a series NBIA has since revised are kept
        (archive record, file records), ``stamp`` naming that version."""
        folder = self.metadata / 'superseded'
        return (
            folder / f'{series_uid}_{stamp}_metadata_archive.json',
            folder / f'{series_uid}_{stamp}_metadata_dicoms.json',
        )

    def record_stamps(self) -> dict[str, tuple[int, int]]:
        """SeriesInstanceUID -> (size, modification time) of each series
        record, from one listing of ``metadata/``. Every write of a series'
        records replaces its series record (written last), so its stamp
        changes with either record; only series records are looked at
        (``stat``: about 5 microseconds each)."""
        suffix = '_metadata_archive.json'
        stamps = {}
        if self.metadata.is_dir():
            with os.scandir(self.metadata) as entries:
                for e in entries:
                    if e.name.endswith(suffix):
                        st = e.stat()
                        stamps[e.name[: -len(suffix)]] = (st.st_size, st.st_mtime_ns)
        return stamps

    def metadata_fingerprint(
        self, stamps: Mapping[str, tuple[int, int]] | None = None
    ) -> str:
        """A digest of the store's series records (names,
        sizes, modification times; ``stamps`` if already taken): it
        changes with any series' records written."""
        digest = hashlib.sha1()  # noqa: S324 (a fingerprint)
        stamps = self.record_stamps() if stamps is None else stamps
        digest.update(repr(sorted(stamps.items())).encode())
        return digest.hexdigest()

    def withdrawn(self, series_uid: str) -> tuple[Path, Path]:
        """Where the records of a series NBIA no longer serves are kept
        (archive record, file records)."""
        folder = self.metadata / 'withdrawn'
        return (
            folder / f'{series_uid}_metadata_archive.json',
            folder / f'{series_uid}_metadata_dicoms.json',
        )

    def archive_files(self) -> list[Path]:
        """The series archives in the store."""
        if not self.archives.is_dir():
            return []
        return sorted(self.archives.glob('*.zip'))

    def recorded_series(self) -> list[str]:
        """SeriesInstanceUIDs with an archive record."""
        suffix = '_metadata_archive.json'
        return [
            p.name[: -len(suffix)] for p in sorted(self.metadata.glob(f'*{suffix}'))
        ]

    @property
    def patients(self) -> Path:
        """The PatientID -> slug mapping (``metadata/patients.json``)."""
        return self.metadata / 'patients.json'

    @property
    def grouping(self) -> Path:
        """Whether, and how, the collection dataset holds its patients in
        group datasets (``metadata/grouping.json``)."""
        return self.metadata / 'grouping.json'

    # -- datasets -----------------------------------------------------------
    @property
    def repos(self) -> Path:
        """Working copies of the datasets."""
        return self.root / 'repos'

    def repo(self, slug: str) -> Path:
        """Working copy of a patient dataset."""
        return self.repos / slug

    @property
    def collection_repo(self) -> Path:
        """Working copy of the collection superdataset."""
        return self.repos / COLLECTION

    def group_repo(self, group: str) -> Path:
        """Working copy of a group dataset (a collection's patients, in
        collections too big to hold them all directly)."""
        return self.repos / '.groups' / group

    def group_export(self, group: str) -> ExportPaths:
        """The plain git repository of a group dataset
        (``<collection-id>/groups/<group>.git``)."""
        return ExportPaths(self.root / 'groups' / group, f'{self.cid}/groups/{group}')

    def patient_repos(self) -> list[Path]:
        """Working copies of the patient datasets."""
        if not self.repos.is_dir():
            return []
        return sorted(
            p
            for p in self.repos.iterdir()
            if p.name != COLLECTION and (p / '.git').exists()
        )

    def stale_repos_of(self, slug: str) -> list[Path]:
        """Temporary working copies of ``slug`` left by an interrupted run."""
        if not self.repos.is_dir():
            return []
        pattern = re.compile(rf'\.{re.escape(slug)}\.\d+-[0-9a-f]{{8}}\.part')
        return [
            p
            for p in self.repos.glob(f'.{glob.escape(slug)}.*.part')
            if pattern.fullmatch(p.name) and p.is_dir()
        ]

    @property
    def built(self) -> Path:
        """What each patient dataset was built from (``built/<slug>.json``)."""
        return self.root / 'built'

    def built_record(self, slug: str) -> Path:
        return self.built / f'{slug}.json'

    @property
    def built_index(self) -> Path:
        """The built records gathered by the last collection step."""
        return self.root / 'built.json'

    def published_patients(self) -> set[str]:
        """Slugs of the patients whose plain git repository is published
        (one listing of ``datasets/``: a repository appears under its name
        only once complete)."""
        folder = self.root / 'datasets'
        if not folder.is_dir():
            return set()
        with os.scandir(folder) as entries:
            return {
                e.name[: -len('.git')]
                for e in entries
                if e.name.endswith('.git') and not e.name.startswith('.')
            }

    # -- exports and catalog -------------------------------------------------
    @property
    def patient_exports(self) -> str:
        """Where the patient exports are, relative to the store."""
        return f'{self.cid}/datasets/'

    def patient_export(self, slug: str) -> ExportPaths:
        return ExportPaths(
            self.root / 'datasets' / slug, f'{self.patient_exports}{slug}'
        )

    @property
    def collection_export(self) -> ExportPaths:
        return ExportPaths(self.root / COLLECTION, f'{self.cid}/{COLLECTION}')

    @property
    def catalog(self) -> Path:
        return self.root / 'catalog'

    # -- coordination -------------------------------------------------------
    @property
    def lock(self) -> Path:
        return self.root / '.datalad-tcia.lock'

    def patient_lock(self, patient_id: str) -> Path:
        """The lock of one patient's series and dataset (named by a hash:
        PatientIDs are no safe file names)."""
        digest = hashlib.sha1(patient_id.encode()).hexdigest()[:20]  # noqa: S324
        return self.root / 'locks' / f'patient-{digest}.lock'

    @staticmethod
    def temp_path(target: Path) -> Path:
        """A fresh temporary name beside ``target``."""
        return temp_path_for(target)


def slurm_job_dir(store: Path) -> Path:
    """A new directory for the scripts and logs of one ``--slurm``
    submission (``<store>/slurm/<time>-<random>``)."""
    stamp = time.strftime('%Y%m%d-%H%M%S')
    return store / 'slurm' / f'{stamp}-{secrets.token_hex(3)}'
