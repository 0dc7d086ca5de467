for row in "apple 3" "kiwi 12" "banana 7"; do
  set -- $row
  printf '%-8s|%4d\n' "$1" "$2"
done
