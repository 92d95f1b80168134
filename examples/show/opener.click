# Song 1 of the example show: 4/4, a count-in bar, a patch change at the chorus.
title: Opener
count-in: 1 bar
intro:   2  4/4  120
verse:   4  4/4  120
chorus:  4  4/4  120  sub=2
