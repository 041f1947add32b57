"""A TCIA look-alike server (NBIA v4 + DataCite) for tests and the demo.

.. currentmodule:: tcia_lookalike
.. autosummary::
   :toctree: generated

   LookalikeServer
   Archive
   build_default_archive
   FaultPlan
   Quirks
"""

from .data import Archive, Collection, Series
from .faults import Fault, FaultPlan
from .holdings import build_default_archive, build_large_collection
from .nbia_api import Quirks
from .server import LoggedRequest, LookalikeServer

__all__ = [
    'Archive',
    'Collection',
    'Fault',
    'FaultPlan',
    'LoggedRequest',
    'LookalikeServer',
    'Quirks',
    'Series',
    'build_default_archive',
    'build_large_collection',
]
