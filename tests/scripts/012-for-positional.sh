set -- one two three
for a; do echo "arg $a"; done
