unset v
echo "${v:=assigned}"
echo "$v"
