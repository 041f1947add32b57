"""The NBIA REST endpoints used by datalad-tcia, in one table.

Paths are relative to the API base URL (for example
``https://nbia.cancerimagingarchive.net/nbia-api/services/v4``). Parameter
names are case-sensitive: NBIA v4 answers HTTP 400 to any parameter that is
not in an endpoint's allowed set, so every name the client sends comes from
here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

DEFAULT_API_URL = 'https://nbia.cancerimagingarchive.net/nbia-api/services/v4'

#: Short names accepted wherever an API URL is expected.
API_ALIASES = {
    'nbia': DEFAULT_API_URL,
    # NLST lives on its own server
    'nlst': 'https://nlst.cancerimagingarchive.net/nbia-api/services/v4',
}


@dataclass(frozen=True)
class Endpoint:
    """One NBIA v4 REST endpoint.

    Parameters
    ----------
    name: str
      Path segment after the base URL (case-sensitive).
    params: frozenset of str
      Query (or form) parameters the server accepts.
    method: str
      HTTP method.
    """

    name: str
    params: frozenset[str]
    method: str = 'GET'


def _ep(name: str, *params: str, method: str = 'GET') -> Endpoint:
    return Endpoint(name, frozenset(params), method)


ENDPOINTS: dict[str, Endpoint] = {
    ep.name: ep
    for ep in (
        _ep('getCollectionValues', 'format'),
        _ep('getModalityValues', 'Collection', 'BodyPartExamined', 'format'),
        _ep('getBodyPartValues', 'Collection', 'Modality', 'format'),
        _ep(
            'getManufacturerValues',
            'Collection',
            'Modality',
            'BodyPartExamined',
            'format',
        ),
        # note the lower-case 'd' in PatientId
        _ep('getPatient', 'Collection', 'PatientId', 'format'),
        _ep(
            'getPatientStudy',
            'Collection',
            'PatientID',
            'StudyInstanceUID',
            'format',
        ),
        _ep(
            'getSeries',
            'Collection',
            'PatientID',
            'StudyInstanceUID',
            'Modality',
            'BodyPartExamined',
            'ManufacturerModelName',
            'Manufacturer',
            'SeriesInstanceUID',
            'format',
        ),
        _ep('getSeriesSize', 'SeriesInstanceUID', 'format'),
        _ep('getSOPInstanceUIDs', 'SeriesInstanceUID', 'format'),
        # POST form; path is case-sensitive (lower-case 'd')
        _ep('getSeriesMetadata', 'list', 'format', method='POST'),
        _ep('getImage', 'SeriesInstanceUID', 'NewFileNames', 'IncludeMD5'),
        _ep('getSingleImage', 'SeriesInstanceUID', 'SOPInstanceUID'),
    )
}


def resolve_api_url(url_or_alias: str) -> str:
    """Return the API base URL for a URL or one of :data:`API_ALIASES`.

    Trailing slashes are removed.

    >>> resolve_api_url('nlst')
    'https://nlst.cancerimagingarchive.net/nbia-api/services/v4'
    >>> resolve_api_url('http://127.0.0.1:8080/nbia-api/services/v4/')
    'http://127.0.0.1:8080/nbia-api/services/v4'
    """
    url = API_ALIASES.get(url_or_alias.strip().lower(), url_or_alias.strip())
    return url.rstrip('/')


def check_params(name: str, params: Mapping[str, str]) -> Endpoint:
    """The endpoint ``name``, if it accepts all of ``params``.

    Raises
    ------
    ValueError
      For an unknown endpoint or a parameter the endpoint does not accept
      (NBIA v4 would answer 400).
    """
    try:
        ep = ENDPOINTS[name]
    except KeyError:
        msg = f'unknown NBIA endpoint {name!r}'
        raise ValueError(msg) from None
    unknown = set(params) - ep.params
    if unknown:
        msg = f'{name} does not accept {sorted(unknown)}'
        raise ValueError(msg)
    return ep


def endpoint_url(
    base_url: str, name: str, params: Mapping[str, str] | None = None
) -> str:
    """The URL of a call of endpoint ``name`` with query ``params``.

    The one place where NBIA URLs are put together: the client requests
    them, and datasets register them as file sources (offline, from the
    API URL recorded in the metadata records).

    >>> endpoint_url('http://h/v4/', 'getSingleImage',
    ...              {'SeriesInstanceUID': '1.2', 'SOPInstanceUID': '1.2.3'})
    'http://h/v4/getSingleImage?SeriesInstanceUID=1.2&SOPInstanceUID=1.2.3'

    Raises
    ------
    ValueError
      See :func:`check_params`.
    """
    ep = check_params(name, params or {})
    url = f'{base_url.rstrip("/")}/{ep.name}'
    return f'{url}?{urlencode(dict(params))}' if params else url


def single_image_url(base_url: str, series_uid: str, sop_uid: str) -> str:
    """NBIA's ``getSingleImage`` URL of one DICOM file."""
    return endpoint_url(
        base_url,
        'getSingleImage',
        {'SeriesInstanceUID': series_uid, 'SOPInstanceUID': sop_uid},
    )
