"""The pipeline: the steps of ``tcia-add`` over typed records, each in a
module named for it, composed by the commands.

=================== ============================ ===========================
step                module: function             reads -> writes (store)
=================== ============================ ===========================
select              ``select``:                  NBIA listings, manifests,
                    :func:`resolve_selection`    the IDC index -> series
plan                ``plan``:                    NBIA or the IDC index ->
                    :func:`plan_selection`       a :class:`Plan`
acquire             ``acquire``:                 NBIA -> ``archives/``,
                    :func:`acquire_all`,         ``metadata/``; IDC's bucket
                    ``acquire_nbia``,            (listing, headers) ->
                    ``acquire_idc``,             ``metadata/``; archives on
                    ``index_archives``           disk -> ``metadata/``
withdraw            ``withdraw``                 ``metadata/withdrawn/``
build patients      ``build_datasets``:          IDC index, bucket ->
                    :func:`build_datasets`,    ``metadata/``;
                    ``idc_sources``,             ``metadata/`` ->
                    ``build_patient``            ``repos/<slug>``,
                                                 ``datasets/<slug>.git``
build collection    ``build_collection``,        ``repos/`` ->
                    ``gather_provenance``,       ``repos/collection``,
                    ``make_version``             ``collection.git``, a tag
build top           ``build_top``:               ``*/collection.git`` ->
                    :func:`build_top`            ``.tcia/repo``,
                                                 ``tcia.git``, a tag
catalog             ``write_catalog``,           ``catalog/``;
                    ``write_home``               ``<store>/catalog``
clean up            ``clean_up``                 deletes ``archives/``
clone               ``clone``                    the user's clone
get                 ``get_files``:               a clone's datasets <- IDC,
                    :func:`get_files`            NBIA (file content)
=================== ============================ ===========================

:func:`add_selection` (``add``) composes every step; ``summarize`` makes
``tcia-ls``'s lines. Each step yields outcomes (:mod:`.outcomes`) that the
commands turn into result records.

.. currentmodule:: datalad_tcia.pipeline
.. autosummary::
   :toctree: generated

   resolve_selection
   plan_selection
   acquire_from_nbia
   acquire_from_idc
   record_archive
   refresh_idc
   build_patient
   build_collection
   build_top
   write_catalog
   write_home
   delete_archives
   acquire_all
   index_archives
   build_datasets
   add_selection
   get_files
"""

from typing import TYPE_CHECKING

from datalad_tcia._lazy import lazy_exports

if TYPE_CHECKING:
    from .acquire import acquire_all, route
    from .acquire_idc import IdcAcquisition, acquire_from_idc
    from .acquire_nbia import acquire_from_nbia, archive_info, record_archive
    from .add import AddSummary, add_selection, stored_selections
    from .build_collection import build_collection, license_files, prepare_collection
    from .build_datasets import build_datasets
    from .build_patient import PatientWork, build_patient
    from .build_top import build_top
    from .clean_up import delete_archives
    from .clone import clone_collection
    from .get_files import get_files
    from .idc_sources import IdcSources, refresh_idc
    from .index_archives import index_archives
    from .outcomes import (
        SUCCESS,
        ArchivesOutcome,
        CatalogOutcome,
        CloneOutcome,
        CollectionOutcome,
        GetOutcome,
        IdcOutcome,
        MetadataOutcome,
        Outcome,
        PatientOutcome,
        Problem,
        SeriesOutcome,
        TopOutcome,
        WithdrawnOutcome,
    )
    from .plan import Plan, plan_selection
    from .select import resolve_selection
    from .selection import Resolution, Selection, SeriesSource
    from .settings import ACQUISITION_SOURCES, RunSettings
    from .write_catalog import write_catalog
    from .write_home import write_home

_WHERE = {
    'acquire_all': 'acquire',
    'acquire_from_idc': 'acquire_idc',
    'acquire_from_nbia': 'acquire_nbia',
    'ACQUISITION_SOURCES': 'settings',
    'add_selection': 'add',
    'stored_selections': 'add',
    'AddSummary': 'add',
    'archive_info': 'acquire_nbia',
    'ArchivesOutcome': 'outcomes',
    'build_collection': 'build_collection',
    'build_patient': 'build_patient',
    'build_top': 'build_top',
    'CatalogOutcome': 'outcomes',
    'clone_collection': 'clone',
    'CloneOutcome': 'outcomes',
    'CollectionOutcome': 'outcomes',
    'delete_archives': 'clean_up',
    'record_archive': 'acquire_nbia',
    'index_archives': 'index_archives',
    'build_datasets': 'build_datasets',
    'get_files': 'get_files',
    'GetOutcome': 'outcomes',
    'IdcAcquisition': 'acquire_idc',
    'IdcOutcome': 'outcomes',
    'IdcSources': 'idc_sources',
    'license_files': 'build_collection',
    'MetadataOutcome': 'outcomes',
    'Outcome': 'outcomes',
    'PatientOutcome': 'outcomes',
    'PatientWork': 'build_patient',
    'Plan': 'plan',
    'plan_selection': 'plan',
    'prepare_collection': 'build_collection',
    'Problem': 'outcomes',
    'refresh_idc': 'idc_sources',
    'Resolution': 'selection',
    'resolve_selection': 'select',
    'route': 'acquire',
    'RunSettings': 'settings',
    'Selection': 'selection',
    'SeriesSource': 'selection',
    'SeriesOutcome': 'outcomes',
    'SUCCESS': 'outcomes',
    'TopOutcome': 'outcomes',
    'WithdrawnOutcome': 'outcomes',
    'write_catalog': 'write_catalog',
    'write_home': 'write_home',
}
__getattr__ = lazy_exports(__name__, _WHERE)

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
    'GetOutcome',
    'IdcOutcome',
    'IdcSources',
    'MetadataOutcome',
    'Outcome',
    'PatientOutcome',
    'PatientWork',
    'Plan',
    'Problem',
    'Resolution',
    'Selection',
    'SeriesSource',
    'SeriesOutcome',
    'TopOutcome',
    'WithdrawnOutcome',
    'acquire_all',
    'acquire_from_nbia',
    'add_selection',
    'build_collection',
    'build_patient',
    'build_top',
    'clone_collection',
    'delete_archives',
    'archive_info',
    'record_archive',
    'index_archives',
    'build_datasets',
    'get_files',
    'license_files',
    'plan_selection',
    'prepare_collection',
    'refresh_idc',
    'resolve_selection',
    'stored_selections',
    'write_catalog',
    'write_home',
]
