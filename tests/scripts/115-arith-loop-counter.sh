i=0 sum=0
while (( i < 100 )); do (( sum += i, i++ )); done
echo $sum
