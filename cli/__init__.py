"""The `qa` command (cli.main:main): the edge that wires index, qa and web together."""
