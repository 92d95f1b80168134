# A pop song with everything a click map usually needs.
# Render it:   ictus render examples/example.click -o example.wav
title: Example Song
count-in: 1 bar
intro:   4  4/4  96
verse:   8  4/4  96  X.x.   cue="Verse"
pre:     4  4/4  96-104  ramp=time
chorus:  8  4/4  104  sub=2
bridge:  3  7/8 (2+2+3)  e=312
break:   2  4/4  104  mute
outro:   4  4/4  104-72  vol=0.8
