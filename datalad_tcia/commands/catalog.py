"""``datalad tcia-catalog``: metadata + DataCite -> a datalad-catalog site."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureStr

from datalad_tcia.pipeline import write_catalog, write_home
from datalad_tcia.store import TopLayout

from .common import store_path
from .constraints import EnsureStoreURL
from .params import (
    datacite_url_param,
    output_format_param,
    store_param,
    store_url_param,
)
from .results import to_result
from .run_settings import run_settings

lgr = logging.getLogger('datalad.tcia.commands.catalog')


@build_doc
class TciaCatalog(ValidatedInterface):
    """Write a datalad-catalog site for a collection in the store

    The site, in <store>/<collection-id>/catalog/, has a home page for the
    collection (the DataCite record of its DOI: title, creators with ORCIDs,
    DOI link, licence, version, publication year, abstract; modalities, body
    parts, patient/study/series/file counts and size, the clone URL), one
    page per patient dataset (its studies and series with counts and
    sizes), and an entry per file with its size and DICOM summary.

    The datasets must have been built with 'datalad tcia-deposit-dataset'.
    A collection without a DOI, or whose DOI DataCite does not know or
    cannot be reached, is catalogued without the DataCite part, and the
    page says so. Re-running updates the site in place.
    """

    _params_ = {
        'store': store_param,
        'collection': Parameter(
            args=('--collection',),
            metavar='NAME',
            doc="""NBIA collection (name or collection id) in the store.""",
        ),
        'store_url': store_url_param,
        'datacite_url': datacite_url_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            'store': EnsureStr(min_len=1),
            'collection': EnsureStr(min_len=1),
            'store_url': EnsureStoreURL(),
            'datacite_url': EnsureStr(min_len=1),
        },
    )

    _examples_ = [
        {
            'text': 'Write the catalog of a collection whose datasets are exported',
            'code_py': "tcia_catalog(collection='Pseudo-PHI-DICOM-Data', "
            "store='/data/tcia')",
            'code_cmd': 'datalad tcia-catalog --store /data/tcia '
            '--collection Pseudo-PHI-DICOM-Data',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        *,
        store: str | None = None,
        collection: str | None = None,
        store_url: str | None = None,
        datacite_url: str | None = None,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        if not collection:
            yield get_status_dict(
                action='tcia_catalog',
                status='impossible',
                message='give --collection',
                logger=lgr,
            )
            return
        store_dir = store_path(store)
        # no IDC this run: the catalog is written from the store alone
        settings, first = run_settings(
            store_dir,
            'tcia_catalog',
            no_idc=True,
            store_url=store_url,
            datacite_url=datacite_url,
        )
        yield from first
        if settings is None:
            return
        for outcome in write_catalog(settings, collection):
            yield to_result(outcome)
        # the catalog's home, if the store has its top-level dataset
        if TopLayout(store_dir).repo.exists():
            yield to_result(write_home(store_dir, settings.base_url))
