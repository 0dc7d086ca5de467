s=abcdefghij
n=2
echo ${s:n:n+1} ${s:$((n*2))} ${s: -4:2}
