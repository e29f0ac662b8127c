"""The networked side: Electrum adapter, qrexec client, send/finalize/broadcast."""
