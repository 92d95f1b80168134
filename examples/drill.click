title: Drills
count-in: 1 bar
groove:  8 4/4 90 gap=3:1              # 3 bars with the click, 1 without, again
speed:  24 4/4 80 trainer=+4/2..120    # 4 BPM faster every 2 bars, up to 120
random: 16 4/4 100 gap=25% seed=7      # 4 of the 16 bars silent, the same 4 every time
three:   8 4/4 90 poly=3:clave         # 3 against 4
five:    8 4/4 72 poly=5:cowbell,3     # 5 and 3 against 4
