a=(x y z)
IFS=-
echo "${a[*]}"
unset IFS
echo "${a[*]}"
