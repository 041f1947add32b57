"""Spreading a selection over processes and cluster jobs.

.. currentmodule:: datalad_tcia.hpc
.. autosummary::
   :toctree: generated

   Shard
   SlurmJob
   submit_array
"""

from .shard import Shard
from .slurm import SlurmError, SlurmJob, submit_array

__all__ = ['Shard', 'SlurmError', 'SlurmJob', 'submit_array']
