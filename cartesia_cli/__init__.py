"""cartesia-cli: stream Cartesia text-to-speech from the shell."""

__version__ = "0.1.0"
