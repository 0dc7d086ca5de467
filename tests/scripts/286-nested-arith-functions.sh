sq() { echo $(( $1 * $1 )); }
sum=0
for n in 1 2 3 4; do sum=$(( sum + $(sq $n) )); done
echo $sum
