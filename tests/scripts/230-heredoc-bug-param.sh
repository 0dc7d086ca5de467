X=value
cat <<EOF | tr a-z A-Z
x is ${X:-default}
EOF
