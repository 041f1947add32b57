"""The parameters of a selection (collection, patient, study, series,
manifest, filters, every collection, an SQL condition, analysis
results), shared by the commands that take one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datalad.support.param import Parameter
from datalad_next.constraints.parameter import ParameterConstraintContext

from datalad_tcia.pipeline.selection import Selection

from .constraints import SELECTION, EnsureSelection

selection_params = {
    'collection': Parameter(
        args=('--collection',),
        metavar='NAME',
        doc="""NBIA collection name (case-insensitive), e.g.
        'Pseudo-PHI-DICOM-Data'.""",
    ),
    'patient': Parameter(
        args=('--patient',),
        metavar='ID',
        doc="""PatientID (case-insensitive).""",
    ),
    'study': Parameter(
        args=('--study',),
        metavar='UID',
        doc="""StudyInstanceUID.""",
    ),
    'series': Parameter(
        args=('--series',),
        metavar='UID',
        action='append',
        doc="""SeriesInstanceUID. [CMD: This option can be given more than
        once. CMD]""",
    ),
    'manifest': Parameter(
        args=('--manifest',),
        metavar='FILE',
        doc="""a manifest: a '.tcia' file as NBIA's portal writes it, or an
        '.s5cmd' file as IDC's and TCIA's portals write it (its series
        UUIDs are mapped to series through the IDC index; lines that match
        none are reported and skipped); its series are selected.""",
    ),
    'modality': Parameter(
        args=('--modality',),
        metavar='MODALITY',
        doc="""only series of this modality (e.g. CT, MR, SEG).""",
    ),
    'body_part': Parameter(
        args=('--body-part',),
        metavar='PART',
        doc="""only series with this BodyPartExamined (e.g. CHEST).""",
    ),
    'manufacturer': Parameter(
        args=('--manufacturer',),
        metavar='NAME',
        doc="""only series of this manufacturer.""",
    ),
    'all_collections': Parameter(
        args=('--all',),
        dest='all_collections',
        action='store_true',
        doc="""every collection (of NBIA, or with --index idc TCIA's
        collections in the IDC index); with filters, their series in every
        collection. Filters alone (e.g. --modality MR --body-part BRAIN)
        also select across collections.""",
    ),
    'where': Parameter(
        args=('--where',),
        metavar='CONDITION',
        doc="""only series whose IDC index row meets this SQL condition over
        the index's columns, e.g. "PatientSex = 'F' AND Modality = 'MR'"
        (with --index idc; one expression, only read; a column the index
        lacks is named in the error). Alone, it selects across
        collections.""",
    ),
    'analysis_result': Parameter(
        args=('--analysis-result',),
        metavar='ID',
        doc="""an analysis result (segmentations, reports, annotations others
        made of TCIA's images, published under their own DOI), by its id in
        the IDC index (e.g. dicom_lidc_idri_nodules; 'datalad tcia-ls
        --analysis-results' lists them) or, for one only NBIA has, by its
        DOI (with --collection): its series, in a dataset of its own. The
        other parts of the selection narrow it.""",
    ),
    'with_analysis_results': Parameter(
        args=('--with-analysis-results',),
        action='store_true',
        doc="""also the analysis results that describe the selected series
        (each into its own dataset, under its own DOI). Without it, a
        collection's third-party series are left out: they never go into
        the collection's datasets.""",
    ),
}

#: the selection as one joint constraint
selection_joint = {
    ParameterConstraintContext(SELECTION, 'selection'): EnsureSelection()
}


def make_selection(arguments: Mapping[str, Any]) -> Selection:
    """Build a :class:`Selection` from a command's validated arguments
    (its ``locals()``: the parts of :data:`~.constraints.SELECTION` are
    taken; series UIDs already stripped by
    :class:`~.constraints.EnsureSelection`)."""
    parts: dict[str, Any] = {name: arguments.get(name) for name in SELECTION}
    parts['series'] = tuple(parts['series'] or ())
    parts['all_collections'] = bool(parts['all_collections'])
    parts['with_analysis_results'] = bool(parts['with_analysis_results'])
    return Selection(**parts)
