cat <<EOF
line one
  indented
EOF
