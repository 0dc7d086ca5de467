cmd='echo evaluated'
eval "$cmd"
eval 'x=5; echo $((x*2))'
var=name; eval "$var=value"; echo $name
