n=4
cat <<EOF
square $((n * n)), cmd $(echo ok), var ${n}
EOF
