"""Everything for people: the one stderr writer, the report lines, the live display."""
