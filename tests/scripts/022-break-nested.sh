for a in x y; do
  for b in 1 2 3; do
    [ $b = 2 ] && break 2
    echo "$a$b"
  done
done
echo done
