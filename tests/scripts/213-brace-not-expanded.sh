echo {a}
echo "{a,b}"
echo {a..}
x=1; echo {$x,2}
