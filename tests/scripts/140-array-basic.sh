a=(one two three)
echo ${a[0]} ${a[2]}
echo "${a[@]}"
echo ${#a[@]}
echo $a
