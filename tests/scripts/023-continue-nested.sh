for a in x y; do
  for b in 1 2; do
    [ $b = 2 ] && continue 2
    echo "$a$b"
  done
  echo never
done
