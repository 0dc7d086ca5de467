a=(x y z)
echo ${a[-1]} ${a[-2]}
a[-1]=Z
echo "${a[@]}"
