X=out
cat <<EOF > "${X}.txt"
written
EOF
cat out.txt
