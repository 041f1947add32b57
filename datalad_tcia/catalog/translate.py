"""Catalog records (datalad-catalog 1.1 schema) from the store (pure).

Text from DataCite, NBIA or DICOM headers is data, never markup.
datalad-catalog 1.1.1 renders every field given here as text (Vue
interpolation); the one exception, a description that starts with
``path:`` (the catalog then fetches that file and renders it as Markdown
into HTML), is avoided: descriptions always start with our own words. The
browser test puts markup into titles, names, abstracts and DICOM headers
and checks that it shows as text and that no script runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from datalad.utils import bytes2human

from datalad_tcia._version import __version__
from datalad_tcia.datacite import Citation
from datalad_tcia.dataset import file_path, series_label
from datalad_tcia.metadata import SeriesRecords
from datalad_tcia.nbia import single_image_url

METADATA_SOURCES = {
    'sources': [
        {'source_name': 'datalad-tcia', 'source_version': __version__},
    ]
}


def metadata_sources(day: str | None = None) -> dict[str, Any]:
    """The records' ``metadata_sources``; with ``day`` (``YYYY-MM-DD``, the
    version's date) as its time, which the catalog shows as "Last
    updated".

    >>> metadata_sources('2026-12-01')['sources'][0]['source_time']
    1796083200
    """
    if not day:
        return METADATA_SOURCES
    when = datetime.strptime(day, '%Y-%m-%d').replace(tzinfo=timezone.utc)
    return {
        'sources': [
            {**METADATA_SOURCES['sources'][0], 'source_time': int(when.timestamp())}
        ]
    }


def text(value: Any) -> str:
    """Foreign text for a description: stripped, whitespace kept.

    >>> text('  <b>x</b>\\n')
    '<b>x</b>'
    """
    return str(value).strip()


@dataclass
class PatientCatalog:
    """What the catalog needs to know about one patient dataset."""

    patient_id: str
    slug: str
    dataset_id: str
    dataset_version: str
    clone_url: str
    patient_series: Sequence[SeriesRecords]
    template: str


@dataclass
class CollectionCatalog:
    """What the catalog needs to know about the collection."""

    name: str
    dataset_id: str
    dataset_version: str
    clone_url: str
    patients: list[PatientCatalog] = field(default_factory=list)
    citation: Citation | None = None
    doi: str | None = None
    license_name: str | None = None
    license_url: str | None = None
    datacite_note: str | None = None
    #: the collection dataset's versions: (tag, date, message), newest first
    versions: list[tuple[str, str, str]] = field(default_factory=list)
    #: ``collection``, or ``analysis result``
    kind: str = 'collection'
    #: tabs linking other datasets of the store (:mod:`.links`)
    links: list[dict[str, Any]] = field(default_factory=list)


def _size(deps: Sequence[SeriesRecords]) -> int:
    return sum(r.size for d in deps for r in d.images)


def _count(deps: Sequence[SeriesRecords]) -> int:
    return sum(len(d.images) for d in deps)


def _modalities(deps: Sequence[SeriesRecords]) -> list[str]:
    return sorted({d.series.modality for d in deps if d.series.modality})


def _body_parts(deps: Sequence[SeriesRecords]) -> list[str]:
    return sorted({d.series.body_part for d in deps if d.series.body_part})


def _studies(deps: Sequence[SeriesRecords]) -> set[str]:
    return {str(d.record.study_uid) for d in deps}


#: the default of ``datalad.tcia.catalog-max-subdatasets``
MAX_SUBDATASETS = 200


def _n(count: int, one: str, many: str | None = None) -> str:
    """``1 study``, ``2 studies``."""
    return f'{count} {one if count == 1 else (many or one + "s")}'


#: patients the collection page's Patients tab lists; a collection with
#: more lists these first ones and links to its patient search page
PATIENTS_ON_PAGE = 200
#: the catalog's page that searches and pages through every patient
PATIENT_SEARCH = 'patients.html'


def patient_summary(p: PatientCatalog) -> str:
    """A patient's studies, series, files and size, in words."""
    return (
        f'{_n(len(_studies(p.patient_series)), "study", "studies")}, '
        f'{len(p.patient_series)} series, {_n(_count(p.patient_series), "file")}, '
        f'{bytes2human(_size(p.patient_series))}'
    )


def patients_tab(
    coll: CollectionCatalog, on_page: int = PATIENTS_ON_PAGE
) -> dict[str, Any]:
    """The collection page's Patients tab: the patients (the first
    ``on_page`` of a bigger collection, after a link to its patient search
    page), each with a link to its page (a schema.org ``Thing``, which
    datalad-catalog renders as a link) and its studies, series, files and
    size.

    It is the collection record's own content, shown as soon as the page
    loads (datalad-catalog renders every row of a tab at once: 2.1 s for
    5,000 patients; the Subdatasets tab instead fetches one record per
    patient).
    """
    content: dict[str, Any] = {'@context': {}}
    if len(coll.patients) > on_page:
        content[f'All {len(coll.patients)} patients'] = {
            '@type': 'https://schema.org/Thing',
            'name': 'search by PatientID, page by page',
            'url': PATIENT_SEARCH,
        }
    for p in coll.patients[:on_page]:
        content[text(p.patient_id)] = {
            '@type': 'https://schema.org/Thing',
            'name': patient_summary(p),
            'url': f'#/dataset/{p.dataset_id}/{p.dataset_version}',
        }
    # lower case: datalad-catalog 1.1 finds a default tab only by its
    # lower-cased name among the names as given
    return {'name': 'patients', 'icon': 'fas fa-users', 'content': content}


def versions_tab(coll: CollectionCatalog) -> dict[str, Any]:
    """The collection page's Versions tab: each version (tag) with its
    date and what changed (the tag message, as text)."""
    content = {
        text(name): text(f'{day}: ' + ' | '.join(message.splitlines()[2:]))
        for name, day, message in coll.versions
    }
    return {'name': 'versions', 'icon': 'fas fa-code-branch', 'content': content}


def collection_page(
    coll: CollectionCatalog,
    max_subdatasets: int = MAX_SUBDATASETS,
    on_page: int = PATIENTS_ON_PAGE,
) -> dict[str, Any]:
    """The collection's dataset record (the catalog's home page).

    Its Patients tab lists every patient. Only collections of at most
    ``max_subdatasets`` patients list them as subdatasets too: the
    catalog's Subdatasets tab fetches and renders one record per patient
    (more than 4 s for LIDC-IDRI's 1,010 patients in headless Chromium).
    """
    deps = [d for p in coll.patients for d in p.patient_series]
    modalities = _modalities(deps)
    bodyparts = _body_parts(deps)
    cit = coll.citation
    # starts with our own words: never "path:"
    lines = [
        f'{len(coll.patients)} patients, {len(_studies(deps))} studies, '
        f'{len(deps)} series, {_count(deps)} DICOM files, '
        f'{text(bytes2human(_size(deps)))} of TCIA {coll.kind} {text(coll.name)}.'
    ]
    if cit and cit.abstract:
        lines += ['', text(cit.abstract)]
    if coll.datacite_note:
        lines += ['', text(coll.datacite_note)]
    version = coll.versions[0] if coll.versions else None
    tcia = {
        coll.kind.capitalize(): coll.name,
        'Version': f'{version[0]} ({version[1]})' if version else None,
        'DataCite version': cit.version if cit else None,
        'Clone': f'datalad clone {coll.clone_url}',
        'DOI': f'https://doi.org/{coll.doi}' if coll.doi else 'none',
        'Modalities': modalities,
        'Body parts': bodyparts,
        'Patients': len(coll.patients),
        'Studies': len(_studies(deps)),
        'Series': len(deps),
        'Files': _count(deps),
        'Size': bytes2human(_size(deps)),
        'Clone URL': coll.clone_url,
    }
    if cit:
        tcia.update(
            {
                'Title': cit.title,
                'Publisher': cit.publisher,
                'Publication year': cit.publication_year,
                'TCIA short name': cit.short_name,
            }
        )
    rec: dict[str, Any] = {
        'type': 'dataset',
        'dataset_id': coll.dataset_id,
        'dataset_version': coll.dataset_version,
        'name': (cit.title if cit and cit.title else coll.name),
        # the catalog shows short_name as the page title
        'short_name': (cit.title if cit and cit.title else coll.name),
        'description': '\n'.join(lines),
        'url': [coll.clone_url],
        'keywords': sorted({*modalities, *bodyparts}),
        'subdatasets': [
            {
                'dataset_id': p.dataset_id,
                'dataset_version': p.dataset_version,
                'dataset_path': p.slug,
            }
            for p in coll.patients
        ]
        if len(coll.patients) <= max_subdatasets
        else [],
        'top_display': [
            *([{'name': 'Version', 'value': version[0]}] if version else []),
            {'name': 'Patients', 'value': len(coll.patients)},
            {'name': 'Series', 'value': len(deps)},
            {'name': 'Files', 'value': _count(deps)},
            {'name': 'Size', 'value': bytes2human(_size(deps))},
        ],
        'additional_display': [
            patients_tab(coll, on_page),
            *([versions_tab(coll)] if coll.versions else []),
            *coll.links,
            {'name': 'TCIA', 'icon': 'fas fa-database', 'content': _clean(tcia)},
        ],
        'metadata_sources': metadata_sources(version[1] if version else None),
    }
    if coll.doi:
        rec['doi'] = f'https://doi.org/{coll.doi}'
    lic_name = (cit.license_name if cit else None) or coll.license_name
    lic_url = (cit.license_url if cit else None) or coll.license_url
    if lic_name or lic_url:
        rec['license'] = _clean({'name': lic_name, 'url': lic_url})
    if cit and cit.creators:
        rec['authors'] = [
            _clean(
                {
                    'name': c.name,
                    'givenName': c.given_name,
                    'familyName': c.family_name,
                    'identifiers': [
                        {'type': 'ORCID', 'identifier': f'https://orcid.org/{c.orcid}'}
                    ]
                    if c.orcid
                    else None,
                }
            )
            for c in cit.creators
        ]
    return rec


def _series_label(dep: SeriesRecords) -> str:
    return series_label(dep.series)


def patient_record(
    p: PatientCatalog, collection: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A patient dataset's record: studies and series with counts/sizes.

    ``extra`` adds fields shared with the collection (licence, DOI).
    """
    extra = dict(extra or {})
    deps = sorted(p.patient_series, key=_series_label)
    series = {
        _series_label(d): (
            f'{len(d.images)} files, {bytes2human(_size([d]))}, '
            f'SeriesInstanceUID {d.record.series_uid}'
        )
        for d in deps
    }
    lines = [
        f'Patient {text(p.patient_id)} of TCIA collection {text(collection)}: '
        f'{len(_studies(deps))} studies, {len(deps)} series, {_count(deps)} files, '
        f'{text(bytes2human(_size(deps)))}.',
        '',
    ]
    lines += [f'{text(label)}: {text(desc)}' for label, desc in series.items()]
    return {
        'type': 'dataset',
        'dataset_id': p.dataset_id,
        'dataset_version': p.dataset_version,
        'name': f'{collection} {p.patient_id}',
        'short_name': p.patient_id,
        'description': '\n'.join(lines),
        'url': [p.clone_url],
        'keywords': _modalities(deps),
        'top_display': [
            {'name': 'Studies', 'value': len(_studies(deps))},
            {'name': 'Series', 'value': len(deps)},
            {'name': 'Files', 'value': _count(deps)},
            {'name': 'Size', 'value': bytes2human(_size(deps))},
        ],
        'additional_display': [
            {'name': 'Series', 'icon': 'fas fa-images', 'content': series}
        ],
        'metadata_sources': METADATA_SOURCES,
        **extra,
    }


_FILE_TAGS = (
    'Modality',
    'SeriesDescription',
    'SeriesNumber',
    'InstanceNumber',
    'StudyDate',
    'BodyPartExamined',
    'SOPInstanceUID',
    'TransferSyntaxUID',
    'Rows',
    'Columns',
)


def file_records(p: PatientCatalog) -> list[dict[str, Any]]:
    """One record per file of a patient dataset."""
    out = []
    for dep in p.patient_series:
        api = dep.record.api_url
        for rec in dep.images:
            item: dict[str, Any] = {
                'type': 'file',
                'dataset_id': p.dataset_id,
                'dataset_version': p.dataset_version,
                'path': file_path(p.template, dep.series, rec.path),
                'contentbytesize': rec.size,
                'metadata_sources': METADATA_SOURCES,
            }
            if api and rec.sop_uid:
                item['url'] = single_image_url(api, dep.record.series_uid, rec.sop_uid)
            dicom = _clean({t: rec.tags.get(t) for t in _FILE_TAGS})
            dicom['MD5'] = rec.md5
            item['additional_display'] = [{'name': 'DICOM', 'content': dicom}]
            out.append(item)
    return out


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, '', [])}
