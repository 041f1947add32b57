"""``datacite/``: a real DataCite record reduced to what users cite, and
the client against the look-alike (404 is "no record", a failing server a
clear error after bounded retries)."""

from __future__ import annotations

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.datacite import DataCiteClient, DataCiteError
from datalad_tcia.dataset.provenance import citation_cff
from tests.conftest import FAST_RETRY

DOI = '10.7937/s17z-r072'


def test_a_real_record(tcia: LookalikeServer) -> None:
    client = DataCiteClient(tcia.datacite_url, retry=FAST_RETRY)
    cit = client.citation(DOI)
    assert cit is not None
    assert cit.doi == DOI
    assert cit.title == (
        'A DICOM dataset for evaluation of medical image de-identification '
        '(Pseudo-PHI-DICOM-Data)'
    )
    assert cit.version == '2'
    assert [c.family_name for c in cit.creators][:3] == ['Rutherford', 'Mun', 'Levine']
    assert cit.license_url and 'creativecommons.org/licenses/by/4.0' in cit.license_url
    cff = citation_cff(cit)
    assert f'doi: "{DOI}"' in cff
    assert 'family-names: "Rutherford"' in cff
    # an analysis result's CITATION.cff says what it is
    assert 'The analysis result in' in citation_cff(cit, 'analysis result')


def test_unknown_doi_and_failing_server(tcia: LookalikeServer) -> None:
    client = DataCiteClient(tcia.datacite_url, retry=FAST_RETRY)
    assert client.citation('10.7937/no-such-doi') is None
    tcia.faults.add('status', 'dois', status=500, times=10)
    with pytest.raises(DataCiteError) as e:
        client.citation(DOI)
    assert '500' in str(e.value)
    assert len(tcia.requests('dois')) == FAST_RETRY.max_attempts + 1
