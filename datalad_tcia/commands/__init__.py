"""The ``datalad tcia-*`` commands: thin layers that validate, loop, and
yield result records."""
