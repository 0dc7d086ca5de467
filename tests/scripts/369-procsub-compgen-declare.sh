# Process substitution, compgen/complete, declare with subscripts, ${v@P}/@A/@a.
mapfile -t lines < <(printf 'a\nb\nc\n')
declare -p lines
while read -r l; do echo "got $l"; done < <(echo one; echo two)
source <(echo 'SOURCED=yes')
echo "$SOURCED"
echo <(:) | grep -c '^/dev/fd/'
compgen -W 'alpha beta gamma' -- b
compgen -W 'foo bar baz' -X 'b*'
compgen -P '<' -S '>' -W 'x y'
complete -W 'one two' -o nospace mycmd
complete -p mycmd
complete -r mycmd; complete -p mycmd 2>/dev/null || echo removed
declare 'arr[2+1]=three' 'arr[0]=zero'
declare -p arr
declare -A m
key='a b'
declare "m[$key]=v"
declare -p m
declare -a never
declare -p never
declare -ai nums='(1+2 3*4)'
declare -p nums
declare -c cap=hELLO
echo "$cap ${cap@a}"
v=hello; echo "${v@A}"
p='\$ \\'; echo "${p@P}"
x=$'a\tb'; echo "${x@Q}"
