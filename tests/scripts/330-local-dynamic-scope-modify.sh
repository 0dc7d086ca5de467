x=global
f() { local x=f; g; echo "f sees $x"; }
g() { x=changed-by-g; }
f
echo "global $x"
