"""DataLad datasets built from the metadata records (no network needed).

.. currentmodule:: datalad_tcia.dataset
.. autosummary::
   :toctree: generated

   plan_patient
   update_dataset
   update_superdataset
   patient_slug
   file_path
"""

from typing import TYPE_CHECKING

from datalad_tcia._lazy import lazy_exports

if TYPE_CHECKING:
    from .build import AnnexedFile, SourceOnlyKey, UpdateResult, update_dataset
    from .collection import SubdatasetEntry, ensure_superdataset, update_superdataset
    from .files import (
        PlanError,
        plan_patient,
        plan_series,
        series_label,
        series_summary,
    )
    from .keys import archive_key, key_extension, md5e_key, member_locator
    from .naming import (
        DEFAULT_PATH_TEMPLATE,
        PATH_TEMPLATE_CONFIG,
        assign_slugs,
        file_path,
        patient_slug,
        sanitize,
    )
    from .repository import (
        ARCHIVIST,
        UNCURL,
        NewRepository,
        ensure_dataset,
        init_repository,
        remove_stale_datasets,
    )

_WHERE = {
    'AnnexedFile': 'build',
    'archive_key': 'keys',
    'ARCHIVIST': 'repository',
    'assign_slugs': 'naming',
    'DEFAULT_PATH_TEMPLATE': 'naming',
    'ensure_dataset': 'repository',
    'ensure_superdataset': 'collection',
    'file_path': 'naming',
    'init_repository': 'repository',
    'key_extension': 'keys',
    'PATH_TEMPLATE_CONFIG': 'naming',
    'md5e_key': 'keys',
    'member_locator': 'keys',
    'NewRepository': 'repository',
    'patient_slug': 'naming',
    'SubdatasetEntry': 'collection',
    'plan_patient': 'files',
    'plan_series': 'files',
    'PlanError': 'files',
    'remove_stale_datasets': 'repository',
    'sanitize': 'naming',
    'series_label': 'files',
    'series_summary': 'files',
    'SourceOnlyKey': 'build',
    'UNCURL': 'repository',
    'update_dataset': 'build',
    'update_superdataset': 'collection',
    'UpdateResult': 'build',
}
__getattr__ = lazy_exports(__name__, _WHERE)

__all__ = [
    'ARCHIVIST',
    'DEFAULT_PATH_TEMPLATE',
    'PATH_TEMPLATE_CONFIG',
    'UNCURL',
    'AnnexedFile',
    'NewRepository',
    'SubdatasetEntry',
    'PlanError',
    'SourceOnlyKey',
    'UpdateResult',
    'archive_key',
    'assign_slugs',
    'ensure_dataset',
    'ensure_superdataset',
    'init_repository',
    'file_path',
    'key_extension',
    'md5e_key',
    'member_locator',
    'patient_slug',
    'plan_patient',
    'plan_series',
    'remove_stale_datasets',
    'sanitize',
    'series_label',
    'series_summary',
    'update_dataset',
    'update_superdataset',
]
