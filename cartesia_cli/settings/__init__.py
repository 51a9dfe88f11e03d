"""Settings: one table (`spec`), precedence (`resolve`), and the config file (`store`)."""
