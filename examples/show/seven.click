# Song 2: 7/8 felt 2+2+3; the count-in is spoken "one, two, one, two, three".
title: Seven
count-in: 1 bar
groove:  4  7/8 (2+2+3)  e=280
vamp:    2  7/8 (2+2+3)  e=280
out:     2  7/8 (2+2+3)  e=280
