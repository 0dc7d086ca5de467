a=5
[[ $a -gt 3 ]] && echo gt
[[ $a -eq 5 && $a -lt 10 ]] && echo range
[[ 2+3 -eq 5 ]] && echo arith
