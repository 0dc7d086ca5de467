cat <<EOF | tr a-z A-Z; echo "${Y:-fallback}" "$(echo sub)" "$((1+2))"
body
EOF
