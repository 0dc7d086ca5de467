set -- x y z
echo "$# $1 $3"
f() { echo "$#"; }
f 1 2
echo "$?"
