"""psbtbridge: the shared core (strict PSBT layer, analysis, policy, codecs) and the `psbt` CLI."""

__version__ = "0.1.0"
