"""Paths inside a store (SPEC section 3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_NON_ALNUM = re.compile(r'[^a-z0-9]+')


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

    @property
    def archives(self) -> Path:
        return self.root / 'archives'

    @property
    def metadata(self) -> Path:
        return self.root / 'metadata'

    def archive(self, series_uid: str) -> Path:
        return self.archives / f'{series_uid}.zip'

    def archive_metadata(self, series_uid: str) -> Path:
        return self.metadata / f'{series_uid}_metadata_archive.json'

    def dicoms_metadata(self, series_uid: str) -> Path:
        return self.metadata / f'{series_uid}_metadata_dicoms.json'

    @property
    def lock(self) -> Path:
        return self.root / '.datalad-tcia.lock'
