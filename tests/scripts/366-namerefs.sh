# declare -n: reads, writes, arrays and unset through a name reference
x=1; declare -n r=x; r=2; echo "$x $r ${!r}"
declare -p r
arr=(a b c); declare -n ar=arr; ar[1]=B; echo "${ar[@]} ${#ar[@]} ${!ar[@]}"
set_it() { local -n out=$1; out="set by function"; }
set_it result; echo "$result"
push() { local -n list=$1; list+=("$2"); }
items=(); push items one; push items two; declare -p items
unset r; echo "x=${x-unset}"
declare -n r2=y; y=5; unset -n r2; echo "y=$y r2=${r2-unset}"
declare -l low=MiXeD; declare -u up=MiXeD; echo "$low $up"; low=ABC; echo "$low"
declare -p low up
nl=$'a\nb'; declare -p nl
declare -a 'q=(1 2 3)'; echo "${q[1]} ${#q[@]}"
echo -e 'u:\u0065 end'
