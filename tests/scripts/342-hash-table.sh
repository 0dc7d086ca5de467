# hash: empty table, -r, remembering names, a name not on PATH, hit counts
hash -r
hash; echo "status $?"
hash no_such_command_xyz; echo "missing: $?"
: > e.txt; cat e.txt; cat e.txt; wc -c < e.txt > /dev/null
hash | while IFS=$'\t' read -r hits path; do echo "$hits ${path##*/}"; done
hash -r; hash
