"""Subcommands of `psbt` that need neither keys nor network."""
