x=0
echo 5 | { read x; echo "inner $x"; }
echo "outer $x"
