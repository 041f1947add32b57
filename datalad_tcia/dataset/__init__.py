"""DataLad datasets built from the metadata deposit (no network needed).

.. currentmodule:: datalad_tcia.dataset
.. autosummary::
   :toctree: generated

   plan_patient
   update_dataset
   update_superdataset
   patient_slug
   file_path
"""

from .build import (
    ARCHIVIST,
    UNCURL,
    AnnexedFile,
    GitError,
    SourceOnlyKey,
    UpdateResult,
    ensure_dataset,
    git,
    remove_stale_datasets,
    update_dataset,
)
from .collection import PatientEntry, ensure_superdataset, update_superdataset
from .keys import archive_key, key_extension, md5e_key, member_locator
from .naming import (
    DEFAULT_LAYOUT,
    LAYOUT_CONFIG,
    assign_slugs,
    file_path,
    patient_slug,
    sanitize,
)
from .plan import (
    PlanError,
    SeriesDeposit,
    load_slugs,
    plan_patient,
    plan_series,
    read_collection,
    single_image_url,
)

__all__ = [
    'ARCHIVIST',
    'DEFAULT_LAYOUT',
    'LAYOUT_CONFIG',
    'UNCURL',
    'AnnexedFile',
    'GitError',
    'PatientEntry',
    'PlanError',
    'SeriesDeposit',
    'SourceOnlyKey',
    'UpdateResult',
    'archive_key',
    'assign_slugs',
    'ensure_dataset',
    'ensure_superdataset',
    'file_path',
    'git',
    'key_extension',
    'load_slugs',
    'read_collection',
    'remove_stale_datasets',
    'md5e_key',
    'member_locator',
    'patient_slug',
    'plan_patient',
    'plan_series',
    'sanitize',
    'single_image_url',
    'update_dataset',
    'update_superdataset',
]
