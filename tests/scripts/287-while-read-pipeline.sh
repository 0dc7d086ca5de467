printf '3\n1\n2\n' | sort | while read -r n; do echo "n=$n"; done
