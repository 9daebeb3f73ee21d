"""What every layer shares and nothing else: the error base and what audio is accepted.

The bottom floor: `inference`, `storage`, `bots` and `data_augment` may import it; it imports
none of them (nor any platform or model library).
"""
