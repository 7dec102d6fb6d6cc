"""The built-in ``weir`` sub-commands, one module per command group."""
