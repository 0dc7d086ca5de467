{ echo a; echo b; } | sort -r
x=1
{ x=2; }
echo $x
