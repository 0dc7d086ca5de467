trap 'echo "ERR caught"' ERR
false
echo after
if false; then :; fi
false || true
echo end
