f() { declare v=inside; echo $v; }
f
echo "[${v-unset}]"
f2() { declare -g gv=global; }
f2
echo $gv
