"""`python -m inference.music ../shared/data/music`: rebuild catalogue.csv from the shared copy."""

from inference.music.catalogue import main

main()
