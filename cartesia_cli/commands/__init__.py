"""One module per command group; each defines a `typer.Typer` named `app`."""
