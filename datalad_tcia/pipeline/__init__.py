"""The pipeline: units of work over typed records, composed by the commands.

========== ===================================== ==============================
unit       function                              reads -> writes (store)
========== ===================================== ==============================
plan       :func:`plan_selection`                NBIA -> a :class:`Plan`
series     :func:`acquire_series`,               NBIA -> ``archives/``,
           :func:`acquire_from_idc`              ``metadata/``; IDC's bucket
                                                 (listing, headers) ->
                                                 ``metadata/``
patient    :func:`refresh_idc`,                  IDC index, IDC's bucket ->
           :func:`build_patient`                 ``metadata/``;
                                                 ``metadata/`` ->
                                                 ``repos/<slug>``,
                                                 ``datasets/<slug>_XDLRA--*``
collection :func:`build_collection`,             ``repos/`` ->
           :func:`write_catalog`,                ``repos/collection``,
           :func:`delete_archives`               ``collection_XDLRA--*``,
                                                 ``catalog/``; deletes
                                                 ``archives/``
========== ===================================== ==============================

Stage runners apply a unit to many items under the collection's lock:
:func:`acquire_all` (series, in parallel), :func:`deposit_datasets`
(patients, then the collection superdataset), and :func:`add_selection`
composes everything. Each yields outcomes (:mod:`.outcomes`) that the
commands turn into result records.

.. currentmodule:: datalad_tcia.pipeline
.. autosummary::
   :toctree: generated

   plan_selection
   acquire_series
   acquire_from_idc
   deposit_archive
   refresh_idc
   build_patient
   build_collection
   write_catalog
   delete_archives
   acquire_all
   deposit_archive_files
   deposit_datasets
   add_selection
"""

from .add import AddSummary, add_selection
from .archives import delete_archives
from .catalog import write_catalog
from .clone import clone_collection
from .collection import build_collection, license_files, prepare_collection
from .datasets import deposit_datasets
from .download import acquire_all, route
from .fromidc import IdcAcquisition, acquire_from_idc
from .idc import IdcSources, refresh_idc
from .metadata import deposit_archive_files
from .outcomes import (
    SUCCESS,
    ArchivesOutcome,
    CatalogOutcome,
    CloneOutcome,
    CollectionOutcome,
    IdcOutcome,
    MetadataOutcome,
    Outcome,
    PatientOutcome,
    Problem,
    SeriesOutcome,
    WithdrawnOutcome,
)
from .patient import PatientWork, build_patient
from .plan import Plan, plan_selection
from .series import acquire_series, archive_info, deposit_archive
from .settings import ACQUISITION_SOURCES, RunSettings

__all__ = [
    'ACQUISITION_SOURCES',
    'IdcAcquisition',
    'RunSettings',
    'acquire_from_idc',
    'route',
    'SUCCESS',
    'AddSummary',
    'ArchivesOutcome',
    'CatalogOutcome',
    'CloneOutcome',
    'CollectionOutcome',
    'IdcOutcome',
    'IdcSources',
    'MetadataOutcome',
    'Outcome',
    'PatientOutcome',
    'PatientWork',
    'Plan',
    'Problem',
    'SeriesOutcome',
    'WithdrawnOutcome',
    'acquire_all',
    'acquire_series',
    'add_selection',
    'build_collection',
    'build_patient',
    'clone_collection',
    'delete_archives',
    'archive_info',
    'deposit_archive',
    'deposit_archive_files',
    'deposit_datasets',
    'license_files',
    'plan_selection',
    'prepare_collection',
    'refresh_idc',
    'write_catalog',
]
