"""A TTS job below typer: options parsed → plan → output claimed → stream → report.

`job.py` the job's record (the command's endpoint and its parsed options);
`context.py` the stored config and the connection's settings; `plan.py`
every local check, and the request and output they decide; `assembly.py` the
sink that writes the audio (framed, encoded, played); `produce.py` the run
from the claimed output to the summary; `facts.py` the --json object;
`speak.py` the one job start to end. No typer here (tests/test_layers.py):
the commands parse, this does the work.
"""
