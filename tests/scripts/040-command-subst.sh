x=$(echo inner)
echo "got $x"
echo "nested $(echo $(echo deep))"
y=`echo back`
echo $y
