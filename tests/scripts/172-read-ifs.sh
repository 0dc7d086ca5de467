IFS=: read -r u p rest <<< "root:x:0:0:root"
echo "$u $p $rest"
