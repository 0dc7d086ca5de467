v="a b c"
[[ $v == "a b c" ]] && echo nosplit
e=
[[ -z $e ]] && echo "empty ok"
[[ $unset_thing == "" ]] && echo "unset ok"
