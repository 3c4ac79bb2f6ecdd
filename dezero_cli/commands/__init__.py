"""The commands, one module each. `dezero_cli.cli` loads only the one being run, so a
command never pays for the imports of another."""
