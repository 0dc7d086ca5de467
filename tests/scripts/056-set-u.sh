set -u
x=1
echo $x
echo $undefined_var
echo never
