a=(a b c d e f)
echo "${a[@]:2}"
echo "${a[@]:1:3}"
echo "${a[@]: -2}"
