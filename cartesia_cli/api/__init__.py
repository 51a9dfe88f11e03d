"""The Cartesia API: I/O-free protocol modules and the httpx driver that uses them.

`protocol`, `events` and `retry` do no I/O; `client` is the only module here
that talks to the network. Nothing in this package speaks typer or rich.
"""
