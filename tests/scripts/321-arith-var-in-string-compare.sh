a=10 b=9
if (( a > b )); then echo "numeric: a bigger"; fi
if [[ $a < $b ]]; then echo "string: a sorts first"; fi
