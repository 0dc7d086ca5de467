a=("a b" c "d  e")
for x in "${a[@]}"; do echo "[$x]"; done
for x in ${a[@]}; do echo "<$x>"; done
echo "${a[*]}"
