name=world
cat <<EOF
hello $name
sum $(echo 1)
EOF
