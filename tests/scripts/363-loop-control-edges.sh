# break/continue: in a while condition, out of range, non-numeric (fatal), and not
# reaching the loops around a function or a subshell
while break; do echo never; done; echo "after while-break $?"
i=0
until [ $i -ge 3 ] && break; do i=$((i+1)); done; echo "until $i"
for i in 1 2 3; do break 0; echo "no $i"; done; echo "zero"
for i in 1 2; do for j in a b; do break 5; done; echo "no $i"; done; echo "five"
f() { break; }
for i in 1 2; do f; echo "f $i"; done
for i in 1 2; do (continue); echo "sub $i"; done
n=0
while :; do n=$((n+1)); [ $n -gt 2 ] && break; continue; echo never; done; echo "n=$n"
for i in 1 2 3; do break x; echo "no $i"; done
echo "not reached"
