export V=1
declare +x V
printenv V || echo "not exported"
echo $V
