echo -n "no newline"; echo
echo -e "a\tb\nc"
echo -E "raw\tx"
echo -ne "x\ty\n"
echo -- -n
echo -x
