eval 'arr=(one two three)'
echo ${arr[1]}
eval "echo \${#arr[@]}"
