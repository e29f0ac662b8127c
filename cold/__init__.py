"""The offline signer: keystore, wallet registry, signer, confirmation, audit log, service."""
