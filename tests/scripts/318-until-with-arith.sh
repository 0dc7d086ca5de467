n=0
until (( n >= 3 )); do n=$((n+1)); done
echo $n
