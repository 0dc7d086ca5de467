printf '%s-%s\n' a b
printf '%d items\n' 42
printf '[%5s][%-5s]\n' ab cd
printf '%03d %x %X %o\n' 7 255 255 8
