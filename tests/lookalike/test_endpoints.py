"""The look-alike and the client agree on every NBIA endpoint: the same
names, the same case-sensitive parameters, the same methods; each
parameter the client may send is accepted, a wrong-case one refused."""

from __future__ import annotations

import requests
from tcia_lookalike import LookalikeServer
from tcia_lookalike.nbia_api import ALLOWED, POST_ONLY

from datalad_tcia.nbia.endpoints import ENDPOINTS


def test_the_tables_agree() -> None:
    assert {n: ep.params for n, ep in ENDPOINTS.items()} == ALLOWED
    assert {n for n, ep in ENDPOINTS.items() if ep.method == 'POST'} == POST_ONLY


def test_every_parameter_is_accepted_and_case_matters(tcia: LookalikeServer) -> None:
    for name, ep in ENDPOINTS.items():
        url = f'{tcia.api_url}/{name}'
        for param in sorted(ep.params):
            value = {'format': 'json', 'NewFileNames': 'Yes', 'IncludeMD5': 'Yes'}
            data = {param: value.get(param, '1.2.3')}
            resp = (
                requests.post(url, data=data, timeout=30)
                if ep.method == 'POST'
                else requests.get(url, params=data, timeout=30)
            )
            assert 'Invalid query parameter' not in resp.text, (name, param)
            wrong = {param.swapcase(): data[param]}
            resp = (
                requests.post(url, data=wrong, timeout=30)
                if ep.method == 'POST'
                else requests.get(url, params=wrong, timeout=30)
            )
            assert resp.status_code == 400, (name, param)
            assert 'Invalid query parameter' in resp.text, (name, param)
