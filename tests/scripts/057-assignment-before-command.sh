X=outer
X=inner sh_var_test=1 true
echo $X
f() { echo "in f: $X"; }
X=temp f
echo $X
