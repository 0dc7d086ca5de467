declare -a arr=(x "y z")
declare -p arr
declare -i num=7
declare -p num
declare -A as=([k]=v)
declare -p as
