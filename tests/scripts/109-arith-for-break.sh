for ((i = 0; ; i++)); do
  (( i >= 3 )) && break
  echo "loop $i"
done
