a=(apple banana cherry)
echo "${a[@]^}" "${a[@]/a/A}" "${a[@]#?}"
