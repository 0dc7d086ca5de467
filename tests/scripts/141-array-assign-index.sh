a[0]=x
a[3]=y
echo "${a[@]}" ${#a[@]}
echo "${!a[@]}"
