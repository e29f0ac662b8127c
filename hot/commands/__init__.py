"""Subcommands of `psbt` that run in the networked hot qube."""
