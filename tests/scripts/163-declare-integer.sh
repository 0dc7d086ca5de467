declare -i n=5+5
echo $n
n+=3
echo $n
n="2*4"
echo $n
