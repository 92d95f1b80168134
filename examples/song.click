# The song the README's examples use: a count-in, a ramp, an odd bar, a break.
title: Song
count-in: 1 bar
intro:   4  4/4  96
verse:   8  4/4  96  X.x.   cue="Verse"
pre:     4  4/4  96-104  ramp=time
chorus:  8  4/4  104  sub=2  cue@5="Build"
turn:    1  2/4  104
break:   2  4/4  104  mute
outro:   4  4/4  104-80
