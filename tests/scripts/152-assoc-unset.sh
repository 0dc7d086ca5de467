declare -A m=([a]=1 [b]=2)
unset 'm[a]'
echo ${#m[@]} "${!m[@]}"
[[ -v m[b] ]] && echo "b set"
[[ -v m[a] ]] || echo "a unset"
