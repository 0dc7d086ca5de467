words=($(echo "x y z"))
echo ${#words[@]} ${words[2]}
