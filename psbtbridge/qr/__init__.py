"""Air-gap QR transport: UR `crypto-psbt` and BBQr codecs, decode-only legacy formats, rendering."""
