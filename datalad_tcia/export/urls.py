"""The URLs under which others reach the store's datasets: the plain git
repository a person clones, and the ``datalad-annex::`` URL of a deposit."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote


def store_base_url(store: Path, store_url: str | None = None) -> str:
    """The URL under which others reach ``store``: ``store_url``, or the
    store's ``file://`` URL.

    >>> store_base_url(Path('/data/store'), 'https://example.org/tcia/')
    'https://example.org/tcia'
    >>> store_base_url(Path('/data/store'))
    'file:///data/store'
    """
    return (store_url or store.absolute().as_uri()).rstrip('/')


def clone_url(base_url: str, relpath: str) -> str:
    """The URL a person clones: the plain git repository of the dataset
    ``<base_url>/<relpath>`` (``<relpath>.git``, see :mod:`.bare`).

    >>> clone_url('file:///data/store', 'rider/datasets/P1')
    'file:///data/store/rider/datasets/P1.git'
    >>> clone_url('https://example.org/tcia', 'rider/datasets/P 1')
    'https://example.org/tcia/rider/datasets/P%201.git'
    """
    return quote(f'{base_url.rstrip("/")}/{relpath}.git', safe=':/@%+~=,;')


def deposit_url(base_url: str, relpath: str) -> str:
    """The ``datalad-annex::`` URL of the deposit ``<base_url>/<relpath>``
    (the form for stores that hold only keys, and for clones made before
    the store had plain git repositories).

    ``{{annex_key}}`` is doubled because the remote helper applies
    ``str.format`` to the URL; a literal ``&`` in the base URL must be
    escaped, which ``quote`` does.

    >>> deposit_url('file:///data/store', 'rider/datasets/P1')
    'datalad-annex::?type=external&externaltype=uncurl&encryption=none&url=file:///data/store/rider/datasets/P1_{{annex_key}}'
    """
    url = quote(f'{base_url.rstrip("/")}/{relpath}', safe=':/@%+~=,;')
    return (
        'datalad-annex::?type=external&externaltype=uncurl&encryption=none'
        f'&url={url}_{{{{annex_key}}}}'
    )
