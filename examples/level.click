# A game level's music: loops need whole bars, and 133 BPM is no whole number of
# samples per beat at 48 kHz (ictus film cues warns about it).
title: Level 1
explore: 8 4/4 120
combat:  16 4/4 133
victory: 4 3/4 100
