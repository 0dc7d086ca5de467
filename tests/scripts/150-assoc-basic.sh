declare -A m
m[one]=1
m[two]=2
m[three]=3
echo ${m[two]} ${#m[@]}
for k in one two three; do echo "$k=${m[$k]}"; done
