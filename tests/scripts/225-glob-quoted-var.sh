mkdir g && cd g
touch aa ab
p='a*'
echo $p
echo "$p"
