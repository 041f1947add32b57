"""The patient search page of a collection's catalog: static HTML
(``patients.html``) and the index it loads, every patient with its
summary and the address of its page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .translate import PATIENT_SEARCH, CollectionCatalog, patient_summary


def patient_index(coll: CollectionCatalog) -> dict[str, Any]:
    """What the patient search page (``patients.html``) loads
    (``patient-index.json``): every patient with its summary and the address
    of its page."""
    return {
        'collection': coll.name,
        'url': f'#/dataset/{coll.dataset_id}/{coll.dataset_version}',
        'patients': [
            {
                'id': p.patient_id,
                'about': patient_summary(p),
                'url': f'#/dataset/{p.dataset_id}/{p.dataset_version}',
            }
            for p in coll.patients
        ],
    }


def patient_search_files(coll: CollectionCatalog) -> dict[str, bytes]:
    """The patient search page (static HTML that puts no data into markup)
    and what it loads (:func:`patient_index`), by their names in the
    catalog."""
    index = json.dumps(patient_index(coll), ensure_ascii=False).encode()
    return {
        PATIENT_SEARCH: (Path(__file__).parent / PATIENT_SEARCH).read_bytes(),
        'patient-index.json': index,
    }
