x=hello
[[ $x == hello ]] && echo eq
[[ $x != world ]] && echo ne
[[ -n $x && -z "" ]] && echo and
[[ -z $x || $x == h* ]] && echo or
[[ ! $x == z* ]] && echo not
