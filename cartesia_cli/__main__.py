"""`python -m cartesia_cli` runs the same CLI as the `cartesia-cli` script."""

from cartesia_cli.launch import main

if __name__ == "__main__":
    main()
