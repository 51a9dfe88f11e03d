"""One module per command group (each defines a `typer.Typer` named `app`) or command (`say`).

The work below typer is elsewhere: a TTS job in `cartesia_cli/jobs/`, what every
command that talks to the API starts from in `jobs/context.py`.
"""
