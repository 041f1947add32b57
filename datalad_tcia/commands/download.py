"""``datalad tcia-download``: selection -> the metadata records (verified
NBIA archives, or IDC's listings and headers)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool

from datalad_tcia.pipeline import acquire_all, plan_selection

from .common import store_path
from .idc_options import idc_constraints, idc_params, no_idc_param
from .params import (
    api_url_param,
    force_param,
    jobs_param,
    output_format_param,
    selection_constraints,
    store_param,
)
from .results import to_result
from .run_settings import run_settings
from .selection import make_selection, selection_joint, selection_params

lgr = logging.getLogger('datalad.tcia.commands.download')


@build_doc
class TciaDownload(ValidatedInterface):
    """Download TCIA series archives into a store, verified, with metadata

    For a selection (collection, patient, study, series, manifest, and
    filters), each series archive is downloaded from NBIA's getImage
    (with NewFileNames=Yes and IncludeMD5=Yes) to
    <store>/<collection-id>/archives/<SeriesInstanceUID>.zip. An archive is
    kept only if it opens, holds as many DICOM files as NBIA's ImageCount,
    every file matches its MD5 in md5hashes.csv, and no member name escapes
    the archive; otherwise the download is retried a few times. Beside each
    archive, metadata/<uid>_metadata_archive.json and
    metadata/<uid>_metadata_dicoms.json record the archive and every file in
    it (size, MD5, DICOM header values).

    With --source idc (or auto, for series the IDC index lists with
    NBIA's instance count), a series comes from IDC's bucket instead,
    without its pixel data: the listing gives each file's size and MD5, a
    few KB of each file its DICOM header, and the same metadata records
    are written (no archive).

    Series already recorded and verified are skipped without a download.
    A series that fails is reported and the others go on; running the
    command again resumes.
    """

    _params_ = {
        **selection_params,
        'store': store_param,
        'api_url': api_url_param,
        'jobs': jobs_param,
        'force': force_param,
        **idc_params,
        'no_idc': no_idc_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {**selection_constraints, **idc_constraints, 'force': EnsureBool()},
        joint_constraints=selection_joint,
    )

    _examples_ = [
        {
            'text': 'Download a collection into ./tcia-store, two series at a time',
            'code_py': "tcia_download(collection='Pseudo-PHI-DICOM-Data', jobs=2)",
            'code_cmd': 'datalad tcia-download --collection Pseudo-PHI-DICOM-Data -J 2',
        },
        {
            'text': 'Download the series of a manifest into a given store',
            'code_py': "tcia_download(manifest='cart.tcia', store='/data/tcia')",
            'code_cmd': 'datalad tcia-download --manifest cart.tcia --store /data/tcia',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        *,
        collection: str | None = None,
        patient: str | None = None,
        study: str | None = None,
        series: list[str] | None = None,
        manifest: str | None = None,
        modality: str | None = None,
        body_part: str | None = None,
        manufacturer: str | None = None,
        all_collections: bool = False,
        where: str | None = None,
        analysis_result: str | None = None,
        with_analysis_results: bool = False,
        store: str | None = None,
        api_url: str | None = None,
        jobs: int = 1,
        force: bool = False,
        index: str = 'nbia',
        source: str = 'auto',
        no_idc: bool = False,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        selection = make_selection(locals())
        settings, first = run_settings(
            store_path(store),
            'tcia_download',
            index=index,
            source=source,
            no_idc=no_idc,
            api_url=api_url,
            jobs=jobs,
            force=force,
        )
        yield from first
        if settings is None:
            return
        plan = plan_selection(
            settings.planner,
            selection,
            settings.store,
            jobs=jobs,
            uuids=settings.uuids,
        )
        for problem in [*plan.problems, *plan.notes]:
            yield to_result(problem)
        for outcome in acquire_all(settings, plan.series):
            yield to_result(outcome)
