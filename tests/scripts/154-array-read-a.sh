read -a parts <<< "x y z"
echo ${#parts[@]} ${parts[1]}
