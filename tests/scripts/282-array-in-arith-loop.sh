a=(5 3 8 1)
max=0
for ((i = 0; i < ${#a[@]}; i++)); do
  (( a[i] > max )) && max=${a[i]}
done
echo $max
