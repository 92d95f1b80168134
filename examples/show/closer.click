# Song 3: a solo to vamp on, and a slowing ending.
title: Closer
count-in: 1 bar
intro:   2  4/4  96
solo:    4  4/4  96
ending:  2  4/4  96-80  ramp=time
