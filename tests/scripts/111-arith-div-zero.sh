echo start
echo $((1 / 0))
echo "after $?"
(( 5 % 0 ))
echo "status $?"
