"""Clone-able ``datalad-annex::`` deposits of datasets in the store.

.. currentmodule:: datalad_tcia.export
.. autosummary::
   :toctree: generated

   clone_url
   push_deposit
"""

from .deposit import (
    DepositResult,
    clone_url,
    deposit_refs,
    push_deposit,
    store_base_url,
)

__all__ = [
    'DepositResult',
    'clone_url',
    'deposit_refs',
    'push_deposit',
    'store_base_url',
]
