"""Where audio goes: sinks for files and stdout, and the names of new files."""
