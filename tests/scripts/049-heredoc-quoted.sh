name=world
cat <<'EOF'
hello $name
EOF
