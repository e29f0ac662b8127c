"""Subcommands of `psbt` that run in the offline cold qube."""
