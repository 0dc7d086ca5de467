let a=3+4 b=a*2
echo $a $b
let "c = (a + b) / 3"
echo $c
let 0; echo $?
let 1; echo $?
