"""Sub-commands of `voicemood`, one module each (see voicemood/cli.py for the contract)."""
