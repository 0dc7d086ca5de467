i=0
while [ "$i" != xxx ]; do
  i="${i#0}x"
  echo "i=$i"
done
