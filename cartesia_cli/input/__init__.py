"""Where text comes from: the transcript, text read as it is written, cut into pieces at
sentence ends, and the --batch file; no terminal, no network."""
