"""The anonymous S3 client against the S3 look-alike (moto)."""

from __future__ import annotations

import hashlib

import pytest

from datalad_tcia.idc.match import match_series
from datalad_tcia.idc.s3 import IdcClientError, IdcServerError, S3Client
from datalad_tcia.nbia import RetryPolicy
from tests.idc_fixtures import IdcSide

FAST = RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02, budget=5)


def test_listing_pages_and_etags(idc: IdcSide) -> None:
    """Listings follow continuation tokens; single-part ETags are MD5s,
    multipart ones are not and are learnt by download."""
    s3 = idc.s3
    bucket = 'idc-open-data-two'
    s3.create_bucket(bucket)
    data = {f'uuid-1/{i:03d}.dcm': f'file {i}'.encode() for i in range(25)}
    for key, body in data.items():
        s3.put(bucket, key, body)
    s3.put_multipart(bucket, 'uuid-1/multi.dcm', b'multipart body')
    s3.put(bucket, 'uuid-10/other.dcm', b'not this series')
    client = S3Client(s3.endpoint, page_size=10, retry=FAST)
    s3.reset()
    objects = client.list_prefix(bucket, 'uuid-1/')
    assert sorted(o.key for o in objects) == sorted([*data, 'uuid-1/multi.dcm'])
    listings = [r for r in s3.log if 'list-type=2' in r.query]
    assert len(listings) == 3
    assert 'continuation-token=' in listings[-1].query
    by_key = {o.key: o for o in objects}
    assert by_key['uuid-1/000.dcm'].md5 == hashlib.md5(b'file 0').hexdigest()
    assert by_key['uuid-1/multi.dcm'].md5 is None
    files = [
        ('a.dcm', hashlib.md5(b'file 3').hexdigest(), 6),
        ('b.dcm', hashlib.md5(b'multipart body').hexdigest(), 14),
        ('c.dcm', hashlib.md5(b'nowhere').hexdigest(), 7),
    ]
    match = match_series(files, objects, lambda o: client.md5_of(bucket, o.key))
    assert {p: o.key for p, o in match.objects.items()} == {
        'a.dcm': 'uuid-1/003.dcm',
        'b.dcm': 'uuid-1/multi.dcm',
    }
    assert match.downloaded == 1
    assert client.object_url(bucket, 'uuid-1/003.dcm') == (
        f'{s3.endpoint}/{bucket}/uuid-1/003.dcm'
    )


def test_listing_failures(idc: IdcSide) -> None:
    client = S3Client(idc.s3.endpoint, retry=FAST)
    with pytest.raises(IdcClientError) as e:
        client.list_prefix('no-such-bucket', 'x/')
    assert e.value.status_code == 404
    idc.s3.fail_listings = 503
    with pytest.raises(IdcServerError) as e2:
        client.list_prefix('idc-open-data', 'x/')
    assert e2.value.attempts == 2
    # an answer that is no listing (a captive portal's page)
    with pytest.raises(IdcClientError, match='not a bucket listing'):
        client._parse('x', b'<html>nope</html>')
