printf '' >/dev/null
cat <<END | while read -r l; do echo "[$l] ${MISSING:-d}"; done
first
second
END
