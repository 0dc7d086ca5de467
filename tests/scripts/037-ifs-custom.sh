IFS=:
s="a:b::c"
for w in $s; do echo "[$w]"; done
