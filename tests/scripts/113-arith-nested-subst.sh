n=3
echo $(( $(echo 4) + n ))
echo $(( $((2 + 3)) * 2 ))
